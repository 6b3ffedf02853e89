/*
 * tablesrc.c — text tables to CDB (grammar and atomicity in tablesrc.h).
 * Runs in the admin tools (postern-table, postern-user) as the operator.
 * Failure policy: any error leaves the old FILE.cdb in place and removes
 * the temporary file.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readfull.h"
#include "tablesrc.h"

#define FILE_MAX (64u * 1024 * 1024)

/* 1 for a blank (space or tab). */
static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Check and split one line; 0 skip, 1 entry, -1 error (reason in err). */
static int split_line(const char *p, size_t n, const char **k, size_t *kl,
                      const char **v, size_t *vl, char *err, size_t errcap)
{
	size_t i = 0, j;

	if (n > TABLESRC_LINE_MAX)
		return snprintf(err, errcap, "line longer than %d bytes", TABLESRC_LINE_MAX), -1;
	for (j = 0; j < n; j++) {
		unsigned char c = (unsigned char)p[j];

		if (c != '\t' && (c < 0x20 || c > 0x7e))
			return snprintf(err, errcap, "byte 0x%02x not allowed (printable "
			                "ASCII and tab only; no CRLF)", c), -1;
	}
	while (i < n && blank(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return 0;
	*k = p + i;
	while (i < n && !blank(p[i]))
		i++;
	*kl = (size_t)(p + i - *k);
	if (*kl > TABLESRC_KEY_MAX)
		return snprintf(err, errcap, "key longer than %d bytes", TABLESRC_KEY_MAX), -1;
	while (i < n && blank(p[i]))
		i++;
	while (n > i && blank(p[n - 1]))
		n--;
	if (i == n)
		return snprintf(err, errcap, "key \"%.*s\" has no value", (int)*kl, *k), -1;
	*v = p + i;
	*vl = n - i;
	return 1;
}

/* Parse a buffer (see tablesrc.h). */
int tablesrc_parse_buf(const char *name, const char *buf, size_t len,
                       tablesrc_cb cb, void *ctx, char *err, size_t errcap)
{
	unsigned long line = 0;
	size_t off = 0;
	char why[512];

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		const char *k = NULL, *v = NULL;
		size_t kl = 0, vl = 0;
		int r;

		line++;
		why[0] = '\0';
		r = split_line(buf + off, n, &k, &kl, &v, &vl, why, sizeof(why));
		if (r > 0 && cb(ctx, k, kl, v, vl, why, sizeof(why)) != 0)
			r = -1;
		if (r < 0) {
			snprintf(err, errcap, "%s:%lu: %s", name, line, why);
			return -1;
		}
		off += n + (nl != NULL);
	}
	return 0;
}

/* Read and parse a file (see tablesrc.h). */
int tablesrc_parse_file(const char *path, tablesrc_cb cb, void *ctx,
                        char *err, size_t errcap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t got;
	int rc;

	if (fd < 0)
		return snprintf(err, errcap, "%s: %s", path, strerror(errno)), -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > FILE_MAX) {
		close(fd);
		return snprintf(err, errcap, "%s: not a regular file of at most 64 MiB", path), -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return snprintf(err, errcap, "%s: out of memory", path), -1;
	}
	got = read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got < 0) {
		free(buf);
		return snprintf(err, errcap, "%s: %s", path, strerror(errno)), -1;
	}
	rc = tablesrc_parse_buf(path, buf, (size_t)got, cb, ctx, err, errcap);
	free(buf);
	return rc;
}

/* fsync the directory holding path (the rename's durability). */
static int sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Start writing (see tablesrc.h). */
int cdbout_open(struct cdbout *o, const char *final, mode_t mode, char *err, size_t errcap)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (snprintf(o->final, sizeof(o->final), "%s", final) >= (int)sizeof(o->final) ||
	    snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", final) >= (int)sizeof(o->tmp))
		return snprintf(err, errcap, "%s: path too long", final), -1;
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0 || fchmod(o->fd, mode) != 0) {
		snprintf(err, errcap, "%s: %s", o->tmp, strerror(errno));
		cdbout_abort(o);
		return -1;
	}
	if (cdb_make_start(&o->cm, o->fd) != 0) {
		snprintf(err, errcap, "%s: cdb_make_start failed", o->tmp);
		cdbout_abort(o);
		return -1;
	}
	o->making = 1;
	return 0;
}

