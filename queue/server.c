/*
 * server.c — postern-queued's poll loop (server.h).  In the sandbox.
 *
 * Never blocks on one peer (invariant 6): session sockets are
 * non-blocking and a reply is sent with MSG_DONTWAIT only.  A compromised
 * smtpd may push requests without reading its replies; when its socket
 * cannot take a reply, that ONE reply is kept with the session, no further
 * request of that session is read (its socket is polled for POLLOUT
 * instead), and the session is closed if the reply is still pending
 * REPLY_DEADLINE_MS later.  Each session is closed after idle_s seconds
 * without a frame; at most SERVER_BURST frames are taken from one session
 * per round, so a chunk stream cannot starve the others.
 *
 * Group commit: every session whose `end` was prepared in this round
 * (QR_COMMIT) waits in a list; after the round, ONE commit_group makes
 * all their files durable, renames them and syncs the directories once
 * (commit.c), and only then are their 250s sent.
 *
 * Each round starts with quota_tick: the quota counters are saved when
 * they changed and the last save is a second old (quota_state.c); at the
 * end, after the sessions are closed, they are saved exactly.
 *
 * A session is not read again in the round after a request answered
 * with a reply: smtpd waits for every reply before its next request
 * (only `chunk` has none), so that read would only find EAGAIN (two
 * syscalls per request); poll reports the next one.
 */
#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bufio.h"
#include "chan.h"
#include "control.h"
#include "fdpass.h"
#include "ctlchan.h"
#include "log.h"
#include "queuechan.h"
#include "netstring.h"
#include "qsession.h"
#include "sched.h"
#include "server.h"

#define SERVER_BURST 16
#define REPLY_DEADLINE_MS 2000
#define CTL_DRAIN_MAX 1024		/* control frames drain_control applies at once */

struct server {
	struct queued *d;
	struct qsession *s;		/* sessions_max slots */
	size_t n;			/* slots in use at the front (compacted) */
	struct qsession **pending;	/* group commit */
	struct commit **commits;	/* their commits, for commit_group */
	size_t npending;
	struct pollfd *pfd;
	int admin_fd;
	int stop;
};

/* Try the pending reply once, without waiting: 0 sent (or none
 * pending), 1 still pending, -1 the session is gone. */
static int flush_reply(struct qsession *s)
{
	ssize_t r;

	if (s->out_len == 0)
		return 0;
	do
		r = send(s->fd, s->out, s->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) ? 1 : -1;
	if ((size_t)r != s->out_len)
		return -1;	/* SEQPACKET sends are atomic */
	s->out_len = 0;
	return 0;
}

/* Send `reply code text` to a session, or keep it pending if the socket
 * is full (see the header); -1 if the session cannot go on. */
static int send_reply(struct qsession *s, const struct qreply *r)
{
	const unsigned char *f;
	size_t n;

	if (s->out_len != 0)
		return -1;	/* never two pending: it asked without reading */
	f = queuechan_write_reply(s->out, sizeof s->out, &n, (unsigned)r->code, r->text);
	if (f == NULL)
		return -1;
	if (f != s->out)
		memmove(s->out, f, n);
	s->out_len = n;
	s->out_deadline_ms = clock_ms() + REPLY_DEADLINE_MS;
	return flush_reply(s) < 0 ? -1 : 0;
}

/* Close session i (its open message is removed). */
static void close_session(struct server *sv, struct qsession *s, const char *why)
{
	struct logline l;

	if (why != NULL) {
		ll_begin(&l, "session-closed");
		ll_str(&l, "session", s->id);
		ll_str(&l, "reason", why);
		ll_emit(&l);
	}
	qsession_reset(sv->d, s);
	close(s->fd);
	s->fd = -1;
	s->out_len = 0;
}

/* Drop closed slots, keeping order. */
static void compact(struct server *sv)
{
	size_t j = 0;

	for (size_t i = 0; i < sv->n; i++) {
		if (sv->s[i].fd >= 0) {
			if (i != j)
				sv->s[j] = sv->s[i];
			j++;
		}
	}
	sv->n = j;
}

