/*
 * bounce.c — delivery status notifications (bounce.h).  postern-queued,
 * in its sandbox.  Skeleton: the composer lands next.
 */
#include <errno.h>

#include "bounce.h"

/* NOTIFY semantics of RFC 3461 §4.1 (skeleton). */
int dsn_notify_wants(const unsigned char *notify, size_t n, enum dsn_action a)
{
	(void)notify, (void)n, (void)a;
	return 0;
}

/* Compose and commit a report (skeleton). */
int bounce_queue(struct queued *d, const struct envelope *e, int msgfd,
                 enum dsn_action a, const struct dsn_rcpt *r, size_t n,
                 char id_out[RANDID_LEN + 1])
{
	(void)d, (void)e, (void)msgfd, (void)a, (void)r, (void)n;
	id_out[0] = '\0';
	errno = ENOSYS;
	return -1;
}
