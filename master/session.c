/*
 * session.c — spawning postern-smtpd (and, on starttls and tls listeners,
 * postern-tlsd in front of it, master/tlsd.c) for one accepted connection.
 *
 * Process: postern (master, root); the code after vfork (child_spawn) runs
 * in the child until execveat.  postern-smtpd is exec'd as root with:
 *   fd 0  the client's TCP socket (plain listener; non-blocking); on a
 *         starttls listener the pre-TLS pair to tlsd; on tls /dev/null
 *   fd 1  /dev/null on a plain listener, else the post-TLS pair to tlsd
 *   fd 2  write end of a new log pipe; the master relays it (logrelay.c)
 *   fd 3  /dev/null on a plain listener, else the control pair to tlsd
 *   fd 4  one end of a new SOCK_SEQPACKET socketpair (auth channel)
 *   fd 5  one end of another (queue channel)
 * (postern-tlsd's own layout and argv: master/tlsd.c, lib/fds.h).  Both
 * are exec'd from the descriptors opened and checked at start (progfd.h),
 * never by path.
 * and nothing else (close_range), an empty environment (no LD_*, nothing
 * inherited from whoever started the master), a default signal mask and
 * dispositions, its own session (setsid: a Ctrl-C on the master's terminal
 * must not reach the sessions; the master ends them), and the command line
 *   postern-smtpd -s ID -m MODE -h HOSTNAME -a IP -p PORT -z SIZE -n RCPTS
 *                 -t IDLE_S -T SESSION_S -c COMMAND_S -P PREAUTH_S
 *                 -u UID -g GID -r EMPTY_DIR
 * whose values are trusted facts: the id is ours, the address comes from
 * accept(2), the rest from the configuration.  postern-smtpd enters its
 * sandbox (chroot to EMPTY_DIR, drop to UID/GID, seccomp) itself.
 *
 * The master's ends of the auth and queue socketpairs go to postern-authd
 * and postern-queued with the session's trusted facts (daemon.c `session`
 * frame); when a daemon is down or not built, its end is closed at once, so
 * postern-smtpd sees a dead peer there (AUTH -> 454 4.7.0; MAIL -> 451).
 *
 * Failure policy: a failure before fork refuses this one connection (logged,
 * client closed); a failure in the child after fork ends it with _exit(127)
 * after one log line on fd 2.  The master never waits on the child.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "fds.h"
#include "log.h"
#include "progfd.h"
#include "session.h"
#include "tlsd.h"
#include "tlsfactory.h"

#define NUM_MAX 24
#define ARGV_MAX 32

/* The strings of one child's command line. */
struct spawn_args {
	char port[NUM_MAX], size[NUM_MAX], rcpts[NUM_MAX], idle[NUM_MAX];
	char total[NUM_MAX], command[NUM_MAX], preauth[NUM_MAX];
	char uid[NUM_MAX], gid[NUM_MAX];
	char *argv[ARGV_MAX];
};

/* Format an unsigned number into buf[NUM_MAX]. */
static void num(char buf[NUM_MAX], unsigned long long v)
{
	snprintf(buf, NUM_MAX, "%llu", v);
}

/* Build path and argv for s (contract: smtpd/args.h, smtpd/main.c). */
static int build_args(struct spawn_args *a, const struct master *m,
                      struct session *s, const struct listen_spec *l)
{
	const struct master_conf *c = m->conf;
	size_t i = 0;

