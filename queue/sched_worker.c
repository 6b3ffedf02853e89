/*
 * sched_worker.c — queued's side of the delivery workers' job channels
 * (grammar and the `job` writer in lib/jobchan.h, which the workers link
 * too).  postern-queued, in its sandbox: sendmsg (the job
 * frame with the message descriptor), recvfrom (results), close.
 *
 * queued -> worker: `job` job_id route domain helo sender ret envid
 *                   header_block nrcpt {rcpt notify orcpt} + 1 fd (cur/<id>,
 *                   O_RDONLY).  One job per worker at a time.
 * worker -> queued: `rcpt` job_id index ok|temp|perm code status text,
 *                   `done` job_id, `bye`.
 * The worker is less trusted than queued (it talks to hostile MXs): every
 * field is checked (the job it has, an index answered once, a code below
 * 1000, an RFC 3463 status, printable text <= 512 bytes).  Anything else
 * closes that worker only; EOF or a close with a job unfinished makes its
 * unanswered recipients `temp 451 4.4.0` (retried with backoff).  `bye`
 * comes only between jobs: a job without any answer when it arrives was
 * sent while the worker was leaving (after its batch) and never read, so
 * it waits for the next worker, with no attempt counted.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "jobchan.h"
#include "chan.h"
#include "fdpass.h"
#include "log.h"
#include "netstring.h"
#include "sched_int.h"

#define SW_BURST 64	/* result frames taken from one worker per round */

/* An envelope field as the job channel's bytes. */
static struct bytes as_bytes(const struct env_field *f)
{
	struct bytes b = { f->p, f->n };

	return b;
}

/* Send group g of m to w as one `job` frame with the message fd.  0; -1
 * the channel failed; -2 the frame did not fit (grouping keeps jobs under
 * FRAME_MAX, so never expected). */
int sw_send_job(struct sched *s, struct sworker *w, struct smsg *m, struct sgroup *g)
{
	static unsigned char buf[FRAME_MAX];
	struct job_head h = {
		.id = g->job_id, .route = g->route.maildir ? "maildir" : g->route.value,
		.domain = g->route.domain, .helo = s->d->conf.helo,
		.sender = as_bytes(&m->env.sender), .ret = as_bytes(&m->env.ret),
		.envid = as_bytes(&m->env.envid), .header = as_bytes(&m->env.header),
		.nrcpt = g->n,
	};
	struct frame_writer fw;
	const unsigned char *f;
	size_t n;

	fw_init(&fw, buf, sizeof buf);
	job_write_head(&fw, &h);
	for (size_t i = 0; i < g->n; i++) {
		const struct srcpt_env *r = &m->re[g->idx[i]];
		struct bytes addr = as_bytes(&r->addr), notify = as_bytes(&r->notify),
			     orcpt = as_bytes(&r->orcpt);

		job_write_rcpt(&fw, &addr, &notify, &orcpt);
	}
	f = fw_finish(&fw, &n);
	if (f == NULL)
		return -2;
	return fdpass_send(w->fd, f, n, &m->msgfd, 1);
}

/* Close w.  Its unfinished job's recipients become temp, except after
 * `bye` for a job it answered nothing of: a worker says `bye` only
 * between jobs (deliver/main.c, after the `done` of every job it read),
 * so that job was sent while it was leaving and never read; it goes back
 * to waiting, no attempt counted (see header). */
static void close_worker(struct sched *s, struct sworker *w, const char *why, int said_bye)
{
	struct sgroup *g = w->job;
	struct smsg *m = w->job_msg;

	if (w->fd < 0)
		return;
	close(w->fd);
	w->fd = -1;
	w->job = NULL;
	w->job_msg = NULL;
	log_event("worker-closed", "kind=%s slot=%zu reason=%s",
	          w->kind == SW_MAILDIR ? "maildir" : "smtp", (size_t)(w - s->w), why);
	if (g == NULL)
		return;
	if (said_bye && g->answered == 0)
		smsg_group_return(s, m, g);
	else
		smsg_group_end(s, m, g, "delivery worker ended");
}

/* Close w (see close_worker); not after a `bye`. */
void sw_close(struct sched *s, struct sworker *w, const char *why)
{
	close_worker(s, w, why, 0);
}

/* A parsed `rcpt` result for w's job; 0, or -1 (answered twice). */
static int on_rcpt(struct sched *s, struct sworker *w, const struct job_result *r)
{
	struct sgroup *g = w->job;
	size_t ri = g->idx[r->index];

	if (w->job_msg->cls[ri] != 0)
		return -1;	/* answered twice */
	smsg_answer(s, w->job_msg, ri, r->cls, r->code, r->status, r->text);
	g->answered++;
	return 0;
}

/* One frame from w; 0 go on, 1 w was closed (bye or malformed). */
static int on_frame(struct sched *s, struct sworker *w, const unsigned char *p, size_t n)
{
	static struct job_result r;
	struct job_expect x = { w->job != NULL, w->job ? w->job->job_id : 0,
	                       w->job ? w->job->n : 0 };

	if (job_result_parse(p, n, &x, &r) == 0) {
		if (r.kind == JOB_R_RCPT && on_rcpt(s, w, &r) == 0)
			return 0;
		if (r.kind == JOB_R_DONE) {
			struct sgroup *g = w->job;
			struct smsg *m = w->job_msg;

			w->job = NULL;
			w->job_msg = NULL;
			smsg_group_end(s, m, g, "delivery worker gave no result");
			return 0;
		}
		if (r.kind == JOB_R_BYE) {
			close_worker(s, w, "bye", 1);
			return 1;
		}
	}
	sw_close(s, w, "malformed");
	return 1;
}

/* w's channel is readable: take up to SW_BURST frames. */
static void read_frames(struct sched *s, struct sworker *w)
{
	static unsigned char buf[4096];
	const unsigned char *payload;
	size_t plen;
	int reset = 0;

	for (int i = 0; i < SW_BURST && w->fd >= 0; i++) {
		ssize_t n = chan_recv(w->fd, buf, sizeof buf, &payload, &plen, 0);

		if (n < 0 && (errno == EAGAIN || errno == ETIMEDOUT || errno == EINTR))
			return;
		/* The worker exited with a job frame unread in its queue (sent
		 * while it was leaving): the kernel reports ECONNRESET once,
		 * before the frames it sent last (its `done`, its `bye`), which
		 * are still to be read and decide that job's fate. */
		if (n < 0 && errno == ECONNRESET && !reset) {
			reset = 1;
			continue;
		}
		if (n <= 0) {
			sw_close(s, w, n == 0 ? "eof" : "bad-frame");
			return;
		}
		if (on_frame(s, w, payload, plen) != 0)
			return;
	}
}

/* w's channel is readable (see sched_int.h).  The messages this
 * finished are removed by sched_run's dispatch (smsg_flush_removals)
 * right after this round; without a routes table sched_run stops before
 * it, so they are removed here. */
void sw_readable(struct sched *s, struct sworker *w)
{
	read_frames(s, w);
	if (s->d->routes.fd < 0 || !s->d->routes.ready)
		(void)smsg_flush_removals(s);
}
