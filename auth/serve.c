/*
 * serve.c — postern-authd's event loop and per-session state machine
 * (grammar, replies and policy in serve.h; failure limits in limits.h;
 * cache in cache.h; pool in pool.h).
 *
 * Process: postern-authd, main thread, sandboxed (auth/sandbox_rules.c).
 * Descriptors: 3 control, the wake-up pipe, the sessions' channels.
 * Failure policy: one session's misbehaviour closes that session only; a
 * malformed control frame ends the process (the master restarts it).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authchan.h"
#include "bufio.h"
#include "chan.h"
#include "ctlchan.h"
#include "fdpass.h"
#include "log.h"
#include "netstring.h"
#include "request.h"
#include "serve.h"

/* Fixed argon2id hash (libsodium INTERACTIVE parameters) of a random
 * password nobody knows; used for unknown logins when the table is empty. */
static const char fixed_dummy[] =
	"$argon2id$v=19$m=65536,t=2,p=1$XO1QWqVjsf9r1IJiSJl0Pw$"
	"E+ey5JPPeaCgQIt7l3Wh8XksSjnVnIv14WCL1ovOesU";

enum as_state { AS_FREE, AS_IDLE, AS_WAIT, AS_VERIFY };

/* Most control frames drain_control applies at once. */
#define CTL_DRAIN_MAX 1024

struct asess {
	enum as_state state;
	int fd;
	uint32_t gen;			/* bumped on reuse: stale results are dropped */
	char id[RANDID_LEN + 1];
	char ip[64];
	int plain, tls;
	uint64_t due_ms;		/* AS_WAIT: when to verify */
	uint64_t delay_ms;
	struct auth_request req;	/* password only until submitted */
	unsigned char digest[CACHE_DIGEST];
};

/* Allocate the tables (see serve.h). */
int serve_init(struct authd *a)
{
	a->s = calloc(SERVE_SESSIONS_MAX, sizeof(a->s[0]));
	a->pfd = calloc(SERVE_SESSIONS_MAX + 2, sizeof(struct pollfd));
	a->pidx = calloc(SERVE_SESSIONS_MAX + 2, sizeof(a->pidx[0]));
	if (a->s == NULL || a->pfd == NULL || a->pidx == NULL)
		return -1;
	for (size_t i = 0; i < SERVE_SESSIONS_MAX; i++)
		a->s[i].fd = -1;
	a->hi = 0;
	a->ctl_status = 1;
	return 0;
}

/* Pick the dummy hash (see serve.h). */
void serve_pick_dummy(struct authd *a)
{
	unsigned pos;

	memcpy(a->dummy, fixed_dummy, sizeof(fixed_dummy));
	if (!a->users.ready)
		return;
	cdb_seqinit(&pos, &a->users.cdb);
	if (cdb_seqnext(&pos, &a->users.cdb) > 0) {
		unsigned len = cdb_datalen(&a->users.cdb);
		const void *v = cdb_get(&a->users.cdb, len, cdb_datapos(&a->users.cdb));

		if (v != NULL && len > 0 && len < sizeof(a->dummy)) {
			memcpy(a->dummy, v, len);
			a->dummy[len] = '\0';
		}
	}
}

/* ------------------------------------------------------------- logging */

/* One event=auth line. */
static void log_auth(const struct asess *s, const char *result, const char *extra_key,
                     uint64_t extra)
{
	struct logline l;

	ll_begin(&l, "auth");
	ll_str(&l, "result", result);
	ll_str(&l, "session", s->id);
	ll_str(&l, "ip", s->ip);
	ll_str(&l, "mech", s->req.mech[0] ? s->req.mech : "-");
	ll_str(&l, "login", s->req.login[0] ? s->req.login : s->req.raw_login);
	if (extra_key != NULL)
		ll_u64(&l, extra_key, extra);
	ll_emit(&l);
}

/* ------------------------------------------------------------- sessions */

/* Forget session s and close its channel. */
static void close_session(struct asess *s, const char *why)
{
	if (why != NULL) {
		struct logline l;

		ll_begin(&l, "session-closed");
		ll_str(&l, "session", s->id);
		ll_str(&l, "reason", why);
		ll_emit(&l);
	}
	auth_request_wipe(&s->req);
	close(s->fd);
	s->fd = -1;
	s->state = AS_FREE;
	s->gen++;
}

