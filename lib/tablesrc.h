/*
 * tablesrc.h — the text form of postern's tables and its compilation to
 * CDB (DESIGN §5 "Tables"; INSTALL.md "Tables").  Used by postern-table
 * (master/main_table.c) and postern-user (auth/main_user.c), as the
 * operator, never by a sandboxed role.
 *
 * Grammar, one entry per line (LF line ends):
 *   - blank lines and lines whose first non-blank byte is '#' are skipped;
 *   - otherwise: KEY, one or more blanks (space or tab), VALUE; leading
 *     blanks before KEY and trailing blanks after VALUE are dropped;
 *     VALUE may contain blanks (it runs to the end of the line);
 *   - KEY at most TABLESRC_KEY_MAX bytes, a line at most TABLESRC_LINE_MAX;
 *   - only printable ASCII and tab; a CR, NUL or other control byte is an
 *     error (no CRLF files: a stray CR would end up inside a value);
 *   - a key without a value, and a key given twice, are errors.
 * Every error is reported as "FILE:LINE: reason" and nothing is written.
 *
 * Compilation is atomic: a temporary file in the same directory
 * (FILE.cdb.tmp.XXXXXX, mode as asked), cdb_make, fsync, rename over
 * FILE.cdb, fsync of the directory — a reader (the master's periodic
 * stat) sees the old table or the new one, never a half-written one.
 */
#ifndef POSTERN_TABLESRC_H
#define POSTERN_TABLESRC_H

#include <cdb.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define TABLESRC_LINE_MAX 4096
#define TABLESRC_KEY_MAX 255
#define TABLESRC_ERR_MAX (PATH_MAX + 256)

/* Called per entry; return 0, or -1 with a reason in err (the parser adds
 * FILE:LINE). */
typedef int (*tablesrc_cb)(void *ctx, const char *key, size_t klen,
                           const char *val, size_t vlen, char *err, size_t errcap);

/* Parse buf[0..len) named name.  0, or -1 with "name:LINE: reason". */
int tablesrc_parse_buf(const char *name, const char *buf, size_t len,
                       tablesrc_cb cb, void *ctx, char *err, size_t errcap);

/* Read path (at most 64 MiB) and parse it. */
int tablesrc_parse_file(const char *path, tablesrc_cb cb, void *ctx,
                        char *err, size_t errcap);

/* Atomic CDB output. */
struct cdbout {
	int fd;
	char tmp[PATH_MAX];
	char final[PATH_MAX];
	struct cdb_make cm;
	int making;	/* cdb_make_start done, cdb_make_finish not yet */
};

/* Start writing final (mode applied to the new file).  0 or -1. */
int cdbout_open(struct cdbout *o, const char *final, mode_t mode, char *err, size_t errcap);
/* Add a record; 1 if the key already existed (nothing added), 0, -1. */
int cdbout_add(struct cdbout *o, const void *k, size_t kl, const void *v, size_t vl);
/* Finish, fsync, rename, fsync the directory.  0 or -1 (temp removed). */
int cdbout_commit(struct cdbout *o, char *err, size_t errcap);
/* Give up: close and remove the temporary file. */
void cdbout_abort(struct cdbout *o);

/* Write data[0..n) to path atomically the same way (text files). */
int atomic_write(const char *path, const void *data, size_t n, mode_t mode,
                 char *err, size_t errcap);

/* postern-table build FILE: FILE -> FILE.cdb with mode.  0 or -1 with
 * the reason. */
int tablesrc_build(const char *path, mode_t mode, char *err, size_t errcap);

#endif
