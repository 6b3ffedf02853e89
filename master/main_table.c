/*
 * main_table.c — postern-table: `postern-table build FILE` compiles the
 * text table FILE (grammar in lib/tablesrc.h) into FILE.cdb,
 * atomically, for the master to pick up (periodic stat or SIGHUP).
 * Used for senders, routes, quotas and relay-secrets (users are managed
 * with postern-user).  FILE.cdb is written 0644 unless FILE itself is not
 * world-readable, in which case it gets FILE's permission bits (so
 * relay-secrets stays private).  A file named `routes` is checked first:
 * the table grammar and duplicate keys (so those are reported as for any
 * table), then every key and route (lib/routespec.h); a problem is
 * refused with FILE:LINE and the reason, and nothing is written.
 *
 * Process: the operator's shell; no sandbox.  Exit: 0 built, 1 error in
 * the file or usage (FILE:LINE: reason on stderr), 111 system error.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "routespec.h"
#include "tablesrc.h"

/* tablesrc_cb for the routes table: every key and value must parse. */
static int check_route(void *ctx, const char *key, size_t klen, const char *val,
                       size_t vlen, char *err, size_t errcap)
{
	struct routespec r;
	const char *why = NULL;

	(void)ctx;
	if (routespec_key_ok(key, klen, &why) == 0 &&
	    routespec_parse(val, vlen, &r, &why) == 0)
		return 0;
	snprintf(err, errcap, "%s", why);
	return -1;
}

/* tablesrc_cb, first pass: duplicate keys (ctx: a cdb_make on a memfd). */
static int check_dup(void *ctx, const char *key, size_t klen, const char *val,
                     size_t vlen, char *err, size_t errcap)
{
	struct cdb_make *cm = ctx;
	int r = cdb_make_exists(cm, key, (unsigned)klen);

	(void)val;
	(void)vlen;
	if (r > 0) {
		snprintf(err, errcap, "duplicate key \"%.*s\"", (int)klen, key);
		return -1;
	}
	if (r < 0 || cdb_make_add(cm, key, (unsigned)klen, "", 0) != 0) {
		snprintf(err, errcap, "cannot check the table: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Both passes over the routes file.  0, or -1 with FILE:LINE: reason. */
static int check_routes(const char *path, char *err, size_t errcap)
{
	struct cdb_make cm;
	int fd = memfd_create("postern-table-check", MFD_CLOEXEC), rc;

	if (fd < 0 || cdb_make_start(&cm, fd) != 0) {
		snprintf(err, errcap, "%s: cannot check the table: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = tablesrc_parse_file(path, check_dup, &cm, err, errcap);
	(void)cdb_make_finish(&cm);		/* frees tinycdb's buffers */
	close(fd);
	if (rc != 0)
		return -1;
	return tablesrc_parse_file(path, check_route, NULL, err, errcap);
}

/* 1 if path names the routes table (its file name is "routes"). */
static int is_routes(const char *path)
{
	char copy[4096];
	size_t n = strlen(path);

	if (n >= sizeof(copy))
		return 0;
	memcpy(copy, path, n + 1);
	return strcmp(basename(copy), "routes") == 0;
}

int main(int argc, char **argv)
{
	char err[TABLESRC_ERR_MAX];
	struct stat st;

	if (argc != 3 || strcmp(argv[1], "build") != 0) {
		fputs("usage: postern-table build FILE\n", stderr);
		return 1;
	}
	if (stat(argv[2], &st) != 0) {
		fprintf(stderr, "postern-table: %s: cannot read\n", argv[2]);
		return 1;
	}
	if (is_routes(argv[2]) && check_routes(argv[2], err, sizeof(err)) != 0) {
		fprintf(stderr, "postern-table: %s\n", err);
		return 1;
	}
	if (tablesrc_build(argv[2], (st.st_mode & S_IROTH) ? 0644 : (st.st_mode & 0640),
	                   err, sizeof(err)) != 0) {
		fprintf(stderr, "postern-table: %s\n", err);
		return strstr(err, ".tmp.") == NULL ? 1 : 111;
	}
	printf("postern-table: built %s.cdb\n", argv[2]);
	return 0;
}
