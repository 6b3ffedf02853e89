/*
 * sched_msg.c — one message's attempt round (sched_int.h): take it
 * (new/ -> cur/, envelope and state/<id> read), look its recipients' routes
 * up and group them into jobs, hand the jobs to idle workers within the
 * concurrency limits, and when every job has answered record the
 * results.  postern-queued, in its sandbox: renameat, openat O_RDONLY,
 * fstat + mmap (cdb), unlinkat, fsync.
 *
 * The end of a round (finish): each answer is logged (event=delivered,
 * deferred, bounced or expired; INSTALL.md "Delivery scheduling"); failed
 * recipients whose NOTIFY wants it get one RFC 3464 report (bounce_queue,
 * committed durably before anything is removed); a delay notice is sent once
 * after -D when NOTIFY allows; then either the message is complete — it stays
 * in the active list (busy for hold/delete) until the end of the poll round's
 * dispatch, where every complete message of the round is removed together
 * (smsg_flush_removals): each cur/<id> first (the commit point of "done"),
 * one fsync of cur/, then each env/<id> and state/<id> — or state/<id> is
 * written (sched_state.c) and the message waits min(-R * 2^(attempts-1), -X)
 * seconds.  A message older than -L (from its arrival) is not tried again: its
 * open recipients fail with 4.4.7.  A report to <> is never made (a bounce
 * that bounces is logged and dropped).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobchan.h"
#include "bounce.h"
#include "log.h"
#include "netstring.h"
#include "sched_int.h"

/* Room in a job frame for the fixed fields (verb, id, route, domain,
 * helo, numbers, framing). */
#define JOB_FIXED_BYTES (SROUTE_VALUE_MAX + 2 * SROUTE_DOMAIN_MAX + 256)

/* Release m's resources (not its index entry). */
static void msg_free(struct smsg *m)
{
	if (m->env.loaded)
		envelope_free(&m->env);
	if (m->envfd >= 0)
		close(m->envfd);
	if (m->msgfd >= 0)
		close(m->msgfd);
	for (size_t i = 0; m->g != NULL && i < m->ng; i++)
		free(m->g[i].idx);
	free(m->g);
	free(m->re);
	free(m->cls);
	sstate_free(&m->st);
	free(m);
}

/* Put e back into the index, due at due. */
static void requeue(struct sched *s, struct sentry *e, int64_t due)
{
	e->active = 0;
	e->due = due;
	if (six_push(&s->ix, e) < 0) {
		log_event("sched-index-full", "id=%s reason=out-of-memory", e->id);
		free(e);	/* found again at the next start */
	}
}

/* Move a message whose files cannot be trusted to hold/ (fail closed:
 * never delivered on a guess, never dropped). */
static void hold_message(struct sched *s, struct sentry *e, const char *why)
{
	const struct qdir *q = &s->d->q;

	if (renameat(q->d[e->where], e->id, q->d[QD_HOLD], e->id) == 0) {
		(void)fsync(q->d[QD_HOLD]);
		log_event("held", "id=%s reason=%s", e->id, why);
		free(e);
		return;
	}
	log_event("hold-failed", "id=%s reason=%s", e->id, why);
	requeue(s, e, (int64_t)time(NULL) + (int64_t)s->d->conf.retry_max_s);
}

/* envelope_rcpts callback: collect each recipient's fields. */
static int collect(void *ctx, const struct env_field *a, const struct env_field *n,
                   const struct env_field *o)
{
	struct smsg *m = ctx;
	size_t i = m->ng++;	/* ng counts recipients while collecting */

	if (i >= m->st.n)
		return 1;
	m->re[i].addr = *a;
	m->re[i].notify = *n;
	m->re[i].orcpt = *o;
	return 0;
}

/* Open the envelope, message and state of e into m.  0; 1 dropped (gone
 * meanwhile); -1 held; -2 no descriptor or memory (retry soon). */
