/*
 * tlsfactory.c — the master's tlsd factories (see tlsfactory.h; the
 * factory's side: smtpd/tlsd_factory.c).
 *
 * Process: postern (master).  Descriptors per factory: the master's end
 * of its request socket (SOCK_SEQPACKET, non-blocking; grammar and both
 * ends' framing in lib/factorychan.h) and the read end of its log pipe.  Failure policy: anything unexpected from a factory
 * (a packet other than `ready`, a late, missing or malformed reply) gets
 * it killed and replaced; the session in hand falls back to an exec'd
 * tlsd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "childend.h"
#include "factorychan.h"
#include "fdpass.h"
#include "log.h"
#include "master.h"
#include "sandbox.h"
#include "tlsd.h"
#include "tlsfactory.h"

/* How long a fork request may take (the factory's clone is ~0.3 ms). */
#define FORK_REPLY_MS 2000
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define LOG_BUDGET (64u * 1024)
/* A retired factory exits at EOF at once; this long, and it is killed. */
#define RETIRE_GRACE_MS 5000u

/* The slot of the factory serving mode now, or NULL. */
static struct tls_factory *current(struct master *m, int mode)
{
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		struct tls_factory *f = &m->tls_factories.v[i];

		if (f->used && !f->retiring && f->mode == mode)
			return f;
	}
	return NULL;
}

/* 1 if a listener of mode is configured and factories are on. */
static int wanted(const struct master *m, int mode)
{
	const struct master_conf *c = m->conf;

	if (!c->tls_factory || m->state != MS_RUNNING || m->prog_tlsd < 0)
		return 0;
	for (unsigned i = 0; i < c->nlisten; i++) {
		if ((int)c->listen[i].mode == mode)
			return 1;
	}
	return 0;
}

/* A signature of the certificate and key files: a new file (certbot
 * renews by replacing) or a rewrite changes it. */
static uint64_t files_sig(const struct master_conf *c)
{
	const char *paths[] = { c->tls_cert, c->tls_key, c->tls_cert2, c->tls_key2 };
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct stat st;
		uint64_t v[5] = { 0 };

		if (paths[i][0] != '\0' && stat(paths[i], &st) == 0) {
			v[0] = (uint64_t)st.st_ino;
			v[1] = (uint64_t)st.st_dev;
			v[2] = (uint64_t)st.st_size;
			v[3] = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
			v[4] = (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec;
		}
		for (size_t k = 0; k < 5; k++)
			h = (h ^ v[k]) * 1099511628211ull;
	}
	return h;
}

/* Close f's socket so it exits; it stays in its slot until reaped. */
static void retire(struct tls_factory *f, const char *reason)
{
	if (!f->used || f->retiring)
		return;
	log_event("tls-factory-replace", "mode=%s pid=%ld forks=%llu reason=%s",
	          listen_mode_name((enum listen_mode)f->mode), (long)f->pid,
	          (unsigned long long)f->forks, reason);
	f->retiring = 1;
	f->retired_ms = now_ms();
	f->ready = 0;
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
}

/* f died or failed on its own: its mode's next factory after 1 s,
 * doubling to 60 s, from 1 s again after a minute of running (no exec
 * loop when, say, the key does not match the certificate). */
static void schedule_restart(struct master *m, const struct tls_factory *f)
{
	uint64_t ran = now_ms() - f->started_ms, *backoff = &m->tls_factories.backoff_ms[f->mode];

	if (ran > 60000 || *backoff == 0)
		*backoff = BACKOFF_MIN_MS;
	else if (*backoff < BACKOFF_MAX_MS / 2)
		*backoff *= 2;
	else
		*backoff = BACKOFF_MAX_MS;
	m->tls_factories.restart_at_ms[f->mode] = now_ms() + *backoff;
}

/* A factory that broke the protocol or closed its socket (it is dying):
 * kill it, replace it after the backoff. */
static void fail(struct master *m, struct tls_factory *f, const char *reason)
{
	log_event("tls-factory-failed", "mode=%s pid=%ld reason=%s",
	          listen_mode_name((enum listen_mode)f->mode), (long)f->pid, reason);
	if (!f->retiring)
		schedule_restart(m, f);
	retire(f, "failed");
	if (f->pid > 0)
		kill(f->pid, SIGKILL);
}

/* Nothing running (see tlsfactory.h). */
void tlsfactory_init(struct master *m)
{
	memset(&m->tls_factories, 0, sizeof(m->tls_factories));
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		m->tls_factories.v[i].sock = -1;
		m->tls_factories.v[i].logfd = -1;
	}
}

/* A free slot, or NULL. */
static struct tls_factory *free_slot(struct master *m)
{
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		if (!m->tls_factories.v[i].used)
			return &m->tls_factories.v[i];
	}
	return NULL;
}

