/*
 * children.c — how sessions end (see children.h).
 *
 * Log lines: event=session-end session=ID status=exit:N | signal=SIGNAME,
 * duration_ms=N; and for a child killed by SIGSYS, first
 * event=sandbox-violation session=ID role=smtpd|tlsd signal=SIGSYS: the
 * seccomp filter killed it for a forbidden syscall, which means a bug or
 * an attack and deserves an operator's eye.  postern-tlsd's end is logged
 * as event=tlsd-end session=ID status=...|signal=....
 *
 * A session with postern-tlsd in front ends as a pair: when tlsd exits
 * (client gone, handshake failed, killed) smtpd is sent SIGTERM, since
 * its client is gone; when smtpd exits, tlsd is left to pass its last
 * reply (the 221) on and to exit at EOF, and is sent SIGKILL if it is
 * still there TLSD_GRACE_MS later.  The session is forgotten only when
 * both are reaped, so a pid is never signalled after it was reaped.
 *
 * Process: postern (master).  Descriptors: the sessions' log pipes.
 * Failure policy: the drain of a dead child's pipe is bounded; whatever is
 * left after it is dropped.  The master's own state never depends on what
 * a child wrote.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"
#include "log.h"
#include "tlsd.h"
#include "tlsfactory.h"
#include "workers.h"

/* Per poll wake-up, and for the final drain of a dead child's pipe. */
#define READ_BUDGET (64u * 1024)
#define DRAIN_BUDGET (256u * 1024)
/* A session may outlive its session_timeout by this much (smtpd enforces
 * the timeout itself; this is the backstop). */
#define SESSION_GRACE_MS (30u * 1000)
/* How long tlsd may outlive its smtpd (flushing the last reply). */
#define TLSD_GRACE_MS 3000u

/* "SIGSYS" for SIGSYS; numeric for unnamed signals. */
static void signal_name(int sig, char *out, size_t cap)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(out, cap, "SIG%s", abbrev);
	else
		snprintf(out, cap, "%d", sig);
}

/* Relay what session s's pipe holds now. */
void children_read_log(struct master *m, struct session *s)
{
	uint64_t now_s = now_ms() / 1000;

	if (s->logfd < 0)
		return;
	if (!logrelay_read(&s->relay, s->logfd, s->id, m->conf->log_lines_per_second,
	                   now_s, READ_BUDGET)) {
		logrelay_finish(&s->relay, s->id, m->conf->log_lines_per_second, now_s);
		close(s->logfd);
		s->logfd = -1;
	}
}

/* Relay what tlsd's log pipe of s holds now. */
void children_read_tls_log(struct master *m, struct session *s)
{
	uint64_t now_s = now_ms() / 1000;

	if (s->tls_logfd < 0)
		return;
	if (!logrelay_read(&s->tls_relay, s->tls_logfd, s->tls_logkey,
	                   m->conf->log_lines_per_second, now_s, READ_BUDGET)) {
		logrelay_finish(&s->tls_relay, s->tls_logkey, m->conf->log_lines_per_second,
		                now_s);
		close(s->tls_logfd);
		s->tls_logfd = -1;
	}
}

/* A SIGSYS death is a sandbox violation: say so first. */
static void log_violation(const struct session *s, const char *role, pid_t pid,
                          int status)
{
	struct logline l;

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		return;
	ll_begin(&l, "sandbox-violation");
	ll_str(&l, "session", s->id);
	ll_str(&l, "role", role);
	ll_str(&l, "signal", "SIGSYS");
	ll_i64(&l, "pid", pid);
	ll_emit(&l);
}

/* "status" exit:N or "signal" SIGNAME of a wait status, into l. */
static void ll_status(struct logline *l, int status)
{
	char name[32];

	if (WIFEXITED(status)) {
		snprintf(name, sizeof(name), "exit:%d", WEXITSTATUS(status));
		ll_str(l, "status", name);
	} else {
		signal_name(WIFSIGNALED(status) ? WTERMSIG(status) : 0, name, sizeof(name));
		ll_str(l, "signal", name);
	}
}

/* Log how session s ended (smtpd's status). */
static void log_end(const struct session *s, int status)
{
	struct logline l;

	ll_begin(&l, "session-end");
	ll_str(&l, "session", s->id);
	ll_status(&l, status);
	ll_u64(&l, "duration_ms", now_ms() - s->started_ms);
	ll_emit(&l);
}

/* Relay the rest of one log pipe (bounded) and close it. */
static void drain(struct master *m, struct logrelay *r, int *fd, const char *key)
{
	uint64_t now_s = now_ms() / 1000;

	if (*fd < 0)
		return;
	logrelay_read(r, *fd, key, m->conf->log_lines_per_second, now_s, DRAIN_BUDGET);
	logrelay_finish(r, key, m->conf->log_lines_per_second, now_s);
	close(*fd);
	*fd = -1;
}

