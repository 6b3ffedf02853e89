/*
 * loop.c — the master's poll loop: the signalfd, the listeners (unless
 * paused or closed), every session's log pipe and, with postern-tlsd in
 * front, tlsd's log pipe and facts socket, plus a one-second tick.
 *
 * Shutdown (SIGTERM or SIGINT): close the listeners (stop accepting), let
 * the sessions finish for up to shutdown_timeout, then SIGTERM those left,
 * wait 2 s, SIGKILL what is still there, reap it all, log event=stopped
 * and return 0.  A second SIGTERM/SIGINT skips to the next phase.  The
 * long-running daemons (daemon.c) are stopped last, once no session is
 * left.  The tick also restarts dead daemons when their backoff is over
 * and re-stats the table files (daemon.c, tables.c); SIGHUP reopens them.
 *
 * Process: postern (master).  Descriptors: listeners, signalfd, log pipes,
 * the daemons' log pipes and control sockets, all non-blocking.  Failure policy: nothing a child does can block the
 * loop; a poll error other than EINTR is fatal (exit 111).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "children.h"
#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "reload.h"
#include "signals.h"
#include "tlsd.h"
#include "tlsfactory.h"
#include "tlsfiles.h"
#include "workers.h"

#define TICK_MS 1000u
#define TERM_GRACE_MS 2000u

/* What a session's poll entry is. */
enum entry_kind { E_SMTPD_LOG, E_TLSD_LOG, E_TLSD_FACTS };

/* The poll set and which session each log entry belongs to. */
struct pollset {
	struct pollfd *fds;
	struct session **owner;		/* NULL for signalfd and listeners */
	unsigned char *kind;		/* enum entry_kind of an owner entry */
	int *listener;			/* listener index, or -1 */
	size_t n;
	size_t dstart;			/* first daemon entry (daemon.c) */
	size_t wstart;			/* first delivery worker entry (workers.c) */
	size_t fstart;			/* first tlsd factory entry (tlsfactory.c) */
};

/* Most entries one module (daemons, workers, factories) gives the loop. */
#define MODULE_FDS_MAX (2 * DAEMON_COUNT + WORKERS_MAX + 2 * TLSFACTORY_SLOTS)

/* Append a module's k entries (descriptor -1: ignored by poll). */
static void append_module(struct pollset *p, size_t k, const int *fds, const short *events)
{
	for (size_t i = 0; i < k; i++) {
		p->fds[p->n] = (struct pollfd){ fds[i], events[i], 0 };
		p->owner[p->n] = NULL;
		p->listener[p->n++] = -1;
	}
}

/* Build the poll set for this round. */
static void pollset_build(struct pollset *p, const struct master *m, uint64_t now)
{
	int fds[MODULE_FDS_MAX];
	short events[MODULE_FDS_MAX];

	p->n = 0;
	p->fds[p->n] = (struct pollfd){ m->sigfd, POLLIN, 0 };
	p->owner[p->n] = NULL;
	p->listener[p->n++] = -1;
	if (m->state == MS_RUNNING && now >= m->accept_pause_until) {
		for (unsigned i = 0; i < m->nlisten; i++) {
			p->fds[p->n] = (struct pollfd){ m->lfd[i], POLLIN, 0 };
			p->owner[p->n] = NULL;
			p->listener[p->n++] = (int)i;
		}
	}
	for (size_t i = 0; i < m->sessions.n; i++) {
		struct session *s = m->sessions.v[i];
		int fd[3] = { s->logfd, s->tls_logfd, s->tls_factsfd };

		for (int k = 0; k < 3; k++) {
			if (fd[k] < 0)
				continue;
			p->fds[p->n] = (struct pollfd){ fd[k], POLLIN, 0 };
			p->owner[p->n] = s;
			p->kind[p->n] = (unsigned char)k;
			p->listener[p->n++] = -1;
		}
	}
	p->dstart = p->n;
	append_module(p, daemons_pollfds(m, fds, events), fds, events);
	p->wstart = p->n;
	append_module(p, workers_pollfds(m, fds, events), fds, events);
	p->fstart = p->n;
	append_module(p, tlsfactory_pollfds(m, fds, events), fds, events);
}

/* Milliseconds poll may sleep: until the next tick or phase deadline. */
static int poll_timeout(const struct master *m, uint64_t now, uint64_t next_tick)
{
	uint64_t until = next_tick;

	if (m->state != MS_RUNNING && m->deadline_ms < until)
		until = m->deadline_ms;
	if (m->state == MS_RUNNING && m->accept_pause_until > now &&
	    m->accept_pause_until < until)
		until = m->accept_pause_until;
	return until <= now ? 0 : (int)(until - now);
}

