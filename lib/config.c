/*
 * config.c — reading "key = value" files: postern.conf and the text sources
 * of the tables.  Used by the master and the admin tools, before any
 * sandbox; it opens the one file it is given and nothing else.
 *
 * Grammar, per line (LF-terminated; the last line may lack the LF; one CR
 * before the LF is ignored):
 *   blank line | [blanks] "#" anything | [blanks] key [blanks] "=" [blanks] value [blanks]
 *   key = 1*( %x61-7a / DIGIT / "_" ), value = non-empty, runs to the end
 *   of the line (a '#' inside it is part of the value).
 * Blanks are space and tab.  A line is at most CONF_LINE_MAX - 1 bytes
 * without its LF.  A NUL byte or another control byte (except tab) is an
 * error: such a file was not written by an operator's editor.
 * Failure policy: the first error stops parsing and is reported as
 * "FILE:LINE: reason"; a file-level error (open, read, size) as
 * "FILE: reason".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "readfull.h"

/* A configuration or table source larger than this is refused. */
#define CONF_FILE_MAX (64u * 1024 * 1024)

/* Write a reason into err[errcap] (safe for errcap 0). */
static void set_err(char *err, size_t errcap, const char *reason)
{
	if (errcap > 0)
		snprintf(err, errcap, "%s", reason);
}

/* 1 for the blanks that surround keys and values. */
static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* 1 for the bytes allowed in a key. */
static int is_key_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Check the bytes of one line; NULL if fine, else the reason. */
static const char *line_bytes_error(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return "NUL byte";
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "control character";
	}
	return NULL;
}

/* Parse one line s[0..n) (no LF, no CR) into key and value and call cb.
 * Returns 0 or -1 with the reason in reason[rcap]. */
static int parse_line(char *s, size_t n, conf_cb cb, void *ctx,
                      char *reason, size_t rcap)
{
	const char *bad = line_bytes_error(s, n);
	size_t i = 0, kend, eq, vbeg, vend;

	if (bad != NULL) {
		set_err(reason, rcap, bad);
		return -1;
	}
	while (i < n && is_blank(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return 0;
	eq = i;
	while (eq < n && s[eq] != '=')
		eq++;
	if (eq == n) {
		set_err(reason, rcap, "expected key = value");
		return -1;
	}
	kend = eq;
	while (kend > i && is_blank(s[kend - 1]))
		kend--;
	for (size_t k = i; k < kend; k++) {
		if (!is_key_byte(s[k])) {
			set_err(reason, rcap, "invalid key (allowed: a-z 0-9 _)");
			return -1;
		}
	}
	if (kend == i) {
		set_err(reason, rcap, "empty key");
		return -1;
	}
	vbeg = eq + 1;
	while (vbeg < n && is_blank(s[vbeg]))
		vbeg++;
	vend = n;
	while (vend > vbeg && is_blank(s[vend - 1]))
		vend--;
	if (vend == vbeg) {
		set_err(reason, rcap, "empty value");
		return -1;
	}
	s[kend] = '\0';
	s[vend] = '\0';
	reason[0] = '\0';
	if (cb(ctx, s + i, s + vbeg, reason, rcap) != 0) {
		if (reason[0] == '\0')
			set_err(reason, rcap, "rejected");
		return -1;
	}
	return 0;
}

/* Parse buf[0..len) named name (see the grammar above). */
int conf_parse_buf(const char *name, const char *buf, size_t len, conf_cb cb,
                   void *ctx, char *err, size_t errcap)
{
	char line[CONF_LINE_MAX];
	char reason[CONF_ERR_MAX];
	size_t pos = 0, lineno = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		size_t next = pos + n + (nl != NULL);

		lineno++;
		if (n >= CONF_LINE_MAX) {
			set_err(reason, sizeof(reason), "line too long");
			goto fail;
		}
		memcpy(line, buf + pos, n);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		if (parse_line(line, n, cb, ctx, reason, sizeof(reason)) != 0)
			goto fail;
		pos = next;
	}
	return 0;
fail:
	if (errcap > 0)
		snprintf(err, errcap, "%s:%zu: %s", name, lineno, reason);
	return -1;
}

/* Read the whole regular file fd into a new buffer; NULL with errno. */
static char *read_all(int fd, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t got;

	if (fstat(fd, &st) != 0)
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > CONF_FILE_MAX) {
		errno = EFBIG;
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		return NULL;
	/* One byte more than fstat said: a file that grew meanwhile shows. */
	got = read_full(fd, buf, (size_t)st.st_size + 1);
	if (got < 0 || got > (ssize_t)st.st_size) {
		free(buf);
		if (got >= 0)
			errno = EAGAIN;	/* changed while read */
		return NULL;
	}
	*len = (size_t)got;
	return buf;
}

/* Parse the file at path (see conf_parse_buf). */
int conf_parse_file(const char *path, conf_cb cb, void *ctx, char *err, size_t errcap)
{
	char *buf;
	size_t len = 0;
	int fd, rc, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errcap > 0)
			snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	buf = read_all(fd, &len);
	saved = errno;
	close(fd);
	if (buf == NULL) {
		if (errcap > 0)
			snprintf(err, errcap, "%s: cannot read: %s", path,
			         saved == EINVAL ? "not a regular file" : strerror(saved));
		return -1;
	}
	rc = conf_parse_buf(path, buf, len, cb, ctx, err, errcap);
	free(buf);
	return rc;
}

