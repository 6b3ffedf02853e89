/*
 * worker.h — one job of postern-deliver from frame to results: parse the
 * `job` frame (lib/jobchan.h) and its route (route.h), check the envelope, find
 * the targets (dns.h), try them in order (conn.h, smtpclient.h) until one
 * transaction decides, then send one `rcpt` frame per recipient and
 * `done` on the job channel, and log one line per recipient.  A session
 * that ended cleanly stays open for the next job to the same destination
 * (keep.h).
 */
#ifndef POSTERN_DELIVER_WORKER_H
#define POSTERN_DELIVER_WORKER_H

#include <openssl/ssl.h>
#include <resolv.h>

#include "args.h"
#include "cdbfd.h"
#include "jobchan.h"
#include "keep.h"
#include "route.h"
#include "smtpclient.h"

struct worker {
	const struct deliver_args *args;
	int chan;			/* the job channel (fd 3) */
	struct __res_state res;
	SSL_CTX *tls;
	int tls_verify_ready;
	struct cdbfd secrets;		/* relay-secrets.cdb, or fd -1 */
	struct job job;
	struct route route;		/* job.route as route.h reads it */
	struct rcpt_result res_rcpt[JOB_RCPT_MAX];
	int misbehaved;			/* a peer broke the protocol: recycle */
	struct keep keep;		/* the session kept for the next job */
};

/* worker_job: queued closed the channel before the results were sent. */
#define WORKER_GONE 1

/* Deliver the job in payload with message fd msgfd (closed here) and
 * report on w->chan.  0; WORKER_GONE if queued has closed the channel
 * (the caller leaves as at end of file); or -1 if the frame is malformed
 * or the channel failed otherwise (the caller exits 111). */
int worker_job(struct worker *w, const unsigned char *payload, size_t plen, int msgfd);

#endif