/* The `session` frame: adopt fd with the master's facts. */
static int adopt_session(struct server *sv, const struct ctl_msg *m, int fd)
{
	struct qsession *s;

	if (sv->n >= sv->d->conf.sessions_max) {
		log_event("session-refused", "reason=sessions_max");
		close(fd);
		return 0;
	}
	/* On failure the slot stays free (sv->n unchanged); the caller
	 * closes fd. */
	s = &sv->s[sv->n];
	qsession_init(s, fd);
	_Static_assert(sizeof s->ip >= sizeof m->ip && sizeof s->listener >= sizeof m->listener &&
	               sizeof s->mode >= sizeof m->mode && sizeof s->id == sizeof m->id,
	               "the session's facts fit");
	memcpy(s->id, m->id, sizeof m->id);
	memcpy(s->ip, m->ip, sizeof m->ip);
	memcpy(s->listener, m->listener, sizeof m->listener);
	memcpy(s->mode, m->mode, sizeof m->mode);
	s->port = (unsigned)m->port;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
		return -1;
	s->deadline_ms = clock_ms() + (int64_t)sv->d->conf.idle_s * 1000;
	sv->n++;
	sv->d->sessions_total++;
	return 0;
}

/* The `table` frame: switch the named table to fd. */
static int switch_table(struct server *sv, const char *name, int fd)
{
	struct cdbfd *t;

	if (strcmp(name, "senders") == 0)
		t = &sv->d->senders;
	else if (strcmp(name, "quotas") == 0)
		t = &sv->d->quotas;
	else if (strcmp(name, "routes") == 0)
		t = &sv->d->routes;
	else
		return -1;
	if (cdbfd_attach(t, fd) < 0)
		log_event("table-refused", "table=%s", t == &sv->d->senders ? "senders" :
		          t == &sv->d->quotas ? "quotas" : "routes");
	else
		log_event("table", "table=%s", t == &sv->d->senders ? "senders" :
		          t == &sv->d->quotas ? "quotas" : "routes");
	return 0;
}

/* The `tls` frame: the TLS facts of a session, for its Received: line.
 * A session already gone is no error (it may have ended meanwhile). */
static int set_tls(struct server *sv, const struct ctl_msg *m)
{
	for (size_t i = 0; i < sv->n; i++) {
		struct qsession *s = &sv->s[i];

		if (s->fd >= 0 && strcmp(s->id, m->id) == 0) {
			memcpy(s->tls_version, m->tls_version, sizeof s->tls_version);
			memcpy(s->tls_cipher, m->tls_cipher, sizeof s->tls_cipher);
		}
	}
	return 0;
}

/* The `worker` frame: kind route + the job channel (sched.h).  fd is
 * always consumed. */
static int adopt_worker(struct server *sv, const struct ctl_msg *m, int fd)
{
	if (sv->d->sched == NULL) {
		close(fd);
		return 0;
	}
	sched_worker_add(sv->d->sched, m->kind, m->route, fd);
	return 0;
}

/* One frame from the master; -1 ends queued. */
static int control_frame(struct server *sv)
{
	static struct ctl_msg m;
	unsigned char buf[CTLCHAN_FRAME_MAX];
	size_t nfds = 0;
	int fd = -1, rc = -1;
	ssize_t n = fdpass_recv(QUEUED_FD_CONTROL, buf, sizeof buf, &fd, 1, &nfds);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	if (ctlchan_parse(buf, (size_t)n, nfds, &m) != 0)
		goto out;
	switch (m.verb) {
	case CTL_KEY:
		memcpy(sv->d->key, m.key, TICKET_KEY_LEN);
		sv->d->have_key = 1;
		rc = 0;
		break;
	case CTL_TABLE:
		rc = switch_table(sv, m.table, fd);
		fd = -1;
		break;
	case CTL_TLS:
		rc = set_tls(sv, &m);
		break;
	case CTL_SESSION:
		rc = adopt_session(sv, &m, fd);
		if (rc == 0)
			fd = -1;	/* adopted, or closed when over sessions_max */
		break;
	case CTL_WORKER:
		rc = adopt_worker(sv, &m, fd);
		fd = -1;		/* taken by sched_worker_add or closed there */
		break;
	default:
		break;		/* `ready` is the daemon's to send */
	}
out:
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(&m, sizeof m);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		log_event("control-malformed", "action=exit");
	return rc;
}