static int msg_open(struct sched *s, struct sentry *e, struct smsg *m)
{
	const struct qdir *q = &s->d->q;
	int fd;

	m->envfd = openat(q->d[QD_ENV], e->id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (m->envfd < 0)
		return errno == ENOENT ? 1 : -2;
	if (envelope_load(&m->env, m->envfd) < 0)
		return -1;
	m->msgfd = openat(q->d[QD_CUR], e->id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (m->msgfd < 0)
		return errno == ENOENT ? 1 : -2;
	if (m->env.nrcpt > SIZE_MAX / sizeof *m->re || sstate_alloc(&m->st, m->env.nrcpt) < 0)
		return -2;
	m->re = calloc(m->st.n, sizeof *m->re);
	m->cls = calloc(m->st.n, 1);
	if (m->re == NULL || m->cls == NULL)
		return -2;
	if (envelope_rcpts(&m->env, collect, m) < 0 || m->ng != m->st.n)
		return -1;
	m->ng = 0;
	fd = openat(q->d[QD_STATE], e->id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -2;
	if (sstate_read(fd, e->id, &m->st) < 0) {
		close(fd);
		return -3;
	}
	close(fd);
	return 0;
}

/* Group the routed recipients (route[i].value[0] != 0) into jobs. */
static int make_groups(struct sched *s, struct smsg *m, struct sroute *rt)
{
	size_t n = m->st.n, fixed, budget, *of, *bytes, k = 0;
	const char **dest;
	size_t *which;
	int rc = -1;

	fixed = JOB_FIXED_BYTES + m->env.sender.n + m->env.ret.n + m->env.envid.n +
	        m->env.header.n + strlen(s->d->conf.helo);
	budget = fixed < FRAME_MAX ? FRAME_MAX - fixed : 0;
	dest = calloc(n, sizeof *dest);
	bytes = calloc(n, sizeof *bytes);
	of = calloc(n, sizeof *of);
	which = calloc(n, sizeof *which);
	if (dest == NULL || bytes == NULL || of == NULL || which == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (rt[i].value[0] == '\0')
			continue;
		dest[k] = rt[i].dest;
		bytes[k] = m->re[i].addr.n + m->re[i].notify.n + m->re[i].orcpt.n + 32;
		which[k++] = i;
	}
	m->ng = sched_group(dest, bytes, k, budget, JOB_RCPT_MAX, of);
	m->g = calloc(m->ng ? m->ng : 1, sizeof *m->g);
	if (m->g == NULL)
		goto out;
	for (size_t g = 0; g < m->ng; g++) {
		m->g[g].idx = calloc(k, sizeof *m->g[g].idx);
		if (m->g[g].idx == NULL)
			goto out;
	}
	for (size_t j = 0; j < k; j++) {
		struct sgroup *g = &m->g[of[j]];

		if (g->n == 0)
			g->route = rt[which[j]];
		g->idx[g->n++] = which[j];
	}
	m->groups_left = m->ng;
	rc = 0;
out:
	free(dest);
	free(bytes);
	free(of);
	free(which);
	return rc;
}

static void finish(struct sched *s, struct smsg *m);

/* Route every pending recipient; answer those without a route or past
 * the lifetime at once; group the rest.  0 or -1 (out of memory). */
static int plan(struct sched *s, struct smsg *m, int64_t now)
{
	struct sroute *rt = calloc(m->st.n, sizeof *rt);
	int expired = (uint64_t)now >= m->env.time_v + s->d->conf.lifetime_s;
	int rc;

	if (rt == NULL)
		return -1;
	for (size_t i = 0; i < m->st.n; i++) {
		const struct env_field *a = &m->re[i].addr;

		if (m->st.r[i].st != RS_PENDING)
			continue;
		if (expired)
			m->cls[i] = 'x';
		else if (sroute_lookup(&s->d->routes, a->p, a->n, &rt[i]) != 1) {
			rt[i].value[0] = '\0';
			smsg_answer(s, m, i, 't', 451, "4.3.5", "no route for domain");
		}
	}
	rc = make_groups(s, m, rt);
	free(rt);
	return rc;
}

/* Take e (see sched_int.h): 0, or -1 to stop taking for this round. */
int smsg_take(struct sched *s, struct sentry *e, int64_t now)
{
	const struct qdir *q = &s->d->q;
	struct smsg *m;
	int r;

	if (e->where == QD_NEW) {
		if (renameat(q->d[QD_NEW], e->id, q->d[QD_CUR], e->id) != 0) {
			if (errno == ENOENT) {	/* held or deleted by the admin */
				free(e);
				return 0;
			}
			log_event("take-failed", "id=%s errno=%d", e->id, errno);
			requeue(s, e, now + (int64_t)s->d->conf.retry_min_s);
			return 0;
		}
		e->where = QD_CUR;
	}
	m = calloc(1, sizeof *m);
	if (m == NULL) {
		requeue(s, e, now + 1);
		return -1;
	}
	m->envfd = m->msgfd = -1;
	m->e = e;
	r = msg_open(s, e, m);
	if (r == 0 && m->st.next > (uint64_t)now && !e->forced) {
		int64_t next = (int64_t)m->st.next;

		msg_free(m);	/* a deferred message after a restart */
		requeue(s, e, next);
		return 0;
	}
	if (r != 0) {
		msg_free(m);
		if (r == 1)
			free(e);
		else if (r == -2)
			requeue(s, e, now + 1);
		else
			hold_message(s, e, r == -1 ? "envelope-invalid" : "state-invalid");
		return r == -2 ? -1 : 0;
	}
	e->forced = 0;
	e->active = 1;
	m->taken = now;
	{
		struct smsg **tail = &s->active;

		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = m;	/* oldest first: dispatch order */
	}
	s->nactive++;
	if (plan(s, m, now) < 0) {
		m->ng = m->groups_left = 0;
		for (size_t i = 0; i < m->st.n; i++)
			if (m->cls[i] == 0 && m->st.r[i].st == RS_PENDING)
				smsg_answer(s, m, i, 't', 451, "4.3.0", "scheduler out of memory");
	}
	if (m->groups_left == 0)
		finish(s, m);
	return 0;
}

/* Record recipient i's answer of this round. */
void smsg_answer(struct sched *s, struct smsg *m, size_t i, char cls, unsigned code,
                 const char *status, const char *text)
{
	struct srstate *r = &m->st.r[i];
	size_t tn = strnlen(text, SSTATE_TEXT_MAX);

	(void)s;
	m->cls[i] = (unsigned char)cls;
	r->code = code;
	memcpy(r->status, status, strnlen(status, SSTATE_STATUS_MAX) + 1);
	r->status[SSTATE_STATUS_MAX] = '\0';
	memcpy(r->text, text, tn);
	r->text[tn] = '\0';
	r->last = (uint64_t)time(NULL);
}

/* Group g of m is over (done, its worker gone, or never sent): every
 * recipient without an answer is temp 451 4.4.0 why. */
void smsg_group_end(struct sched *s, struct smsg *m, struct sgroup *g, const char *why)
{
	if (g->state == SG_DONE)
		return;
	for (size_t i = 0; i < g->n; i++)
		if (m->cls[g->idx[i]] == 0)
			smsg_answer(s, m, g->idx[i], 't', 451, "4.4.0", why);
	if (g->state == SG_INFLIGHT && s->inflight > 0)
		s->inflight--;
	g->state = SG_DONE;
	g->w = NULL;
	if (m->groups_left > 0 && --m->groups_left == 0)
		finish(s, m);
}

/* Give g back to the waiting jobs (see sched_int.h). */
void smsg_group_return(struct sched *s, struct smsg *m, struct sgroup *g)
{
	if (g->state != SG_INFLIGHT)
		return;
	if (s->inflight > 0)
		s->inflight--;
	g->state = SG_WAITING;
	g->w = NULL;
	g->answered = 0;
	log_event("job-returned", "id=%s job=%llu reason=worker-left-unread", m->e->id,
	          (unsigned long long)g->job_id);
}

/* One log line per recipient result (INSTALL.md "Delivery scheduling"). */
static void log_result(struct smsg *m, size_t i, const char *event, int64_t now)
{
	struct logline l;
	const struct srstate *r = &m->st.r[i];

	ll_begin(&l, event);
	ll_str(&l, "id", m->e->id);
	ll_bytes(&l, "rcpt", m->re[i].addr.p, m->re[i].addr.n);
	ll_u64(&l, "code", r->code);
	ll_str(&l, "status", r->status);
	ll_u64(&l, "delay", (uint64_t)now > m->env.time_v ? (uint64_t)now - m->env.time_v : 0);
	ll_str(&l, "text", r->text);
	ll_emit(&l);
}

/* A failed recipient: a report owed if NOTIFY wants one and the sender
 * is not <> (then logged and dropped: a report about a report could
 * loop). */
static char failed_state(struct smsg *m, size_t i)
{
	if (m->env.sender.n == 0) {
		log_event("bounce-dropped", "id=%s reason=null-sender", m->e->id);
		return RS_FAILED;
	}
	return dsn_notify_wants(m->re[i].notify.p, m->re[i].notify.n, DSN_FAILED) ? RS_OWED
	                                                                           : RS_FAILED;
}

/* Apply this round's answers to the state; 1 if any recipient was
 * deferred. */
static int apply(struct sched *s, struct smsg *m, int64_t now)
{
	int expired = (uint64_t)now >= m->env.time_v + s->d->conf.lifetime_s, deferred = 0;

	for (size_t i = 0; i < m->st.n; i++) {
		struct srstate *r = &m->st.r[i];
		unsigned char c = m->cls[i];

		if (c == 0)
			continue;
		if (c != 'x')
			r->attempts++;
		if (c == 'o') {
			r->st = RS_OK;
			log_result(m, i, "delivered", now);
		} else if (c == 'p') {
			r->st = failed_state(m, i);
			log_result(m, i, "bounced", now);
		} else if (c == 'x' || expired) {
			/* RFC 3463 4.4.7: delivery time expired; the last reply stays. */
			memcpy(r->status, "4.4.7", 6);
			if (r->text[0] == '\0')
				memcpy(r->text, "message expired in the queue", 29);
			r->st = failed_state(m, i);
			log_result(m, i, "expired", now);
		} else {
			deferred = 1;
			log_result(m, i, "deferred", now);
		}
	}
	return deferred;
}

/* Commit one report for the recipients in state want (RS_OWED for
 * failures, RS_PENDING for a delay notice).  1 sent (or nothing to
 * send), 0 failed. */
static int report(struct sched *s, struct smsg *m, enum dsn_action a, char want)
{
	struct dsn_rcpt *r = calloc(m->st.n, sizeof *r);
	char (*addr)[ENV_ADDR_MAX + 1] = calloc(m->st.n, sizeof *addr);
	char (*orcpt)[ENV_XTEXT_MAX + 1] = calloc(m->st.n, sizeof *orcpt);
	char id[RANDID_LEN + 1];
	size_t n = 0;
	int ok = 0;

	if (r == NULL || addr == NULL || orcpt == NULL)
		goto out;
	for (size_t i = 0; i < m->st.n; i++) {
		const struct srcpt_env *re = &m->re[i];

		if (m->st.r[i].st != want ||
		    (a == DSN_DELAYED && !dsn_notify_wants(re->notify.p, re->notify.n, a)))
			continue;
		memcpy(addr[n], re->addr.p, re->addr.n);
		memcpy(orcpt[n], re->orcpt.p, re->orcpt.n);
		r[n] = (struct dsn_rcpt){ addr[n], orcpt[n], m->st.r[i].status, m->st.r[i].code,
		                          m->st.r[i].text, "", m->st.r[i].last };
		n++;
	}
	ok = 1;
	if (n == 0 || m->env.sender.n == 0)
		goto out;
	if (bounce_queue(s->d, &m->env, m->msgfd, a, r, n, id) < 0) {
		log_event("bounce-failed", "id=%s action=%s errno=%d", m->e->id,
		          a == DSN_FAILED ? "failed" : "delayed", errno);
		ok = 0;
	} else if (id[0] != '\0') {
		log_event("bounce", "id=%s of=%s action=%s rcpts=%zu", id, m->e->id,
		          a == DSN_FAILED ? "failed" : "delayed", n);
		sched_add(s, id);
	}
out:
	if (ok && a == DSN_FAILED)
		for (size_t i = 0; i < m->st.n; i++)
			if (m->st.r[i].st == RS_OWED)
				m->st.r[i].st = RS_FAILED;
	free(r);
	free(addr);
	free(orcpt);
	return ok;
}

/* Unlink m from the active list. */
static void deactivate(struct sched *s, struct smsg *m)
{
	for (struct smsg **p = &s->active; *p != NULL; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			s->nactive--;
			return;
		}
	}
}

/* Unlink name from directory dir; 1 removed, 0 already gone, -1 failed. */
static int unlink_id(int dir, const char *name)
{
	if (unlinkat(dir, name, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* Grouped removal (see sched_int.h).  The order per message is the one
 * of DESIGN §5 and sched.h: cur/<id> first (the commit point of "done"),
 * made durable by the fsync of cur/, and only then env/<id> and
 * state/<id>.  Grouping keeps that order for every message and shares
 * the syncs among all messages finished in the same poll round (on a
 * journal-less ext4 each directory fsync is its own device write, ~0.25
 * ms: two per message were queued's largest cost in bench scenario D).
 * A crash anywhere in between loses nothing undelivered: a complete
 * message's files left behind are either delivered again (cur/ and env/
 * both still there, the duplicate RFC 5321 §6.1 accepts) or removed by
 * start-up recovery (env/ or state/ without a message, recover.c). */
size_t smsg_flush_removals(struct sched *s)
{
	const struct qdir *q = &s->d->q;
	struct smsg *m, *next;
	int synced_cur = 0, any_env = 0, any_state = 0;
	size_t n = 0;

	for (m = s->active; m != NULL; m = m->next) {
		if (!m->removing)
			continue;
		if (unlink_id(q->d[QD_CUR], m->e->id) < 0) {
			log_event("remove-failed", "id=%s errno=%d", m->e->id, errno);
			m->removing = 2;	/* keep env/: found again at the next start */
			continue;
		}
		synced_cur = 1;
	}
	if (synced_cur)
		(void)fsync(q->d[QD_CUR]);
	for (m = s->active; m != NULL; m = m->next) {
		if (m->removing != 1)
			continue;
		any_env |= unlink_id(q->d[QD_ENV], m->e->id) >= 0;
		any_state |= unlink_id(q->d[QD_STATE], m->e->id) == 1;
	}
	if (any_state)
		(void)fsync(q->d[QD_STATE]);
	if (any_env)
		(void)fsync(q->d[QD_ENV]);
	for (m = s->active; m != NULL; m = next) {
		struct sentry *e = m->e;

		next = m->next;
		if (!m->removing)
			continue;
		if (m->removing == 1) {
			log_event("removed", "id=%s", e->id);
			n++;
		}
		deactivate(s, m);
		msg_free(m);
		free(e);
	}
	return n;
}

/* The round is over (see the header comment). */
static void finish(struct sched *s, struct smsg *m)
{
	int64_t now = (int64_t)time(NULL);
	int deferred = apply(s, m, now), pending = 0, owed = 0;
	struct sentry *e = m->e;
	uint64_t next;

	(void)report(s, m, DSN_FAILED, RS_OWED);
	for (size_t i = 0; i < m->st.n; i++) {
		pending += m->st.r[i].st == RS_PENDING;
		owed += m->st.r[i].st == RS_OWED;
	}
	if (pending == 0 && owed == 0) {
		m->removing = 1;	/* removed with the round's others */
		return;
	}
	deactivate(s, m);
	if (deferred && s->d->conf.delay_notice_s != 0 && !m->st.delay_sent &&
	    (uint64_t)now >= m->env.time_v + s->d->conf.delay_notice_s &&
	    report(s, m, DSN_DELAYED, RS_PENDING))
		m->st.delay_sent = 1;
	if (deferred)
		m->st.attempts++;
	next = (uint64_t)now + (deferred ? sched_backoff(m->st.attempts, s->d->conf.retry_min_s,
	                                                 s->d->conf.retry_max_s)
	                                 : s->d->conf.retry_min_s);
	m->st.next = next;
	if (sstate_write(&s->d->q, e->id, &m->st) < 0)
		log_event("state-write-failed", "id=%s errno=%d", e->id, errno);
	msg_free(m);
	requeue(s, e, (int64_t)next);
}

/* 1 if fewer than the per-destination limit of jobs to dest are out. */
static int dest_free(const struct sched *s, const char *dest)
{
	uint64_t n = 0;

	for (const struct smsg *m = s->active; m != NULL; m = m->next)
		for (size_t g = 0; g < m->ng; g++)
			if (m->g[g].state == SG_INFLIGHT && strcmp(m->g[g].route.dest, dest) == 0)
				n++;
	return n < s->d->conf.per_destination;
}

/* An idle worker for g: *none set when no worker of its kind exists. */
static struct sworker *idle_worker(struct sched *s, const struct sgroup *g, int *none)
{
	*none = 1;
	for (size_t i = 0; i < s->nw; i++) {
		struct sworker *w = &s->w[i];

		if (w->fd < 0 || (w->kind == SW_MAILDIR) != g->route.maildir ||
		    (g->route.maildir && strcmp(w->route, g->route.value) != 0))
			continue;
		*none = 0;
		if (w->job == NULL)
			return w;
	}
	return NULL;
}

/* Try to send group g of m; 1 if m was finished (freed) meanwhile. */
static int try_group(struct sched *s, struct smsg *m, struct sgroup *g, int64_t now)
{
	int none;
	struct sworker *w;

	if (!dest_free(s, g->route.dest))
		return 0;
	w = idle_worker(s, g, &none);
	if (w == NULL && none && now - m->taken >= SCHED_NO_WORKER_S) {
		size_t left = m->groups_left;

		smsg_group_end(s, m, g, "no delivery worker for this route");
		return left == 1;
	}
	if (w == NULL)
		return 0;
	g->job_id = ++s->next_job;
	switch (sw_send_job(s, w, m, g)) {
	case 0:
		break;
	case -2: {
		size_t left = m->groups_left;

		smsg_group_end(s, m, g, "job frame too large");
		return left == 1;
	}
	default:
		sw_close(s, w, "send-failed");
		return 0;
	}
	g->sent = (int64_t)time(NULL);
	g->state = SG_INFLIGHT;
	g->w = w;
	w->job = g;
	w->job_msg = m;
	s->inflight++;
	return 0;
}

/* Hand out waiting jobs, oldest message first, within the limits. */
void smsg_dispatch(struct sched *s, int64_t now)
{
	struct smsg *m = s->active, *next;

	for (; m != NULL; m = next) {
		next = m->next;
		for (size_t g = 0; g < m->ng && s->inflight < s->d->conf.concurrency; g++)
			if (m->g[g].state == SG_WAITING && try_group(s, m, &m->g[g], now))
				break;
	}
	/* After the jobs went out: the workers do not wait for these syncs. */
	(void)smsg_flush_removals(s);
}

/* 1 if none of m's jobs has gone out or ended yet. */
static int all_waiting(const struct smsg *m)
{
	if (m->ng == 0 || m->groups_left != m->ng)
		return 0;
	for (size_t g = 0; g < m->ng; g++)
		if (m->g[g].state != SG_WAITING)
			return 0;
	return 1;
}

/* Put back up to max active messages blocked for SCHED_PARK_S (see
 * sched_int.h); nothing of their round is recorded (no answer came), and
 * they come back due in SCHED_PARK_S, their backoff already served.  The
 * number put back. */
size_t smsg_park_blocked(struct sched *s, int64_t now, size_t max)
{
	struct smsg *m = s->active, *next;
	size_t n = 0;

	for (; m != NULL && n < max; m = next) {
		struct sentry *e = m->e;

		next = m->next;
		if (m->taken + SCHED_PARK_S > now || !all_waiting(m))
			continue;
		deactivate(s, m);
		msg_free(m);
		e->forced = 1;
		requeue(s, e, now + SCHED_PARK_S);
		n++;
	}
	return n;
}
