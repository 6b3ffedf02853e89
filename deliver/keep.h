/*
 * keep.h — the one SMTP session postern-deliver keeps open between jobs
 * (bench/README.md "Scenario D": Postfix reuses its connections to a
 * smarthost, we opened one per job).  Runs in the sandbox.
 *
 * A session is kept after a transaction that ended cleanly (a final reply
 * other than 421, no protocol error; smtpclient.h `reusable`) and serves
 * the next job only if that job has the same route string (so the same
 * tls= policy and auth= name the session was set up under), the same
 * helo name and, for `mx`, the same domain; smtp_reuse then sends RSET
 * and goes on with MAIL.  It is closed (QUIT, then close):
 *  - when the next job has another destination (keep_drop_unless);
 *  - when it sat idle KEEP_IDLE_MS (keep_wait_job polls the job channel
 *    and the session together), or the server closed it or sent bytes
 *    while idle (then without QUIT);
 *  - after KEEP_MAX_TX transactions (keep_store refuses);
 *  - before `bye` and when the channel closes (keep_close).
 * A stale session (RSET refused, connection gone) is closed and the job
 * goes out on a fresh connection (worker.c): nothing of it was sent.
 * Syscalls: poll, close (and conn.h's).
 */
#ifndef POSTERN_DELIVER_KEEP_H
#define POSTERN_DELIVER_KEEP_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "jobchan.h"
#include "reply.h"

#define KEEP_IDLE_MS 3000	/* Postfix: smtp_connection_cache_time_limit 2 s */
#define KEEP_MAX_TX 100		/* Postfix: smtp_connection_reuse_count_limit */
#define KEEP_KEY_MAX (JOB_ROUTE_MAX + 2 * JOB_HOST_MAX + 2)

struct keep {
	struct conn c;			/* the connection, kept or not */
	int open;			/* c holds a kept session */
	struct ehlo_caps caps;		/* its EHLO keywords */
	char host[JOB_HOST_MAX + 1];	/* the server's name (TLS, logs) */
	unsigned char key[KEEP_KEY_MAX];
	size_t keylen;
	unsigned ntx;			/* transactions on it so far */
	int64_t idle_since;		/* clock_ms() of its last transaction */
};

/* 1 if k holds a session for job j's destination. */
int keep_match(const struct keep *k, const struct job *j);

/* Close the kept session unless it matches j ("other-destination"). */
void keep_drop_unless(struct keep *k, const struct job *j);

/* After a transaction on k->c (fresh or reused) that left the session
 * reusable: keep it for j's destination, or QUIT and close it when it
 * reached KEEP_MAX_TX.  fresh: the session was just opened (ntx restarts). */
void keep_store(struct keep *k, const struct job *j, const char *host,
                const struct ehlo_caps *caps, int fresh);

/* QUIT (if quit) and close the kept session; logs why. */
void keep_close(struct keep *k, int quit, const char *why);

/* Wait until the job channel chan is readable, closing the kept session
 * when it idles out or the server ends it meanwhile.  0, or -1 (poll
 * failed: errno). */
int keep_wait_job(struct keep *k, int chan);

#endif