/* Parse leading decimal digits of s; returns the first byte after them,
 * or NULL if there are none or the number overflows. */
static const char *parse_digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	if (p == s)
		return NULL;
	*out = v;
	return p;
}

/* Check min <= v <= max, or write the allowed range into err. */
static int check_range(uint64_t v, uint64_t min, uint64_t max, const char *unit,
                       char *err, size_t errcap)
{
	if (v >= min && v <= max)
		return 0;
	if (errcap > 0)
		snprintf(err, errcap, "out of range (%llu..%llu%s)",
		         (unsigned long long)min, (unsigned long long)max, unit);
	return -1;
}

/* A plain decimal number in [min, max]. */
int conf_u64(const char *value, uint64_t min, uint64_t max, uint64_t *out,
             char *err, size_t errcap)
{
	uint64_t v;
	const char *end = parse_digits(value, &v);

	if (end == NULL || *end != '\0') {
		set_err(err, errcap, end == NULL && value[0] >= '0' && value[0] <= '9'
		        ? "number too large" : "expected a decimal number");
		return -1;
	}
	if (check_range(v, min, max, "", err, errcap) != 0)
		return -1;
	*out = v;
	return 0;
}

/* Multiply v by mul unless it overflows; -1 with a reason on overflow. */
static int scale(uint64_t *v, uint64_t mul, char *err, size_t errcap)
{
	if (*v > UINT64_MAX / mul) {
		set_err(err, errcap, "number too large");
		return -1;
	}
	*v *= mul;
	return 0;
}

/* A number with an optional K, M or G suffix (powers of 1024). */
int conf_size(const char *value, uint64_t min, uint64_t max, uint64_t *out,
              char *err, size_t errcap)
{
	uint64_t v, mul = 1;
	const char *end = parse_digits(value, &v);

	if (end == NULL) {
		set_err(err, errcap, value[0] >= '0' && value[0] <= '9'
		        ? "number too large" : "expected a size like 1024, 10K, 25M, 1G");
		return -1;
	}
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1024; end++; break;
	case 'm': case 'M': mul = 1024 * 1024; end++; break;
	case 'g': case 'G': mul = 1024 * 1024 * 1024; end++; break;
	default: end = NULL; break;
	}
	if (end == NULL || *end != '\0') {
		set_err(err, errcap, "expected a size like 1024, 10K, 25M, 1G");
		return -1;
	}
	if (scale(&v, mul, err, errcap) != 0 ||
	    check_range(v, min, max, " bytes", err, errcap) != 0)
		return -1;
	*out = v;
	return 0;
}

/* A number of seconds with an optional s, m, h or d suffix. */
int conf_duration(const char *value, uint64_t min_s, uint64_t max_s,
                  uint64_t *out_s, char *err, size_t errcap)
{
	uint64_t v, mul = 1;
	const char *end = parse_digits(value, &v);

	if (end == NULL) {
		set_err(err, errcap, value[0] >= '0' && value[0] <= '9'
		        ? "number too large" : "expected a duration like 300, 30s, 5m, 1h, 2d");
		return -1;
	}
	switch (*end) {
	case '\0': break;
	case 's': end++; break;
	case 'm': mul = 60; end++; break;
	case 'h': mul = 3600; end++; break;
	case 'd': mul = 86400; end++; break;
	default: end = NULL; break;
	}
	if (end == NULL || *end != '\0') {
		set_err(err, errcap, "expected a duration like 300, 30s, 5m, 1h, 2d");
		return -1;
	}
	if (scale(&v, mul, err, errcap) != 0 ||
	    check_range(v, min_s, max_s, " seconds", err, errcap) != 0)
		return -1;
	*out_s = v;
	return 0;
}

/* yes/no, true/false, on/off, 1/0 (any case). */
int conf_bool(const char *value, int *out, char *err, size_t errcap)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	set_err(err, errcap, "expected yes or no");
	return -1;
}
