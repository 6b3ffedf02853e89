/*
 * args.h — postern-queued's command line: trusted facts from the master
 * only (never a key: /proc/PID/cmdline is world-readable).
 *
 *   postern-queued -u UID -g GID -r QUEUE_DIR -h HOSTNAME -z SIZE_MAX
 *                  -n RECIPIENTS_MAX -f MINFREE_BYTES -t IDLE_S
 *                  -c SESSIONS_MAX -H 0|1 -I 0|1
 *
 * -u -g -r are required; the rest have the defaults of INSTALL.md.
 * -H: check header From:/Sender: (default 1); -I: client IP in Received:
 * (default 0).  Any bad argument: one log line, exit 111.
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
