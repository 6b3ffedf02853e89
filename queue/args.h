/*
 * args.h — postern-queued's command line: trusted facts from the master
 * only (never a key: /proc/PID/cmdline is world-readable).
 *
 *   postern-queued -u UID -g GID -r QUEUE_DIR -h HOSTNAME -z SIZE_MAX
 *                  -n RECIPIENTS_MAX -f MINFREE_BYTES -t IDLE_S
 *                  -c SESSIONS_MAX -H 0|1 -I 0|1 [-S 0|1]
 *                  -O HELO -R RETRY_MIN_S -X RETRY_MAX_S -L LIFETIME_S
 *                  -D DELAY_NOTICE_S -W CONCURRENCY -P PER_DESTINATION
 *
 * -u -g -r are required; the rest have the defaults of INSTALL.md (the
 * scheduler's: HELO = -h, retries 300 s doubling to 3600 s, lifetime
 * 432000 s, delay notice 14400 s (0 = off), 20 jobs, 4 per destination).
 * A RETRY_MAX_S below RETRY_MIN_S is raised to it; PER_DESTINATION above
 * CONCURRENCY is lowered to it.
 * -H: check header From:/Sender: (default 1); -I: client IP in Received:
 * (default 0); -S 1: queue_sync = syncfs (commit.c; default 0, fsync).
 * Any bad argument: one log line, exit 111.
 */
#ifndef POSTERN_QUEUE_ARGS_H
#define POSTERN_QUEUE_ARGS_H

#include <limits.h>
#include <sys/types.h>

#include "queued.h"

struct queued_args {
	uid_t uid;
	gid_t gid;
	char root[PATH_MAX];
	struct queued_conf conf;
};

/* Parse argv; 0, or -1 with *why set. */
int queued_args_parse(int argc, char *argv[], struct queued_args *a, const char **why);

#endif