	num(a->port, s->port);
	num(a->size, c->message_size_max);
	num(a->rcpts, c->recipients_max);
	num(a->idle, c->idle_timeout);
	num(a->total, c->session_timeout);
	num(a->command, c->smtpd_command_timeout);
	num(a->preauth, c->smtpd_preauth_timeout);
	num(a->uid, m->ids.uid[ROLE_SMTPD]);
	num(a->gid, m->ids.gid[ROLE_SMTPD]);
	/* Bounded: an option added without raising ARGV_MAX fails the spawn
	 * instead of writing past argv. */
#define ARG(x) do { if (i >= ARGV_MAX) return -1; a->argv[i++] = (char *)(x); } while (0)
	ARG("postern-smtpd");
	ARG("-s"); ARG(s->id);
	ARG("-m"); ARG(listen_mode_name(l->mode));
	ARG("-h"); ARG(c->hostname);
	ARG("-a"); ARG(s->ip);
	ARG("-p"); ARG(a->port);
	ARG("-z"); ARG(a->size);
	ARG("-n"); ARG(a->rcpts);
	ARG("-t"); ARG(a->idle);
	ARG("-T"); ARG(a->total);
	ARG("-c"); ARG(a->command);
	ARG("-P"); ARG(a->preauth);
	ARG("-u"); ARG(a->uid);
	ARG("-g"); ARG(a->gid);
	ARG("-r"); ARG(c->empty_dir);
	ARG(NULL);
#undef ARG
	return 0;
}

/* Client address and port of s from the trusted accept() result. */
static void set_peer(struct session *s, const struct sockaddr_storage *peer)
{
	s->peer = *peer;
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)peer;

		inet_ntop(AF_INET6, &sa->sin6_addr, s->ip, sizeof(s->ip));
		s->port = ntohs(sa->sin6_port);
	} else {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)peer;

		inet_ntop(AF_INET, &sa->sin_addr, s->ip, sizeof(s->ip));
		s->port = ntohs(sa->sin_port);
	}
}

/* The child's descriptors (see the header comment); the master keeps only
 * logp[0].  Returns 0, or -1 with everything closed again. */
static int make_fds(const struct master *m, int client, int src[SMTPD_FD_COUNT],
                    int *logread, int ends[DAEMON_COUNT])
{
	int logp[2], authp[2], queuep[2];

	if (pipe2(logp, O_CLOEXEC) != 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, authp) != 0)
		goto fail_log;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, queuep) != 0)
		goto fail_auth;
	/* Only our end is non-blocking: a slow master slows the child's log
	 * writes, it never loses or blocks on them. */
	if (fcntl(logp[0], F_SETFL, O_NONBLOCK) != 0) {
		close(authp[0]);
		close(authp[1]);
		close(queuep[0]);
		close(queuep[1]);
		goto fail_log;
	}
	ends[DAEMON_AUTHD] = authp[0];
	ends[DAEMON_QUEUED] = queuep[0];
	src[SMTPD_FD_CLIENT] = client;
	src[SMTPD_FD_POSTTLS] = m->devnull;
	src[SMTPD_FD_LOG] = logp[1];
	src[SMTPD_FD_CONTROL] = m->devnull;
	src[SMTPD_FD_AUTH] = authp[1];
	src[SMTPD_FD_QUEUE] = queuep[1];
	*logread = logp[0];
	return 0;
fail_auth:
	close(authp[0]);
	close(authp[1]);
fail_log:
	close(logp[0]);
	close(logp[1]);
	return -1;
}

/* Undo make_fds (nothing was started). */
static void close_spawn_fds(const int src[SMTPD_FD_COUNT], int logread,
                            const int ends[DAEMON_COUNT])
{
	close(src[SMTPD_FD_LOG]);
	close(src[SMTPD_FD_AUTH]);
	close(src[SMTPD_FD_QUEUE]);
	close(logread);
	for (int i = 0; i < DAEMON_COUNT; i++)
		close(ends[i]);
}

/* Log the start of session s. */
static void log_connect(const struct session *s, const struct listen_spec *l)
{
	struct logline ll;

	ll_begin(&ll, "connect");
	ll_str(&ll, "session", s->id);
	ll_str(&ll, "ip", s->ip);
	ll_u64(&ll, "port", s->port);
	ll_str(&ll, "listen", l->text);
	ll_str(&ll, "mode", listen_mode_name(l->mode));
	ll_i64(&ll, "pid", s->pid);
	if (s->tls_pid > 0) {
		ll_i64(&ll, "tlsd_pid", s->tls_pid);
		ll_str(&ll, "tlsd_from", s->tls_factory_gen != 0 ? "factory" : "exec");
	}
	ll_emit(&ll);
}


