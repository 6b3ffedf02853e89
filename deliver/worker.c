/*
 * worker.c — one job of postern-deliver (worker.h).  Runs in the sandbox.
 * Failure policy: a malformed job frame or a failing channel is fatal to
 * the worker (queued then retries every recipient), a channel queued has
 * closed ends it cleanly (WORKER_GONE); nothing in a job's
 * content is: an address, parameter or domain outside the envelope
 * grammar, an unusable route, a message that must not be sent (bare CR
 * or LF, NUL: body.h), and everything that goes wrong with a remote
 * server become per-recipient results.  Relay
 * credentials are copied out of relay-secrets.cdb only for the attempt
 * and wiped afterwards; they never appear in a log line or a frame.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "body.h"
#include "bufio.h"
#include "chan.h"
#include "conn.h"
#include "dns.h"
#include "log.h"
#include "mailbox.h"
#include "netstring.h"
#include "worker.h"

#define CRED_MAX 256

struct creds {
	char login[CRED_MAX], password[CRED_MAX];
};

/* 1 if the address holds a byte >= 0x80 (an SMTPUTF8 address). */
static int utf8_addr(const struct bytes *b)
{
	return mailbox_has_utf8(b->p, b->n);
}

/* "login password" of relay name: 0, or -1 (missing or malformed). */
static int lookup_creds(struct worker *w, const char *name, struct creds *cr)
{
	const unsigned char *v, *sp;
	size_t vn, ln;

	if (cdbfd_find(&w->secrets, name, strlen(name), &v, &vn) != 1)
		return -1;
	sp = memchr(v, ' ', vn);
	if (sp == NULL)
		return -1;
	ln = (size_t)(sp - v);
	if (ln == 0 || ln >= CRED_MAX || vn - ln - 1 == 0 || vn - ln - 1 >= CRED_MAX ||
	    memchr(v, '\0', vn) != NULL)
		return -1;
	memcpy(cr->login, v, ln);
	cr->login[ln] = '\0';
	memcpy(cr->password, sp + 1, vn - ln - 1);
	cr->password[vn - ln - 1] = '\0';
	return 0;
}

/* Every recipient still undecided gets the same constant result. */
static void settle_all(struct worker *w, int code, const char *status, const char *text)
{
	struct rcpt_result r;

	result_set(&r, code, status, text);
	for (size_t i = 0; i < w->job.nrcpt; i++) {
		if (w->res_rcpt[i].cls == RC_NONE)
			w->res_rcpt[i] = r;
	}
}

/* After a transaction that decided the job on w->keep.c: keep the
 * session for the next job, or end it. */
static void finish(struct worker *w, const struct attempt *a, int fresh)
{
	w->misbehaved |= a->misbehaved;
	if (a->reusable && !a->misbehaved) {
		keep_store(&w->keep, &w->job, a->host, &a->caps, fresh);
		return;
	}
	if (a->reusable)
		smtp_quit(&w->keep.c);
	conn_close(&w->keep.c);
	w->keep.open = 0;
}

/* The job on the kept session: 1 if it went there, 0 if the session was
 * stale (closed; nothing of the job was sent, results untouched). */
static int reuse(struct worker *w, struct attempt *a)
{
	a->host = w->keep.host;
	a->caps = w->keep.caps;
	if (smtp_reuse(&w->keep.c, a) == ATTEMPT_STALE) {
		w->misbehaved |= a->misbehaved;
		keep_close(&w->keep, 0, "stale");
		return 0;
	}
	log_event("session-reused", "job=%llu host=%s transaction=%u",
	          (unsigned long long)w->job.id, w->keep.host, w->keep.ntx + 1);
	finish(w, a, 0);
	return 1;
}

/* Try each target in turn. */
static void try_targets(struct worker *w, struct attempt *a, const struct dns_result *d)
{
	struct conn *cp = &w->keep.c;
	unsigned port = w->route.relay ? w->route.port : w->args->mx_port;
	char last[REPLY_TEXT_MAX + 1] = "no address could be tried";
	int last_code = 451;
	char last_status[REPLY_STATUS_MAX] = "4.4.1";

	for (size_t i = 0; i < d->ntargets; i++) {
		int64_t dl = clock_ms() + (int64_t)w->args->timeout_ms[TMO_CONNECT];

		a->host = d->t[i].host;
		if (conn_open(cp, &d->t[i], port, (const struct sockaddr *)&w->args->bind,
		              w->args->have_bind ? w->args->bindlen : 0, dl) != 0) {
			snprintf(last, sizeof(last), "cannot connect to %s (%s)", d->t[i].host,
			         cp->why);
			last_code = 451;
			memcpy(last_status, "4.4.1", 6);
			continue;
		}
		if (smtp_attempt(cp, a) == ATTEMPT_DONE) {
			finish(w, a, 1);
			return;
		}
		conn_close(cp);
		w->misbehaved |= a->misbehaved;
		memcpy(last, a->fail.text, sizeof(last));
		memcpy(last_status, a->fail.status, sizeof(last_status));
		last_code = a->fail.code;
		if (a->misbehaved)
			break;
	}
	settle_all(w, last_code, last_status, last);
}