/* Add one record (see tablesrc.h). */
int cdbout_add(struct cdbout *o, const void *k, size_t kl, const void *v, size_t vl)
{
	int r;

	if (kl > UINT_MAX || vl > UINT_MAX)
		return -1;
	r = cdb_make_exists(&o->cm, k, (unsigned)kl);
	if (r != 0)
		return r > 0 ? 1 : -1;
	return cdb_make_add(&o->cm, k, (unsigned)kl, v, (unsigned)vl) == 0 ? 0 : -1;
}

/* Give up (see tablesrc.h). */
void cdbout_abort(struct cdbout *o)
{
	/* tinycdb has no way to drop a table being made but finishing it:
	 * that frees its buffers, and the file is removed right after. */
	if (o->making)
		(void)cdb_make_finish(&o->cm);
	o->making = 0;
	if (o->fd >= 0) {
		close(o->fd);
		unlink(o->tmp);
	}
	o->fd = -1;
}

/* Finish (see tablesrc.h). */
int cdbout_commit(struct cdbout *o, char *err, size_t errcap)
{
	o->making = 0;
	if (cdb_make_finish(&o->cm) != 0 || fsync(o->fd) != 0) {
		snprintf(err, errcap, "%s: %s", o->tmp, strerror(errno));
		cdbout_abort(o);
		return -1;
	}
	if (close(o->fd) != 0 || rename(o->tmp, o->final) != 0) {
		snprintf(err, errcap, "%s: %s", o->final, strerror(errno));
		o->fd = -1;
		unlink(o->tmp);
		return -1;
	}
	o->fd = -1;
	if (sync_dir(o->final) != 0)
		return snprintf(err, errcap, "%s: directory fsync: %s", o->final,
		                strerror(errno)), -1;
	return 0;
}

/* Atomic text write (see tablesrc.h). */
int atomic_write(const char *path, const void *data, size_t n, mode_t mode,
                 char *err, size_t errcap)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return snprintf(err, errcap, "%s: path too long", path), -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return snprintf(err, errcap, "%s: %s", tmp, strerror(errno)), -1;
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	if (sync_dir(path) != 0)
		return snprintf(err, errcap, "%s: directory fsync: %s", path, strerror(errno)), -1;
	return 0;
fail:
	snprintf(err, errcap, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* Add one parsed entry to the CDB; duplicates are errors. */
static int build_cb(void *ctx, const char *k, size_t kl, const char *v, size_t vl,
                    char *err, size_t errcap)
{
	int r = cdbout_add(ctx, k, kl, v, vl);

	if (r == 1)
		return snprintf(err, errcap, "duplicate key \"%.*s\"", (int)kl, k), -1;
	if (r < 0)
		return snprintf(err, errcap, "cannot write the table: %s", strerror(errno)), -1;
	return 0;
}

/* postern-table build FILE (see tablesrc.h). */
int tablesrc_build(const char *path, mode_t mode, char *err, size_t errcap)
{
	struct cdbout o;
	char final[PATH_MAX];

	if (snprintf(final, sizeof(final), "%s.cdb", path) >= (int)sizeof(final))
		return snprintf(err, errcap, "%s: path too long", path), -1;
	if (cdbout_open(&o, final, mode, err, errcap) != 0)
		return -1;
	if (tablesrc_parse_file(path, build_cb, &o, err, errcap) != 0) {
		cdbout_abort(&o);
		return -1;
	}
	return cdbout_commit(&o, err, errcap);
}