/* Send frame f[0..n) to s without waiting; closes s on failure. */
static void send_frame(struct asess *s, const unsigned char *f, size_t n)
{
	if (f == NULL || chan_send(s->fd, f, n, clock_ms()) != 0) {
		close_session(s, "send-failed");
		return;
	}
	s->state = AS_IDLE;
}

/* Reply `no` code text. */
static void reply_no(struct asess *s, unsigned code, const char *text)
{
	unsigned char buf[512];
	const unsigned char *f;
	size_t n = 0;

	f = authchan_write_no(buf, sizeof(buf), &n, code, text);
	auth_request_wipe(&s->req);
	send_frame(s, f, n);
}

/* Reply `ok` with the ticket for s's session id and login. */
static void reply_ok(struct authd *a, struct asess *s)
{
	unsigned char t[TICKET_MAX], buf[TICKET_MAX + 64];
	const unsigned char *f;
	size_t n = 0;
	size_t tl = ticket_make(t, sizeof(t), a->key, s->id, s->req.login,
	                        strlen(s->req.login));

	if (tl == 0) {
		reply_no(s, 454, "4.7.0 Temporary authentication failure");
		return;
	}
	f = authchan_write_ok(buf, sizeof(buf), &n, t, tl);
	send_frame(s, f, n);
	sodium_memzero(t, sizeof(t));
	sodium_memzero(buf, sizeof(buf));
}

/* ------------------------------------------------------------- verifying */

static const char txt_invalid[] = "5.7.8 Authentication credentials invalid";

/* A failed attempt: count it, answer, log. */
static void failed(struct authd *a, struct asess *s)
{
	faillim_fail(a->limits, s->ip, s->req.login[0] ? s->req.login : s->req.raw_login,
	            clock_ms());
	log_auth(s, "fail", "delay_ms", s->delay_ms);
	reply_no(s, 535, txt_invalid);
}

/* A successful attempt: clear the login's count, answer, log. */
static void succeeded(struct authd *a, struct asess *s, int cached)
{
	faillim_success(a->limits, s->ip, s->req.login, clock_ms());
	log_auth(s, "ok", cached ? "cached" : "delay_ms", cached ? 1 : s->delay_ms);
	reply_ok(a, s);
	auth_request_wipe(&s->req);
}

/* Look the login up and hand the verification to the pool (or answer
 * from the cache). */
static void start_verify(struct authd *a, struct asess *s, uint64_t token)
{
	static struct pool_job j;
	const unsigned char *v;
	size_t vlen;
	int found = cdbfd_find(&a->users, s->req.login, strlen(s->req.login), &v, &vlen);

	memset(&j, 0, sizeof(j));
	if (found < 0) {
		log_auth(s, "unavailable", NULL, 0);
		reply_no(s, 454, "4.7.0 Temporary authentication failure");
		return;
	}
	if (found == 1 && vlen > 0 && vlen < sizeof(j.hash)) {
		memcpy(j.hash, v, vlen);
		cache_digest(a->cache, s->req.login, s->req.password, s->req.password_len,
		             j.hash, vlen, s->digest);
		if (cache_hit(a->cache, s->digest, clock_ms())) {
			succeeded(a, s, 1);
			return;
		}
	} else {
		/* No timing oracle: unknown logins cost one verification too. */
		memcpy(j.hash, a->dummy, sizeof(j.hash));
		j.dummy = 1;
	}
	j.token = token;
	memcpy(j.password, s->req.password, s->req.password_len);
	j.plen = s->req.password_len;
	sodium_memzero(s->req.password, sizeof(s->req.password));
	s->req.password_len = 0;
	if (pool_submit(&a->pool, &j) != 0) {
		log_auth(s, "busy", NULL, 0);
		reply_no(s, 454, "4.7.0 Authentication service busy, try again later");
	} else {
		s->state = AS_VERIFY;
	}
	sodium_memzero(&j, sizeof(j));
}

/* Token of slot i (index and generation). */
static uint64_t token_of(const struct authd *a, const struct asess *s)
{
	return ((uint64_t)(size_t)(s - a->s) << 32) | s->gen;
}