/* Deliver the parsed job: results in w->res_rcpt. */
static void deliver(struct worker *w, int msgfd)
{
	static struct dns_result d;
	struct job *j = &w->job;
	struct attempt a;
	struct creds cr;
	size_t valid = 0;

	memset(&a, 0, sizeof(a));
	a.job = j;
	a.route = &w->route;
	a.args = w->args;
	a.tls = w->tls;
	a.tls_verify_ready = w->tls_verify_ready;
	a.helo = j->helo[0] != '\0' ? j->helo : w->args->helo;
	a.msgfd = msgfd;
	a.res = w->res_rcpt;
	a.utf8 = utf8_addr(&j->sender);
	for (size_t i = 0; i < j->nrcpt; i++) {
		if (!j->rcpt[i].valid)
			result_set(&w->res_rcpt[i], 553, "5.1.3", "recipient address cannot be sent");
		else {
			valid++;
			a.utf8 |= utf8_addr(&j->rcpt[i].addr);
		}
	}
	if (!j->sender_valid)
		return settle_all(w, 553, "5.1.7", "sender address cannot be sent");
	if (valid == 0)
		return;
	if (!w->route.relay && (!j->domain_valid || j->domain[0] == '\0'))
		return settle_all(w, 550, "5.1.2", "destination domain cannot be used");
	switch (body_scan(msgfd, &j->header, &a.msgsize, &a.eightbit)) {
	case 0:
		break;
	case BODY_BAD_LINE_ENDS:	/* RFC 3463 X.6.0: the content itself */
		return settle_all(w, 554, "5.6.0", "message has bare CR or LF, or NUL");
	default:
		return settle_all(w, 451, "4.3.0", "message file unreadable");
	}
	if (w->route.auth[0] != '\0') {
		if (lookup_creds(w, w->route.auth, &cr) != 0)
			return settle_all(w, 451, "4.7.0", "no relay credentials for this route");
		a.login = cr.login;
		a.password = cr.password;
	}
	if (keep_match(&w->keep, j) && reuse(w, &a)) {
		sodium_memzero(&cr, sizeof(cr));
		return;
	}
	if (w->keep.open)
		keep_close(&w->keep, 1, "replaced");
	dns_targets(&w->res, &w->route, j->domain, &d);
	if (!d.ok)
		settle_all(w, d.code, d.status, d.text);
	else
		try_targets(w, &a, &d);
	sodium_memzero(&cr, sizeof(cr));
}

/* Send frame f (NULL: the writer refused it) to queued: 0, WORKER_GONE
 * if queued has closed the channel (it died or was restarted with this
 * job out: it retries the recipients itself), or -1. */
static int to_queued(struct worker *w, const unsigned char *f, size_t n)
{
	if (f == NULL)
		return -1;
	if (chan_send(w->chan, f, n, clock_ms() + 60000) == 0)
		return 0;
	return errno == EPIPE || errno == ECONNRESET ? WORKER_GONE : -1;
}

/* Log and send one result. */
static int report(struct worker *w, size_t i)
{
	static const char *const cls[] = { "temp", "ok", "temp", "perm" };
	unsigned char buf[2048];
	const struct rcpt_result *r = &w->res_rcpt[i];
	const unsigned char *f;
	struct logline l;
	size_t n;

	ll_begin(&l, "delivery");
	ll_u64(&l, "job", w->job.id);
	ll_bytes(&l, "rcpt", w->job.rcpt[i].addr.p, w->job.rcpt[i].addr.n);
	ll_str(&l, "class", cls[r->cls]);
	ll_u64(&l, "code", (uint64_t)r->code);
	ll_str(&l, "status", r->status);
	ll_str(&l, "text", r->text);
	ll_emit(&l);
	f = frame_rcpt(buf, sizeof(buf), &n, w->job.id, i, cls[r->cls], r->code, r->status,
	               r->text);
	return to_queued(w, f, n);
}

/* Deliver one job and report (see worker.h). */
int worker_job(struct worker *w, const unsigned char *payload, size_t plen, int msgfd)
{
	unsigned char buf[64];
	const unsigned char *f;
	size_t n;

	if (job_parse(&w->job, payload, plen) != 0) {
		close(msgfd);
		log_event("bad-job-frame", "action=exit");
		return -1;
	}
	memset(w->res_rcpt, 0, sizeof(w->res_rcpt[0]) * w->job.nrcpt);
	keep_drop_unless(&w->keep, &w->job);
	if (route_of_job(&w->route, &w->job) != 0) {
		/* The operator's routes table, not the job, is at fault:
		 * defer, so mail goes once the route is fixed. */
		log_event("bad-route", "job=%llu action=defer", (unsigned long long)w->job.id);
		settle_all(w, 451, "4.3.5", "route of this destination is not usable");
	} else {
		deliver(w, msgfd);
	}
	close(msgfd);
	settle_all(w, 451, "4.3.0", "not attempted");
	for (size_t i = 0; i < w->job.nrcpt; i++) {
		int r = report(w, i);

		if (r != 0)
			return r;
	}
	f = frame_done(buf, sizeof(buf), &n, w->job.id);
	return to_queued(w, f, n);
}