/* Enter the next shutdown phase (signal: the one that asked, or 0). */
static void shutdown_step(struct master *m, int sig)
{
	uint64_t now = now_ms();

	switch (m->state) {
	case MS_RUNNING:
		listen_close_all(m);
		tlsfactory_stop_all(m, 0);
		m->state = MS_DRAINING;
		m->deadline_ms = now + m->conf->shutdown_timeout * 1000u;
		log_event("stopping", "signal=%s sessions=%zu shutdown_timeout=%llu",
		          sig == SIGINT ? "SIGINT" : "SIGTERM", m->sessions.n,
		          (unsigned long long)m->conf->shutdown_timeout);
		break;
	case MS_DRAINING:
		m->state = MS_TERMINATING;
		m->deadline_ms = now + TERM_GRACE_MS;
		log_event("stopping", "phase=terminate sessions=%zu", m->sessions.n);
		children_signal_all(m, SIGTERM);
		break;
	case MS_TERMINATING:
		log_event("stopping", "phase=kill sessions=%zu", m->sessions.n);
		children_signal_all(m, SIGKILL);
		children_reap_all_blocking(m);
		break;
	}
}

/* Handle the signals read this round. */
static void on_signals(struct master *m, struct master_conf *scratch)
{
	struct signals_seen seen;

	signals_read(m->sigfd, &seen);
	if (seen.chld)
		children_reap(m);
	if (seen.hup && m->state == MS_RUNNING) {
		reload_config(m, scratch);
		tlsfactory_replace_all(m, "reload");
		/* New tlsd's load the files as they are now: say how they are. */
		(void)tlsfiles_check(m);
		daemons_refresh_tables(m, 1);
	}
	if (seen.stop)
		shutdown_step(m, seen.stop);
}

/* Handle the descriptors poll reported ready. */
static void on_ready(struct master *m, const struct pollset *p)
{
	/* Log pipes first: the session pointers are valid until reaping. */
	for (size_t i = 1; i < p->n; i++) {
		if (p->owner[i] == NULL || p->fds[i].revents == 0)
			continue;
		switch (p->kind[i]) {
		case E_SMTPD_LOG: children_read_log(m, p->owner[i]); break;
		case E_TLSD_LOG: children_read_tls_log(m, p->owner[i]); break;
		case E_TLSD_FACTS: tlsd_read_facts(m, p->owner[i]); break;
		}
	}
	for (size_t i = p->dstart; i < p->wstart; i++)
		daemons_on_ready(m, i - p->dstart, p->fds[i].revents);
	for (size_t i = p->wstart; i < p->fstart; i++)
		workers_on_ready(m, i - p->wstart, p->fds[i].revents);
	for (size_t i = p->fstart; i < p->n; i++)
		tlsfactory_on_ready(m, i - p->fstart, p->fds[i].revents);
	/* After the daemons' queues were flushed: acks that waited on them. */
	tlsd_acks_flush(m);
	for (size_t i = 1; i < p->n; i++) {
		if (p->listener[i] >= 0 && (p->fds[i].revents & POLLIN) &&
		    m->state == MS_RUNNING)
			accept_ready(m, (unsigned)p->listener[i]);
	}
}

/* Allocate the poll set for the most descriptors the loop can have. */
static void pollset_alloc(struct pollset *p)
{
	/* Per session: smtpd's log, tlsd's log, the facts socket. */
	size_t cap = 1 + CONF_LISTEN_MAX + 3 * CONF_CONNECTIONS_HARD_MAX + 2 * DAEMON_COUNT +
	             WORKERS_MAX + 2 * TLSFACTORY_SLOTS;

	p->fds = calloc(cap, sizeof(p->fds[0]));
	p->owner = calloc(cap, sizeof(p->owner[0]));
	p->kind = calloc(cap, sizeof(p->kind[0]));
	p->listener = calloc(cap, sizeof(p->listener[0]));
	if (p->fds == NULL || p->owner == NULL || p->kind == NULL || p->listener == NULL)
		log_fatal("reason=out-of-memory");
}

/* Run the loop (see loop.h). */
int loop_run(struct master *m, struct master_conf *scratch)
{
	struct pollset p;
	uint64_t next_tick = now_ms() + TICK_MS;

	pollset_alloc(&p);
	for (;;) {
		uint64_t now = now_ms();
		int r;

		if (m->state != MS_RUNNING && m->sessions.n == 0)
			break;
		if (m->state != MS_RUNNING && now >= m->deadline_ms) {
			shutdown_step(m, 0);
			continue;
		}
		pollset_build(&p, m, now);
		r = poll(p.fds, p.n, poll_timeout(m, now, next_tick));
		if (r < 0 && errno != EINTR)
			log_fatal("reason=poll error=%s", strerrorname_np(errno));
		if (r > 0) {
			on_ready(m, &p);
			if (p.fds[0].revents & POLLIN)
				on_signals(m, scratch);
		}
		/* After `ready` or a death: bind and respawn delivery workers. */
		workers_step(m);
		tlsfactory_step(m);
		if (now_ms() >= next_tick) {
			children_tick(m);
			daemons_tick(m);
			workers_tick(m);
			tlsfactory_tick(m);
			if (m->state == MS_RUNNING)
				daemons_refresh_tables(m, 0);
			next_tick = now_ms() + TICK_MS;
		}
	}
	free(p.fds);
	free(p.owner);
	free(p.kind);
	free(p.listener);
	daemons_stop_all(m, TERM_GRACE_MS);
	log_event("stopped", "status=0");
	return 0;
}