/* Exec a factory for mode into the free slot f. */
static void spawn(struct master *m, struct tls_factory *f, int mode)
{
	static struct tlsd_argv a;
	int logp[2] = { -1, -1 }, sock[2] = { -1, -1 }, src[TLSD_FACTORY_FD_COUNT];
	pid_t pid = -1, master = getpid();
	int err = 0;

	tlsd_build_argv(&a, m, mode, 1);
	if (pipe2(logp, O_CLOEXEC) == 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) == 0 &&
	    fcntl(logp[0], F_SETFL, O_NONBLOCK) == 0 &&
	    fcntl(sock[0], F_SETFL, O_NONBLOCK) == 0) {
		src[0] = m->devnull;
		src[1] = m->devnull;
		src[TLSD_FACTORY_FD_LOG] = logp[1];
		src[TLSD_FACTORY_FD_REQUESTS] = sock[1];
		pid = fork();
		if (pid == 0) {
			if (sandbox_die_with_parent(master) != 0)
				_exit(127);
			child_exec("tlsd-factory", src, TLSD_FACTORY_FD_COUNT, m->prog_tlsd, a.argv);
		}
	}
	err = errno;	/* before the closes below */
	for (int i = 0; i < 2; i++) {
		if (logp[i] >= 0 && (pid < 0 || i == 1))
			close(logp[i]);
		if (sock[i] >= 0 && (pid < 0 || i == 1))
			close(sock[i]);
	}
	if (pid < 0) {
		log_event("error", "reason=tls-factory-spawn-failed error=%s",
		          strerrorname_np(err) ? strerrorname_np(err) : "unknown");
		m->tls_factories.restart_at_ms[mode] = now_ms() + BACKOFF_MIN_MS;
		return;
	}
	memset(f, 0, sizeof(*f));
	f->used = 1;
	f->mode = mode;
	f->pid = pid;
	f->sock = sock[0];
	f->logfd = logp[0];
	f->gen = ++m->tls_factories.next_gen;
	f->started_ms = now_ms();
	logrelay_init(&f->relay);
	m->tls_factories.files_sig = files_sig(m->conf);
	log_event("tls-factory-start", "mode=%s pid=%ld", listen_mode_name((enum listen_mode)mode),
	          (long)pid);
}

/* Every loop round (see tlsfactory.h). */
void tlsfactory_step(struct master *m)
{
	uint64_t now = now_ms();

	for (int mode = LISTEN_STARTTLS; mode <= LISTEN_TLS; mode++) {
		struct tls_factory *f = current(m, mode);

		if (f != NULL && !wanted(m, mode))
			retire(f, "unused");
		if (f != NULL || !wanted(m, mode) || now < m->tls_factories.restart_at_ms[mode])
			continue;
		f = free_slot(m);
		if (f != NULL)
			spawn(m, f, mode);
	}
}

/* Wait for and parse the reply to a fork request: the pid, or -1. */
static pid_t read_reply(struct master *m, struct tls_factory *f)
{
	unsigned char buf[FACTORYCHAN_MAX];
	struct factorychan_msg msg;
	struct pollfd p = { f->sock, POLLIN, 0 };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, FORK_REPLY_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		fail(m, f, "no-reply");
		errno = EPROTO;
		return -1;
	}
	n = recv(f->sock, buf, sizeof buf, MSG_DONTWAIT);
	if (n <= 0) {
		fail(m, f, n == 0 ? "closed" : "recv");
		errno = EPROTO;
		return -1;
	}
	if (factorychan_parse(buf, (size_t)n, &msg) == 0 && msg.verb == FC_ERR) {
		log_event("tls-factory-failed", "mode=%s pid=%ld reason=clone error=%s",
		          listen_mode_name((enum listen_mode)f->mode), (long)f->pid, msg.err);
		errno = ENOENT;
		return -1;
	}
	if (factorychan_parse(buf, (size_t)n, &msg) != 0 || msg.verb != FC_PID) {
		fail(m, f, "malformed-reply");
		errno = EPROTO;
		return -1;
	}
	return msg.pid;
}

/* Fork a session's tlsd (see tlsfactory.h). */
pid_t tlsfactory_fork(struct master *m, int mode, const int src[TLSD_FD_COUNT],
                      uint64_t *gen)
{
	struct tls_factory *f = current(m, mode);
	unsigned char fbuf[FACTORYCHAN_MAX];
	size_t fork_len;
	const unsigned char *fork_frame =
		factorychan_write(fbuf, sizeof fbuf, &fork_len, &(struct factorychan_msg){ .verb = FC_FORK });
	pid_t pid;

	errno = ENOENT;
	if (f == NULL || !f->ready)
		return -1;
	if (fork_frame == NULL || fdpass_send(f->sock, fork_frame, fork_len, src, TLSD_FD_COUNT) != 0) {
		fail(m, f, "send");
		errno = ENOENT;
		return -1;
	}
	pid = read_reply(m, f);
	if (pid < 0)
		return -1;	/* errno from read_reply */
	*gen = f->gen;
	if (++f->forks >= m->conf->tls_factory_sessions)
		retire(f, "sessions");
	return pid;
}

