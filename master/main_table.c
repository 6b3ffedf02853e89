/*
 * main_table.c — postern-table: `postern-table build FILE` compiles the
 * text table FILE (grammar in lib/tablesrc.h) into FILE.cdb,
 * atomically, for the master to pick up (periodic stat or SIGHUP).
 * Used for senders, routes, quotas and relay-secrets (users are managed
 * with postern-user).  FILE.cdb is written 0644 unless FILE itself is not
 * world-readable, in which case it gets FILE's permission bits (so
 * relay-secrets stays private).
 *
 * Process: the operator's shell; no sandbox.  Exit: 0 built, 1 error in
 * the file or usage (FILE:LINE: reason on stderr), 111 system error.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tablesrc.h"

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
	if (tablesrc_build(argv[2], (st.st_mode & S_IROTH) ? 0644 : (st.st_mode & 0640),
	                   err, sizeof(err)) != 0) {
		fprintf(stderr, "postern-table: %s\n", err);
		return strstr(err, ".tmp.") == NULL ? 1 : 111;
	}
	printf("postern-table: built %s.cdb\n", argv[2]);
	return 0;
}
