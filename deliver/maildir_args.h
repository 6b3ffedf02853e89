/*
 * maildir_args.h — postern-maildir's command line: trusted facts from the
 * master (which opened the maildir root, derived its owner with fstat and
 * refused root and owners below maildir_uid_min), still checked here so a
 * master bug fails closed:
 *
 *   postern-maildir -u UID -g GID -r CHROOT -m UID_MIN -n JOBS -h HOST
 *
 *   -u, -g   the maildir owner's numeric ids (never 0)
 *   -r       the maildir root's absolute path (= the chroot; must be the
 *            same inode as descriptor 4)
 *   -m       maildir_uid_min: the worker refuses to run as a uid below it
 *   -n       jobs per batch (1..100000): after that many it sends `bye`
 *   -h       the host name for maildir file names (printable ASCII; '/'
 *            and ':' are escaped as the maildir convention asks)
 *
 * Any missing or invalid argument: one log line and exit 111.  Runs
 * before the sandbox; touches no descriptor.
 */
#ifndef POSTERN_DELIVER_MAILDIR_ARGS_H
#define POSTERN_DELIVER_MAILDIR_ARGS_H

#include <stdint.h>
#include <sys/types.h>

struct maildir_args {
	uid_t uid;
	gid_t gid;
	const char *root;
	uint64_t uid_min;
	uint64_t jobs;
	const char *host;
};

/* Parse argv into a.  0, or -1 with a constant reason in *why. */
int maildir_args_parse(int argc, char *const argv[], struct maildir_args *a,
                       const char **why);

#endif