/* Results the pool finished. */
static void take_results(struct authd *a)
{
	struct pool_job j;
	char sink[64];

	while (read(a->wake, sink, sizeof(sink)) > 0)
		;
	while (pool_take(&a->pool, &j)) {
		size_t i = (size_t)(j.token >> 32);
		struct asess *s = i < SERVE_SESSIONS_MAX ? &a->s[i] : NULL;

		if (s == NULL || s->state != AS_VERIFY || s->gen != (uint32_t)j.token)
			continue;	/* that session is gone */
		if (j.ok) {
			cache_put(a->cache, s->digest, clock_ms());
			succeeded(a, s, 0);
		} else {
			failed(a, s);
		}
		sodium_memzero(s->digest, sizeof(s->digest));
	}
}

static int on_control(struct authd *a);

/* Apply the control frames already waiting on fd 3, without blocking.
 * The master writes a session's `tls` frame there before postern-tlsd
 * lets smtpd go on (lib/tlsfacts.h), so an AUTH that arrives "before"
 * its facts finds them here; bounded, a flood cannot pin us. */
static void drain_control(struct authd *a)
{
	for (int i = 0; i < CTL_DRAIN_MAX && a->ctl_status == 1; i++) {
		struct pollfd p = { a->ctl, POLLIN, 0 };

		if (poll(&p, 1, 0) != 1)
			return;
		a->ctl_status = on_control(a);
	}
}

/* An `auth` frame from idle session s. */
static void on_request(struct authd *a, struct asess *s, const unsigned char *p, size_t n)
{
	int64_t delay;

	switch (auth_request_parse(p, n, &s->req)) {
	case REQ_MALFORMED:
		close_session(s, "malformed-frame");
		return;
	case REQ_AUTHZID:
		log_auth(s, "fail", NULL, 0);
		reply_no(s, 535, "5.7.8 Authorization identity must be the login");
		return;
	case REQ_BAD_LOGIN:
		s->delay_ms = 0;
		failed(a, s);
		return;
	case REQ_OK:
		break;
	}
	if (!s->plain && !s->tls)
		drain_control(a);
	if (!s->plain && !s->tls) {
		log_auth(s, "tls-required", NULL, 0);
		reply_no(s, 538, "5.7.11 Encryption required for requested "
		         "authentication mechanism");
		return;
	}
	if (!a->have_key || !a->users.ready) {
		log_auth(s, "unavailable", NULL, 0);
		reply_no(s, 454, "4.7.0 Temporary authentication failure");
		return;
	}
	delay = faillim_check(a->limits, s->ip, s->req.login, clock_ms());
	if (delay < 0) {
		log_auth(s, "refused", NULL, 0);
		reply_no(s, 454, "4.7.0 Too many failed authentication attempts, "
		         "try again later");
		return;
	}
	s->delay_ms = (uint64_t)delay;
	s->due_ms = clock_ms() + s->delay_ms;
	s->state = AS_WAIT;
}

/* Session s is readable. */
static void on_session(struct authd *a, struct asess *s)
{
	unsigned char buf[SERVE_FRAME_MAX];
	const unsigned char *payload;
	size_t plen;
	ssize_t r = chan_recv(s->fd, buf, sizeof(buf), &payload, &plen, clock_ms());

	if (r < 0 && (errno == ETIMEDOUT || errno == EAGAIN || errno == EINTR))
		return;
	if (r == 0) {
		close_session(s, NULL);	/* smtpd ended: the normal end */
		return;
	}
	if (r < 0) {
		close_session(s, errno == EPROTO ? "malformed-frame" : "recv-error");
		return;
	}
	if (s->state != AS_IDLE)
		close_session(s, "frame-while-pending");
	else
		on_request(a, s, payload, plen);
	sodium_memzero(buf, sizeof(buf));
}

/* ------------------------------------------------------------- control */

/* A new session from the master. */
static void add_session(struct authd *a, const struct ctl_msg *m, int fd)
{
	for (size_t i = 0; i < SERVE_SESSIONS_MAX; i++) {
		struct asess *s = &a->s[i];

		if (s->state != AS_FREE)
			continue;
		s->state = AS_IDLE;
		s->fd = fd;
		memcpy(s->id, m->id, sizeof(s->id));
		memcpy(s->ip, m->ip, sizeof(s->ip));
		s->plain = m->plain;
		s->tls = 0;
		memset(&s->req, 0, sizeof(s->req));
		if (i >= a->hi)
			a->hi = i + 1;
		return;
	}
	log_event("session-refused", "reason=table-full");
	close(fd);
}