/* Apply the control frames already waiting on fd 3, without blocking:
 * the master writes a session's `tls` frame there before postern-tlsd
 * lets smtpd go on (lib/tlsfacts.h), so a session on a starttls/tls
 * listener without facts looks here before its frame is handled (and
 * its Received: line written).  Bounded; a malformed frame stops queued
 * as in round_once. */
static void drain_control(struct server *sv)
{
	for (int i = 0; i < CTL_DRAIN_MAX && !sv->stop; i++) {
		struct pollfd p = { .fd = QUEUED_FD_CONTROL, .events = POLLIN };

		if (poll(&p, 1, 0) != 1)
			return;
		if (control_frame(sv) < 0)
			sv->stop = 1;
	}
}

/* 1 if s came through a TLS listener and its facts are not here yet. */
static int lacks_tls_facts(const struct qsession *s)
{
	return strcmp(s->mode, "plain") != 0 && s->tls_version[0] == '\0';
}

/* Read and handle up to SERVER_BURST frames from session s. */
static void session_ready(struct server *sv, struct qsession *s)
{
	static unsigned char buf[FRAME_MAX];
	const unsigned char *payload;
	size_t plen;
	struct qreply r;

	if (s->fd < 0)
		return;
	switch (flush_reply(s)) {
	case -1:
		close_session(sv, s, "reply-failed");
		return;
	case 1:
		return;		/* still full: read nothing more from it */
	default:
		break;
	}
	/* out_len: a reply kept pending stops the reading (see header). */
	for (int i = 0; i < SERVER_BURST && s->fd >= 0 && s->state != QS_COMMITTING &&
	     s->out_len == 0; i++) {
		ssize_t n = chan_recv(s->fd, buf, sizeof buf, &payload, &plen, 0);

		if (n < 0 && (errno == ETIMEDOUT || errno == EAGAIN))
			return;
		if (n <= 0) {
			close_session(sv, s, n == 0 ? NULL : "bad-frame");
			return;
		}
		s->deadline_ms = clock_ms() + (int64_t)sv->d->conf.idle_s * 1000;
		if (lacks_tls_facts(s))
			drain_control(sv);
		switch (qsession_frame(sv->d, s, payload, plen, &r)) {
		case QR_REPLY:
			if (send_reply(s, &r) < 0)
				close_session(sv, s, "reply-failed");
			return;	/* smtpd waits for it (see the header) */
		case QR_NONE:
			break;
		case QR_COMMIT:
			sv->pending[sv->npending++] = s;
			return;
		case QR_CLOSE:
			close_session(sv, s, "protocol");
			return;
		}
	}
}

/* The group commit of every message prepared this round, then replies. */
static void group_commit(struct server *sv)
{
	struct qreply r;

	if (sv->npending == 0)
		return;
	for (size_t i = 0; i < sv->npending; i++)
		sv->commits[i] = &sv->pending[i]->c;
	commit_group(sv->commits, sv->npending, &sv->d->q);
	for (size_t i = 0; i < sv->npending; i++) {
		struct qsession *s = sv->pending[i];

		qsession_commit_done(sv->d, s, &r);
		if (send_reply(s, &r) < 0)
			close_session(sv, s, "reply-failed");
	}
	if (sv->npending > 1)
		log_event("group-commit", "messages=%zu", sv->npending);
	sv->npending = 0;
}