/* A forked tlsd ended (see tlsfactory.h). */
void tlsfactory_child_ended(struct master *m, uint64_t gen, int status)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;

	/* SIGKILL and SIGTERM are the master's own; anything else (SIGSEGV,
	 * SIGABRT, SIGSYS, ...) means the child crashed or was caught by
	 * its filter: its siblings share the layout it revealed. */
	if (sig == 0 || sig == SIGKILL || sig == SIGTERM)
		return;
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		struct tls_factory *f = &m->tls_factories.v[i];

		if (f->used && f->gen == gen)
			retire(f, "child-crash");
	}
}

/* pid reaped (see tlsfactory.h). */
int tlsfactory_reaped(struct master *m, pid_t pid, int status)
{
	for (size_t i = 0; i < TLSFACTORY_SLOTS && pid > 0; i++) {
		struct tls_factory *f = &m->tls_factories.v[i];
		uint64_t ran;

		if (!f->used || f->pid != pid)
			continue;
		ran = now_ms() - f->started_ms;
		childend_drain_log(m, &f->relay, &f->logfd, "role=tlsd-factory", 4 * LOG_BUDGET);
		childend_log("tls-factory-exit", "tlsd-factory", pid, status, ran);
		if (!f->retiring)
			schedule_restart(m, f);	/* it died on its own */
		if (f->sock >= 0)
			close(f->sock);
		memset(f, 0, sizeof(*f));
		f->sock = -1;
		f->logfd = -1;
		return 1;
	}
	return 0;
}

/* SIGHUP (see tlsfactory.h). */
void tlsfactory_replace_all(struct master *m, const char *reason)
{
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++)
		retire(&m->tls_factories.v[i], reason);
	memset(m->tls_factories.restart_at_ms, 0, sizeof(m->tls_factories.restart_at_ms));
}

/* Shutdown (see tlsfactory.h). */
void tlsfactory_stop_all(struct master *m, int sig)
{
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		struct tls_factory *f = &m->tls_factories.v[i];

		retire(f, "stopping");
		if (sig != 0 && f->used && f->pid > 0)
			kill(f->pid, sig);
	}
}

/* Once a second (see tlsfactory.h). */
void tlsfactory_tick(struct master *m)
{
	uint64_t now_s = now_ms() / 1000;
	int any = 0;

	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		struct tls_factory *f = &m->tls_factories.v[i];

		if (!f->used)
			continue;
		logrelay_tick(&f->relay, "role=tlsd-factory", now_s);
		any |= !f->retiring;
		if (f->retiring && f->pid > 0 && now_ms() - f->retired_ms > RETIRE_GRACE_MS)
			kill(f->pid, SIGKILL);
	}
	if (any && files_sig(m->conf) != m->tls_factories.files_sig)
		tlsfactory_replace_all(m, "tls-files");
}

/* Two entries per slot (see tlsfactory.h). */
size_t tlsfactory_pollfds(const struct master *m, int *fds, short *events)
{
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		fds[2 * i] = m->tls_factories.v[i].sock;
		fds[2 * i + 1] = m->tls_factories.v[i].logfd;
		events[2 * i] = events[2 * i + 1] = POLLIN;
	}
	return 2 * TLSFACTORY_SLOTS;
}

/* The request socket is readable outside a request: `ready`, or EOF. */
static void on_socket(struct master *m, struct tls_factory *f)
{
	unsigned char buf[FACTORYCHAN_MAX];
	struct factorychan_msg msg;
	ssize_t n = recv(f->sock, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && factorychan_parse(buf, (size_t)n, &msg) == 0 && msg.verb == FC_READY &&
	    !f->ready) {
		f->ready = 1;
		log_event("tls-factory-ready", "mode=%s pid=%ld",
		          listen_mode_name((enum listen_mode)f->mode), (long)f->pid);
		return;
	}
	fail(m, f, n == 0 ? "closed" : "unexpected-packet");
}

/* Entry k had revents (see tlsfactory.h). */
void tlsfactory_on_ready(struct master *m, size_t k, short revents)
{
	struct tls_factory *f;

	if (k >= 2 * TLSFACTORY_SLOTS || revents == 0)
		return;
	f = &m->tls_factories.v[k / 2];
	if (k % 2 == 0 && f->sock >= 0) {
		on_socket(m, f);
		return;
	}
	if (k % 2 == 1 && f->logfd >= 0 &&
	    !logrelay_read(&f->relay, f->logfd, "role=tlsd-factory",
	                   m->conf->log_lines_per_second, now_ms() / 1000, LOG_BUDGET)) {
		close(f->logfd);
		f->logfd = -1;
	}
}

/* 1 if any factory is still running. */
int tlsfactory_running(const struct master *m)
{
	for (size_t i = 0; i < TLSFACTORY_SLOTS; i++) {
		if (m->tls_factories.v[i].used)
			return 1;
	}
	return 0;
}