/* Start postern-tlsd for s from t: forked by the listener mode's
 * factory when one is ready, else exec'd; its pid, or -1. */
static pid_t fork_tlsd(struct master *m, struct session *s, const struct listen_spec *l,
                       struct tlsd_spawn *t)
{
	uint64_t gen = 0;
	pid_t pid = tlsfactory_fork(m, l->mode, t->src, &gen);

	if (pid < 0 && errno != ENOENT)
		return -1;	/* a factory's child may hold the descriptors */
	if (pid < 0)
		pid = child_spawn("tlsd", t->src, TLSD_FD_COUNT, m->prog_tlsd, t->args.argv);
	else
		s->tls_factory_gen = gen;

	if (pid > 0) {
		s->tls_pid = pid;
		s->tls_logfd = t->logread;
		s->tls_factsfd = t->facts;
		snprintf(s->tls_logkey, sizeof(s->tls_logkey), "session=%s role=tlsd", s->id);
		logrelay_init(&s->tls_relay);
	}
	return pid;
}

/* Spawn postern-smtpd, behind postern-tlsd on TLS listeners (see
 * session.h). */
int session_spawn(struct master *m, int client, const struct sockaddr_storage *peer,
                  const struct listen_spec *l)
{
	static struct spawn_args a;
	static struct tlsd_spawn t;
	int src[SMTPD_FD_COUNT], logread = -1, ends[DAEMON_COUNT];
	int tls = l->mode != LISTEN_PLAIN;
	struct session *s = sessions_add(&m->sessions);
	const char *step = "session-table";
	int err = ENOMEM;

	if (s == NULL)
		goto fail;
	randid_make(s->id);
	set_peer(s, peer);
	logrelay_init(&s->relay);
	step = "arguments";
	err = ENAMETOOLONG;
	if (build_args(&a, m, s, l) != 0)
		goto fail;
	step = "program";
	err = ENOENT;
	if (tls && m->prog_tlsd < 0)
		goto fail;
	step = "descriptors";
	if (make_fds(m, client, src, &logread, ends) != 0) {
		err = errno;
		goto fail;
	}
	if (tls && tlsd_prepare(m, s, l, client, src, &t) != 0) {
		err = errno;
		close_spawn_fds(src, logread, ends);
		goto fail;
	}
	step = "fork";
	if (tls && fork_tlsd(m, s, l, &t) < 0) {
		err = errno;
		tlsd_abandon(&t);
		close_spawn_fds(src, logread, ends);
		goto fail;
	}
	s->pid = child_spawn("smtpd", src, SMTPD_FD_COUNT, m->prog_smtpd, a.argv);
	err = errno;
	close(src[SMTPD_FD_LOG]);
	close(src[SMTPD_FD_AUTH]);
	close(src[SMTPD_FD_QUEUE]);
	if (tls)
		tlsd_close_child_ends(&t);
	if (s->pid < 0) {
		for (int i = 0; i < DAEMON_COUNT; i++)
			close(ends[i]);
		close(logread);
		if (tls) {
			/* tlsd is running without its smtpd: end it; the
			 * session stays until it is reaped. */
			kill(s->tls_pid, SIGKILL);
			s->killed = 1;
			s->smtpd_done = 1;
			s->smtpd_ended_ms = now_ms();
			s->started_ms = now_ms();
			close(client);
			log_event("error", "reason=spawn-failed step=fork error=%s",
			          strerrorname_np(err) ? strerrorname_np(err) : "unknown");
			return -1;
		}
		goto fail;
	}
	close(client);
	daemons_bind_session(m, s, l, ends);
	s->logfd = logread;
	s->started_ms = now_ms();
	log_connect(s, l);
	return 0;
fail:
	log_event("error", "reason=spawn-failed step=%s error=%s", step,
	          strerrorname_np(err) ? strerrorname_np(err) : "unknown");
	if (s != NULL)
		sessions_remove(&m->sessions, s);
	close(client);
	return -1;
}