/* Close sessions past their idle deadline or with a reply pending past
 * its deadline; the poll timeout until the next deadline. */
static int expire(struct server *sv)
{
	int64_t now = clock_ms(), next = now + 1000;

	for (size_t i = 0; i < sv->n; i++) {
		struct qsession *s = &sv->s[i];

		if (s->fd < 0)
			continue;
		if (s->out_len != 0 && s->out_deadline_ms <= now) {
			close_session(sv, s, "reply-timeout");
			continue;
		}
		if (s->deadline_ms <= now) {
			close_session(sv, s, "idle-timeout");
			continue;
		}
		if (s->deadline_ms < next)
			next = s->deadline_ms;
		if (s->out_len != 0 && s->out_deadline_ms < next)
			next = s->out_deadline_ms;
	}
	return (int)(next - now);
}

/* One poll round. */
static void round_once(struct server *sv)
{
	size_t base = 0, nfd, nw;
	int timeout = expire(sv);

	quota_tick(&sv->d->quota, clock_ms());
	compact(sv);
	sv->pfd[base++] = (struct pollfd){ .fd = QUEUED_FD_CONTROL, .events = POLLIN };
	sv->pfd[base++] = (struct pollfd){ .fd = sv->admin_fd, .events = POLLIN };
	nfd = base;
	for (size_t i = 0; i < sv->n; i++)
		sv->pfd[nfd++] = (struct pollfd){ .fd = sv->s[i].fd,
		                                   .events = sv->s[i].out_len ? POLLOUT : POLLIN };
	/* sched_run first: it may close a worker, which pollfds then leaves out. */
	if (sv->d->sched != NULL) {
		int st = sched_run(sv->d->sched);

		if (st < timeout)
			timeout = st;
	}
	nw = sv->d->sched ? sched_pollfds(sv->d->sched, sv->pfd + nfd, SCHED_WORKERS_MAX) : 0;
	if (poll(sv->pfd, nfd + nw, timeout) <= 0)
		return;
	if (nw > 0)
		sched_events(sv->d->sched, sv->pfd + nfd, nw);
	/* nfd - base, not sv->n: drain_control may append sessions. */
	for (size_t i = 0; i < nfd - base; i++)
		if (sv->pfd[base + i].revents)
			session_ready(sv, &sv->s[i]);
	group_commit(sv);
	if (sv->pfd[1].revents & POLLIN)
		control_admin_accept(sv->d, sv->admin_fd);
	/* Last: a `session` frame appends to sv->s, which pfd does not cover.
	 * Through drain_control, which polls before each read: fd 3 is
	 * blocking, and a session's frame may have drained it meanwhile. */
	if (sv->pfd[0].revents)
		drain_control(sv);
}

/* The loop (see server.h). */
int server_run(struct queued *d, int admin_fd)
{
	struct server sv = { 0 };
	size_t max = d->conf.sessions_max;

	sv.d = d;
	sv.admin_fd = admin_fd;
	sv.s = calloc(max + 1, sizeof *sv.s);
	sv.pending = calloc(max + 1, sizeof *sv.pending);
	sv.commits = calloc(max + 1, sizeof *sv.commits);
	sv.pfd = calloc(max + 2 + SCHED_WORKERS_MAX, sizeof *sv.pfd);
	if (sv.s == NULL || sv.pending == NULL || sv.commits == NULL || sv.pfd == NULL)
		log_fatal("out of memory for %zu sessions", max);
	while (!sv.stop)
		round_once(&sv);
	for (size_t i = 0; i < sv.n; i++)
		if (sv.s[i].fd >= 0)
			close_session(&sv, &sv.s[i], NULL);
	if (d->quota.dirfd >= 0)
		(void)quota_save(&d->quota, 1);	/* exact counters: no block lost */
	log_event("stopped", "reason=control-closed committed=%llu",
	          (unsigned long long)d->committed);
	return 0;
}
