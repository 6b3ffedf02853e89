/*
 * children.c — how sessions end (see children.h).
 *
 * Log lines: event=session-end session=ID status=exit:N | signal=SIGNAME,
 * duration_ms=N; and for a child killed by SIGSYS, first
 * event=sandbox-violation session=ID role=smtpd signal=SIGSYS: the seccomp
 * filter killed it for a forbidden syscall, which means a bug or an attack
 * in the parser and deserves an operator's eye.
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

/* Per poll wake-up, and for the final drain of a dead child's pipe. */
#define READ_BUDGET (64u * 1024)
#define DRAIN_BUDGET (256u * 1024)
/* A session may outlive its session_timeout by this much (smtpd enforces
 * the timeout itself; this is the backstop). */
#define SESSION_GRACE_MS (30u * 1000)

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

/* Log how session s ended. */
static void log_end(const struct session *s, int status)
{
	struct logline l;
	char name[32];

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		ll_begin(&l, "sandbox-violation");
		ll_str(&l, "session", s->id);
		ll_str(&l, "role", "smtpd");
		ll_str(&l, "signal", "SIGSYS");
		ll_i64(&l, "pid", s->pid);
		ll_emit(&l);
	}
	ll_begin(&l, "session-end");
	ll_str(&l, "session", s->id);
	if (WIFEXITED(status)) {
		snprintf(name, sizeof(name), "exit:%d", WEXITSTATUS(status));
		ll_str(&l, "status", name);
	} else {
		signal_name(WIFSIGNALED(status) ? WTERMSIG(status) : 0, name, sizeof(name));
		ll_str(&l, "signal", name);
	}
	ll_u64(&l, "duration_ms", now_ms() - s->started_ms);
	ll_emit(&l);
}

/* Session s's child ended with status: drain, log, forget. */
static void session_ended(struct master *m, struct session *s, int status)
{
	uint64_t now_s = now_ms() / 1000;

	if (s->logfd >= 0) {
		logrelay_read(&s->relay, s->logfd, s->id, m->conf->log_lines_per_second,
		              now_s, DRAIN_BUDGET);
		logrelay_finish(&s->relay, s->id, m->conf->log_lines_per_second, now_s);
		close(s->logfd);
		s->logfd = -1;
	}
	log_end(s, status);
	sessions_remove(&m->sessions, s);
}

/* One reaped pid: its session, or a child we do not know. */
static void reaped(struct master *m, pid_t pid, int status)
{
	struct session *s;

	if (daemons_reaped(m, pid, status))
		return;
	s = sessions_by_pid(&m->sessions, pid);
	if (s != NULL)
		session_ended(m, s, status);
	else
		log_event("child-exit", "pid=%ld", (long)pid);
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
				session_ended(m, m->sessions.v[0], 0);
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
		if (!s->killed && now - s->started_ms > limit) {
			kill(s->pid, SIGKILL);
			s->killed = 1;
			log_event("session-killed", "session=%s reason=session_timeout",
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
		kill(m->sessions.v[i]->pid, sig);
	}
}
