/*
 * log.c — one key=value line per event, written with a single write(2) to
 * fd 2 (stderr, or for per-connection processes the log pipe to the master,
 * which prefixes the session id).  Used by every postern process.
 *
 * Line format: "PROG: event=EVENT key=value ...\n", at most LOG_LINE_MAX
 * bytes including the newline.  Keys and values are escaped: every byte
 * outside 0x21..0x7e and every '"', '\\' and '=' becomes "\xNN" (lowercase
 * hex), so untrusted bytes can neither end the line nor forge a key.  A line
 * that does not fit is cut at an escape boundary and ends with
 * " truncated=1".  Failure policy: logging never fails the caller; a failed
 * write is dropped (there is nowhere else to report it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "decimal.h"
#include "log.h"

static const char trunc_tail[] = " truncated=1";
/* Content limit: room is always kept for the tail and the newline. */
#define LL_BODY_MAX (LOG_LINE_MAX - (sizeof(trunc_tail) - 1) - 1)

static char progname[64] = "postern";

/* Remember the program name put at the start of every line. */
void log_init(const char *name)
{
	size_t n = strnlen(name, sizeof(progname) - 1);

	memcpy(progname, name, n);
	progname[n] = '\0';
}

/* 1 if byte c must be written as \xNN inside a key or value. */
static int needs_escape(unsigned char c)
{
	return c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '=';
}

/* Escape src[0..n) into dst[0..cap) without cutting an escape; returns the
 * bytes written and sets *consumed to the source bytes they cover. */
static size_t escape_into(char *dst, size_t cap, const unsigned char *src,
                          size_t n, size_t *consumed)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		unsigned char c = src[i];

		if (!needs_escape(c)) {
			if (cap - o < 1)
				break;
			dst[o++] = (char)c;
		} else {
			if (cap - o < 4)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0x0f];
		}
	}
	*consumed = i;
	return o;
}

/* Escape src[0..n) into dst[cap] as ll_str does, NUL-terminated. */
size_t log_escape(char *dst, size_t cap, const void *src, size_t n)
{
	size_t used, o;

	if (cap == 0)
		return 0;
	o = escape_into(dst, cap - 1, src, n, &used);
	dst[o] = '\0';
	return o;
}

/* Append trusted text as is; cuts and marks the line if it does not fit. */
static void ll_raw(struct logline *l, const char *s, size_t n)
{
	size_t room;

	if (l->truncated)
		return;
	room = LL_BODY_MAX - l->len;
	if (n > room) {
		n = room;
		l->truncated = 1;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Append escaped bytes; cuts at an escape boundary if they do not fit. */
static void ll_esc(struct logline *l, const void *p, size_t n)
{
	size_t used;

	if (l->truncated)
		return;
	l->len += escape_into(l->buf + l->len, LL_BODY_MAX - l->len, p, n, &used);
	if (used < n)
		l->truncated = 1;
}

/* Append " key=" with the key escaped. */
static void ll_key(struct logline *l, const char *key)
{
	ll_raw(l, " ", 1);
	ll_esc(l, key, strlen(key));
	ll_raw(l, "=", 1);
}

/* Begin a line "prog: event=EVENT". */
void ll_begin(struct logline *l, const char *event)
{
	l->len = 0;
	l->truncated = 0;
	ll_raw(l, progname, strlen(progname));
	ll_raw(l, ": event=", 8);
	ll_esc(l, event, strlen(event));
}

/* Append " key=value", value escaped. */
void ll_str(struct logline *l, const char *key, const char *value)
{
	ll_bytes(l, key, value, strlen(value));
}

/* Append " key=value" for n raw bytes, escaped. */
void ll_bytes(struct logline *l, const char *key, const void *p, size_t n)
{
	ll_key(l, key);
	ll_esc(l, p, n);
}

/* Append " key=N" for an unsigned number. */
void ll_u64(struct logline *l, const char *key, uint64_t v)
{
	char d[U64_DEC_MAX];

	ll_key(l, key);
	ll_raw(l, d, u64_to_dec(d, sizeof d, v));
}

/* Append " key=N" for a signed number (INT64_MIN included). */
void ll_i64(struct logline *l, const char *key, int64_t v)
{
	char d[U64_DEC_MAX];
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	ll_key(l, key);
	if (v < 0)
		ll_raw(l, "-", 1);
	ll_raw(l, d, u64_to_dec(d, sizeof d, mag));
}

/* Finish the line and write it to fd 2 in one write(2). */
void ll_emit(struct logline *l)
{
	ssize_t r;

	if (l->truncated) {
		memcpy(l->buf + l->len, trunc_tail, sizeof(trunc_tail) - 1);
		l->len += sizeof(trunc_tail) - 1;
	}
	l->buf[l->len++] = '\n';
	/* One write keeps lines from different processes whole on a pipe
	 * (PIPE_BUF >= 4096).  A short write is not retried: a second write
	 * could interleave with another writer's line. */
	do {
		r = write(2, l->buf, l->len);
	} while (r < 0 && errno == EINTR);
	l->len = 0;
	l->truncated = 0;
}

/* Append printf-formatted trusted text; control bytes are still escaped
 * so that even a mistaken caller cannot split the line. */
__attribute__((format(printf, 2, 0)))
static void ll_vformat(struct logline *l, const char *fmt, va_list ap)
{
	char tmp[LOG_LINE_MAX];
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	size_t len;

	if (n < 0)
		return;
	len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
	for (size_t i = 0; i < len && !l->truncated; i++) {
		unsigned char c = (unsigned char)tmp[i];

		if (c >= 0x20 && c < 0x7f)
			ll_raw(l, &tmp[i], 1);
		else
			ll_esc(l, &tmp[i], 1);
	}
	if ((size_t)n > len)
		l->truncated = 1;
}

/* "prog: event=EVENT <formatted trusted text>". */
void log_event(const char *event, const char *fmt, ...)
{
	struct logline l;
	va_list ap;

	ll_begin(&l, event);
	if (fmt[0] != '\0') {
		ll_raw(&l, " ", 1);
		va_start(ap, fmt);
		ll_vformat(&l, fmt, ap);
		va_end(ap);
	}
	ll_emit(&l);
}

/* "prog: event=fatal reason=<formatted text>", then _exit(111). */
void log_fatal(const char *fmt, ...)
{
	struct logline l;
	va_list ap;

	ll_begin(&l, "fatal");
	ll_raw(&l, " reason=", 8);
	va_start(ap, fmt);
	ll_vformat(&l, fmt, ap);
	va_end(ap);
	ll_emit(&l);
	_exit(111);
}
