/*
 * args.h — postern-authd's command line (trusted facts from the master,
 * master/authd.c):
 *   postern-authd -u UID -g GID -r CHROOT -w WORKERS -q QUEUE_MAX
 *                 -c CACHE_TTL_S -d IP_DELAY_AFTER -x IP_REFUSE_AFTER
 *                 -l LOGIN_DELAY_AFTER -m DELAY_MAX_S -W FAIL_WINDOW_S
 * All required; a missing or invalid one is fatal (exit 111).
 */
#ifndef POSTERN_AUTH_ARGS_H
#define POSTERN_AUTH_ARGS_H

#include <stdint.h>
#include <sys/types.h>

struct authd_args {
	uid_t uid;
	gid_t gid;
	const char *root;
	uint64_t workers, queue_max, cache_ttl;
	uint64_t ip_delay_after, ip_refuse_after, login_delay_after;
	uint64_t delay_max, fail_window;
};

/* Parse argv into a.  0, or -1 with the reason in *why. */
int authd_args_parse(int argc, char **argv, struct authd_args *a, const char **why);

#endif