/* TLS facts for a session (TLS issue): AUTH becomes possible there. */
static void set_tls(struct authd *a, const struct ctl_msg *m)
{
	for (size_t i = 0; i < a->hi; i++) {
		if (a->s[i].state != AS_FREE && strcmp(a->s[i].id, m->id) == 0)
			a->s[i].tls = 1;
	}
}

/* 1 if authd takes m (lib/ctlchan.h): the key first and once, then its
 * one table `users`, sessions and their TLS facts. */
static int authd_takes(const struct authd *a, const struct ctl_msg *m)
{
	if (m->verb == CTL_KEY)
		return !a->have_key;
	if (!a->have_key)
		return 0;
	return m->verb == CTL_SESSION || m->verb == CTL_TLS ||
	       (m->verb == CTL_TABLE && strcmp(m->table, "users") == 0);
}

/* Read one control frame: 1 go on, 0 master gone, -1 malformed. */
static int on_control(struct authd *a)
{
	unsigned char buf[512];
	size_t nfds = 0;
	int fds[1] = { -1 };
	struct ctl_msg m;
	ssize_t r = fdpass_recv(a->ctl, buf, sizeof(buf), fds, 1, &nfds);

	memset(&m, 0, sizeof(m));
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (r == 0)
		return 0;
	if (r < 0 || ctlchan_parse(buf, (size_t)r, nfds, &m) != 0 || !authd_takes(a, &m)) {
		if (nfds > 0)
			close(fds[0]);
		sodium_memzero(buf, sizeof(buf));
		sodium_memzero(&m, sizeof(m));	/* a second `key` is refused, not kept */
		return -1;
	}
	sodium_memzero(buf, sizeof(buf));
	switch (m.verb) {
	case CTL_KEY:
		memcpy(a->key, m.key, sizeof(a->key));
		a->have_key = 1;
		break;
	case CTL_TABLE:
		if (cdbfd_attach(&a->users, fds[0]) != 0)
			log_event("table-refused", "table=users reason=not-a-cdb");
		else
			log_event("table", "table=users");
		serve_pick_dummy(a);
		break;
	case CTL_SESSION:
		add_session(a, &m, fds[0]);
		break;
	case CTL_TLS:
		set_tls(a, &m);
		break;
	default:
		break;
	}
	sodium_memzero(&m, sizeof(m));
	return 1;
}

/* ------------------------------------------------------------- the loop */

/* Verify the waiting sessions whose delay is over; returns the poll
 * timeout until the next one (-1: none). */
static int run_due(struct authd *a)
{
	uint64_t now = clock_ms(), next = UINT64_MAX;

	for (size_t i = 0; i < a->hi; i++) {
		struct asess *s = &a->s[i];

		if (s->state != AS_WAIT)
			continue;
		if (s->due_ms <= now)
			start_verify(a, s, token_of(a, s));
		else if (s->due_ms < next)
			next = s->due_ms;
	}
	if (next == UINT64_MAX)
		return -1;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

/* Run (see serve.h). */
int serve_run(struct authd *a)
{
	struct pollfd *pfd = a->pfd;

	for (;;) {
		size_t n = 0;
		int timeout = run_due(a), rc;

		pfd[n++] = (struct pollfd){ a->ctl, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ a->wake, POLLIN, 0 };
		while (a->hi > 0 && a->s[a->hi - 1].state == AS_FREE)
			a->hi--;
		for (size_t i = 0; i < a->hi; i++) {
			if (a->s[i].state == AS_FREE)
				continue;
			a->pidx[n] = i;
			pfd[n++] = (struct pollfd){ a->s[i].fd, POLLIN, 0 };
		}
		rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc <= 0)
			continue;
		/* Sessions before results: a second frame that arrived while
		 * a verification was pending is seen as such. */
		for (size_t k = 2; k < n; k++) {
			struct asess *s = &a->s[a->pidx[k]];

			if (pfd[k].revents && s->state != AS_FREE && s->fd == pfd[k].fd)
				on_session(a, s);
		}
		if (a->ctl_status != 1)
			return a->ctl_status;
		if (pfd[1].revents)
			take_results(a);
		/* Through drain_control, which polls before each read: fd 3
		 * is blocking, and an AUTH may have drained it meanwhile. */
		if (pfd[0].revents) {
			drain_control(a);
			if (a->ctl_status != 1)
				return a->ctl_status;
		}
	}
}