/* Both processes of s are gone (or there was only smtpd): log, forget. */
static void session_finish(struct master *m, struct session *s)
{
	drain(m, &s->relay, &s->logfd, s->id);
	drain(m, &s->tls_relay, &s->tls_logfd, s->tls_logkey);
	if (s->tls_factsfd >= 0)
		close(s->tls_factsfd);
	s->tls_factsfd = -1;
	log_end(s, s->smtpd_status);
	sessions_remove(&m->sessions, s);
}

/* Session s's postern-smtpd ended with status. */
static void smtpd_ended(struct master *m, struct session *s, int status)
{
	drain(m, &s->relay, &s->logfd, s->id);
	log_violation(s, "smtpd", s->pid, status);
	s->smtpd_done = 1;
	s->smtpd_status = status;
	s->smtpd_ended_ms = now_ms();
	if (s->tls_pid == 0 || s->tls_done)
		session_finish(m, s);
}

/* Session s's postern-tlsd ended with status: its client is gone, so
 * smtpd is ended too. */
static void tlsd_ended(struct master *m, struct session *s, int status)
{
	struct logline l;

	/* The facts frame may still sit in the socket: take it first. */
	if (s->tls_factsfd >= 0)
		tlsd_read_facts(m, s);
	drain(m, &s->tls_relay, &s->tls_logfd, s->tls_logkey);
	log_violation(s, "tlsd", s->tls_pid, status);
	ll_begin(&l, "tlsd-end");
	ll_str(&l, "session", s->id);
	ll_status(&l, status);
	ll_emit(&l);
	s->tls_done = 1;
	if (s->tls_factory_gen != 0)
		tlsfactory_child_ended(m, s->tls_factory_gen, status);
	if (s->tls_factsfd >= 0)
		close(s->tls_factsfd);
	s->tls_factsfd = -1;
	if (!s->smtpd_done)
		kill(s->pid, SIGTERM);
	else
		session_finish(m, s);
}

/* One reaped pid: its session, or a child we do not know. */
static void reaped(struct master *m, pid_t pid, int status)
{
	struct session *s;

	if (daemons_reaped(m, pid, status) || workers_reaped(m, pid, status) ||
	    tlsfactory_reaped(m, pid, status))
		return;
	s = sessions_by_pid(&m->sessions, pid);
	if (s == NULL)
		log_event("child-exit", "pid=%ld", (long)pid);
	else if (s->tls_pid == pid && !s->tls_done)
		tlsd_ended(m, s, status);
	else
		smtpd_ended(m, s, status);
}

/* Reap every exited child without blocking. */
void children_reap(struct master *m)
{
	for (;;) {
		int status = 0;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		reaped(m, pid, status);
	}
}

/* Wait for every session's child (they were sent SIGKILL). */
void children_reap_all_blocking(struct master *m)
{
	while (m->sessions.n > 0) {
		int status = 0;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0) {
			/* ECHILD: nothing left to wait for; forget the rest */
			while (m->sessions.n > 0)
				session_finish(m, m->sessions.v[0]);
			return;
		}
		reaped(m, pid, status);
	}
}

/* Once a second: rate windows and the session_timeout backstop. */
void children_tick(struct master *m)
{
	uint64_t now = now_ms();
	uint64_t limit = m->conf->session_timeout * 1000u + SESSION_GRACE_MS;

	for (size_t i = 0; i < m->sessions.n; i++) {
		struct session *s = m->sessions.v[i];

		logrelay_tick(&s->relay, s->id, now / 1000);
		if (s->tls_pid > 0)
			logrelay_tick(&s->tls_relay, s->tls_logkey, now / 1000);
		if (!s->killed && now - s->started_ms > limit) {
			sessions_kill(s, SIGKILL);
			s->killed = 1;
			log_event("session-killed", "session=%s reason=session_timeout",
			          s->id);
		}
		if (s->smtpd_done && s->tls_pid > 0 && !s->tls_done && !s->tls_killed &&
		    now - s->smtpd_ended_ms > TLSD_GRACE_MS) {
			kill(s->tls_pid, SIGKILL);
			s->tls_killed = 1;
			log_event("session-killed", "session=%s role=tlsd reason=smtpd-ended",
			          s->id);
		}
	}
}

/* Send sig to every live session. */
void children_signal_all(struct master *m, int sig)
{
	for (size_t i = 0; i < m->sessions.n; i++) {
		if (sig == SIGKILL)
			m->sessions.v[i]->killed = 1;
		sessions_kill(m->sessions.v[i], sig);
	}
}
