/*
 * daemon.c — spawning, feeding and restarting the long-running daemons
 * (contract and control grammar in daemon.h; descriptors in lib/fds.h).
 *
 * Process: postern (master, root); the code after fork runs in the child
 * until execve.  Descriptors: per daemon the read end of its log pipe and
 * the master's end of its control socket, both non-blocking.
 *
 * Failure policy: a daemon that cannot be spawned is retried with the
 * same backoff as one that died.  A daemon that deviates from the control
 * grammar is SIGKILLed (and restarted); the master never parses more than
 * the one-word `ready` from it and never blocks on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "fdpass.h"
#include "fds.h"
#include "ctlchan.h"
#include "log.h"
#include "child.h"
#include "childend.h"
#include "maildirs.h"
#include "master.h"
#include "netstring.h"
#include "progfd.h"
#include "sandbox.h"
#include "tables.h"
#include "workers.h"

#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define BACKOFF_RESET_MS 60000u		/* a run this long resets the backoff */
#define CTL_READ_MAX 64			/* `ready` is 11 bytes */
#define LOG_BUDGET (64u * 1024)
#define ARGV_MAX (8 + DAEMON_ARGS_MAX)

/* Append one option word (see daemon.h). */
void daemon_arg(struct daemon_args *a, const char *s)
{
	size_t n = strlen(s);

	if (a->n >= DAEMON_ARGS_MAX || n >= DAEMON_ARG_LEN) {
		a->failed = 1;
		return;
	}
	memcpy(a->v[a->n++], s, n + 1);
}

/* Put role in slot. */
void daemon_register(struct master *m, enum daemon_slot slot,
                     const struct daemon_role *role)
{
	struct daemon *d = &m->daemons[slot];

	memset(d, 0, sizeof(*d));
	d->role = role;
	d->progfd = -1;
	d->ctl = -1;
	d->logfd = -1;
	snprintf(d->logkey, sizeof(d->logkey), "role=%s", role->name);
	logrelay_init(&d->relay);
	d->q = calloc(DAEMON_QUEUE_MAX, sizeof(d->q[0]));
	if (d->q == NULL)
		log_fatal("reason=out-of-memory");
}

/* 1 if the daemon in slot is running. */
int daemon_up(const struct master *m, enum daemon_slot slot)
{
	const struct daemon *d = &m->daemons[slot];

	return d->role != NULL && d->pid > 0 && d->ctl >= 0;
}

/* --------------------------------------------------------------- frames */

/* The oldest frame leaves the queue (sent or dropped): its descriptor is
 * closed and its bytes wiped, since the `key` frame holds the auth MAC
 * key and a ring slot is only overwritten when reused (invariant 5: the
 * master keeps the key in m->auth_key only).  Every frame, not just
 * `key`: it is cheap and needs no knowledge of the verbs. */
static void frame_leaves(struct daemon *d)
{
	struct daemon_frame *f = &d->q[d->qhead];

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	sodium_memzero(f->buf, sizeof(f->buf));
	f->len = 0;
	d->qhead = (d->qhead + 1) % DAEMON_QUEUE_MAX;
	d->qlen--;
	d->ndone++;
}

/* Try to send the queued frames, oldest first, without blocking.  -1 if
 * the control socket failed for another reason than "full". */
static int flush_queue(struct daemon *d)
{
	while (d->qlen > 0 && d->ctl >= 0) {
		struct daemon_frame *f = &d->q[d->qhead];
		int rc = fdpass_send(d->ctl, f->buf, f->len, &f->fd, f->fd >= 0 ? 1 : 0);

		if (rc != 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		frame_leaves(d);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Drop every queued frame (closing their descriptors, wiping them). */
static void clear_queue(struct daemon *d)
{
	while (d->qlen > 0)
		frame_leaves(d);
	d->qhead = 0;
}

/* Queue one frame for slot (see daemon.h). */
int daemon_send(struct master *m, enum daemon_slot slot,
                const unsigned char *frame, size_t n, int fd)
{
	struct daemon *d = &m->daemons[slot];
	struct daemon_frame *f;

	if (!daemon_up(m, slot) || n == 0 || n > DAEMON_FRAME_MAX ||
	    d->qlen >= DAEMON_QUEUE_MAX) {
		if (fd >= 0)
			close(fd);
		if (d->role != NULL && d->qlen >= DAEMON_QUEUE_MAX)
			log_event("daemon-busy", "role=%s queued=%zu", d->role->name, d->qlen);
		return -1;
	}
	f = &d->q[(d->qhead + d->qlen) % DAEMON_QUEUE_MAX];
	memcpy(f->buf, frame, n);
	f->len = n;
	f->fd = fd;
	d->qlen++;
	d->nqueued++;
	if (flush_queue(d) != 0) {
		log_event("daemon-control-failed", "role=%s error=%s", d->role->name,
		          strerrorname_np(errno) ? strerrorname_np(errno) : "unknown");
		kill(d->pid, SIGKILL);
	}
	return 0;
}

/* Number of the last frame queued for slot (see daemon.h). */
uint64_t daemon_last_frame(const struct master *m, enum daemon_slot slot)
{
	return m->daemons[slot].nqueued;
}

/* Frame k of slot left the queue (see daemon.h). */
int daemon_frame_out(const struct master *m, enum daemon_slot slot, uint64_t k)
{
	return m->daemons[slot].ndone >= k;
}

/* Send the `key` frame. */
static int send_key(struct master *m, enum daemon_slot slot)
{
	unsigned char buf[128];
	struct ctl_msg k = { .verb = CTL_KEY };
	const unsigned char *f;
	size_t n;
	int rc;

	memcpy(k.key, m->auth_key, sizeof(k.key));
	f = ctlchan_write(buf, sizeof(buf), &n, &k);
	rc = f == NULL ? -1 : daemon_send(m, slot, f, n, -1);
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(&k, sizeof(k));
	return rc;
}

/* Send `table` name fd for each table of bits that is present. */
static void send_tables(struct master *m, enum daemon_slot slot, unsigned bits)
{
	for (int t = 0; t < TABLE_COUNT; t++) {
		unsigned char buf[64];
		struct ctl_msg msg = { .verb = CTL_TABLE };
		const unsigned char *f;
		size_t n;
		int fd;

		if (!(bits & TABLE_BIT(t)) || tables_fd(&m->tables, (enum table_id)t) < 0)
			continue;
		fd = fcntl(tables_fd(&m->tables, (enum table_id)t), F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			continue;
		snprintf(msg.table, sizeof(msg.table), "%s", table_name((enum table_id)t));
		f = ctlchan_write(buf, sizeof(buf), &n, &msg);
		if (f == NULL) {
			close(fd);
			continue;
		}
		(void)daemon_send(m, slot, f, n, fd);
	}
}

/* Tables changed (see daemon.h). */
void daemons_tables_changed(struct master *m, unsigned bits)
{
	for (int i = 0; i < DAEMON_COUNT; i++) {
		const struct daemon_role *r = m->daemons[i].role;

		if (r != NULL && (r->tables & bits) && daemon_up(m, (enum daemon_slot)i))
			send_tables(m, (enum daemon_slot)i, r->tables & bits);
	}
}

/* Re-stat the tables and forward the changed ones (see daemon.h). */
void daemons_refresh_tables(struct master *m, int force)
{
	uint64_t now = now_ms();
	unsigned bits;

	if (!force && now < m->tables.next_check_ms)
		return;
	m->tables.next_check_ms = now + TABLES_CHECK_MS;
	bits = tables_refresh(&m->tables, m->conf->dir, m->ids.root, force);
	if (bits != 0)
		daemons_tables_changed(m, bits);
	if (bits & TABLE_BIT(TABLE_ROUTES))
		maildirs_routes_changed(m);
}

/* Hand the daemons their ends of s's channels (see daemon.h). */
void daemons_bind_session(struct master *m, struct session *s,
                          const struct listen_spec *l, int fds[DAEMON_COUNT])
{
	struct ctl_msg msg = { .verb = CTL_SESSION, .port = s->port };

	snprintf(msg.id, sizeof(msg.id), "%s", s->id);
	snprintf(msg.ip, sizeof(msg.ip), "%s", s->ip);
	snprintf(msg.listener, sizeof(msg.listener), "%s", l->text);
	snprintf(msg.mode, sizeof(msg.mode), "%s", listen_mode_name(l->mode));
	for (int i = 0; i < DAEMON_COUNT; i++) {
		struct daemon *d = &m->daemons[i];
		unsigned char buf[DAEMON_FRAME_MAX];
		const unsigned char *f;
		size_t n;

		if (fds[i] < 0)
			continue;
		/* Only a ready instance gets sessions: one that dies while
		 * starting (a missing program, a crash loop) must not take
		 * sessions down with it; they see a dead peer instead. */
		if (d->role == NULL || !d->role->session_channel ||
		    !daemon_up(m, (enum daemon_slot)i) || !d->ready) {
			close(fds[i]);
			fds[i] = -1;
			continue;
		}
		f = ctlchan_write(buf, sizeof(buf), &n, &msg);
		if (f != NULL && daemon_send(m, (enum daemon_slot)i, f, n, fds[i]) == 0)
			s->daemon_gen[i] = d->gen;
		else if (f == NULL)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* ---------------------------------------------------------------- spawn */

/* The strings of one daemon's command line. */
struct spawn_args {
	char path[CONF_PATH_MAX + 64];
	char uid[24], gid[24], root[CONF_PATH_MAX];
	struct daemon_args role;
	char *argv[ARGV_MAX];
};

/* Build path and argv for d. */
static int build_args(struct spawn_args *a, const struct master *m,
                      const struct daemon *d)
{
	const struct daemon_role *r = d->role;
	size_t i = 0;
	int n = snprintf(a->path, sizeof(a->path), "%s/%s", m->conf->libexec_dir, r->program);

	if (n < 0 || (size_t)n >= sizeof(a->path))
		return -1;
	snprintf(a->uid, sizeof(a->uid), "%u", (unsigned)m->ids.uid[r->user]);
	snprintf(a->gid, sizeof(a->gid), "%u", (unsigned)m->ids.gid[r->user]);
	n = snprintf(a->root, sizeof(a->root), "%s", r->root(m));
	if (n < 0 || (size_t)n >= sizeof(a->root))
		return -1;
	memset(&a->role, 0, sizeof(a->role));
	if (r->args != NULL)
		r->args(m, &a->role);
	if (a->role.failed)
		return -1;
	a->argv[i++] = (char *)r->program;
	a->argv[i++] = "-u";
	a->argv[i++] = a->uid;
	a->argv[i++] = "-g";
	a->argv[i++] = a->gid;
	a->argv[i++] = "-r";
	a->argv[i++] = a->root;
	for (size_t k = 0; k < a->role.n; k++)
		a->argv[i++] = a->role.v[k];
	a->argv[i] = NULL;
	return 0;
}

/* Schedule the next start of d after the backoff. */
static void schedule_restart(struct master *m, struct daemon *d, uint64_t ran_ms)
{
	if (d->backoff_ms == 0 || ran_ms >= BACKOFF_RESET_MS)
		d->backoff_ms = BACKOFF_MIN_MS;
	else if (d->backoff_ms * 2 > BACKOFF_MAX_MS)
		d->backoff_ms = BACKOFF_MAX_MS;
	else
		d->backoff_ms *= 2;
	d->restart_at_ms = now_ms() + d->backoff_ms;
	log_event("daemon-restart", "role=%s in_ms=%llu", d->role->name,
	          (unsigned long long)d->backoff_ms);
}

/* The parent's side after a successful fork. */
static void started(struct master *m, enum daemon_slot slot, pid_t pid, int ctl,
                    int logread)
{
	struct daemon *d = &m->daemons[slot];

	d->pid = pid;
	d->ctl = ctl;
	d->logfd = logread;
	d->ready = 0;
	d->gen++;
	d->started_ms = now_ms();
	d->restart_at_ms = 0;
	logrelay_init(&d->relay);
	log_event("daemon-start", "role=%s pid=%ld instance=%llu", d->role->name,
	          (long)pid, (unsigned long long)d->gen);
	if (send_key(m, slot) != 0) {
		log_event("daemon-control-failed", "role=%s step=key", d->role->name);
		kill(pid, SIGKILL);
		return;
	}
	send_tables(m, slot, d->role->tables_at_start);
}

/* Spawn the daemon in slot.  0, or -1 after logging (restart scheduled). */
static int spawn(struct master *m, enum daemon_slot slot)
{
	struct daemon *d = &m->daemons[slot];
	static struct spawn_args a;
	int src[DAEMON_FD_EXTRA + DAEMON_FD_EXTRA_MAX];
	int logp[2] = { -1, -1 }, ctlp[2] = { -1, -1 };
	size_t nextra = 0;
	pid_t pid, master;
	const char *step = "arguments";

	if (build_args(&a, m, d) != 0)
		goto fail;
	step = "program";
	errno = ENOENT;
	if (d->progfd < 0)
		goto fail;
	step = "descriptors";
	if (pipe2(logp, O_CLOEXEC) != 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctlp) != 0)
		goto fail;
	if (fcntl(logp[0], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(ctlp[0], F_SETFL, O_NONBLOCK) != 0)
		goto fail;
	if (d->role->extra_fds != NULL)
		nextra = d->role->extra_fds(m, src + DAEMON_FD_EXTRA, DAEMON_FD_EXTRA_MAX);
	src[DAEMON_FD_NULL_IN] = m->devnull;
	src[DAEMON_FD_NULL_OUT] = m->devnull;
	src[DAEMON_FD_LOG] = logp[1];
	src[DAEMON_FD_CONTROL] = ctlp[1];
	step = "fork";
	master = getpid();
	pid = fork();
	if (pid == 0) {
		/* Dies with the master from here on, set-up included. */
		if (sandbox_die_with_parent(master) != 0)
			_exit(127);
		child_exec(d->role->name, src, DAEMON_FD_EXTRA + nextra, d->progfd, a.argv);
	}
	if (pid < 0)
		goto fail;
	close(logp[1]);
	close(ctlp[1]);
	started(m, slot, pid, ctlp[0], logp[0]);
	return 0;
fail:
	log_event("error", "reason=daemon-spawn-failed role=%s step=%s error=%s",
	          d->role->name, step,
	          strerrorname_np(errno) ? strerrorname_np(errno) : "unknown");
	for (int i = 0; i < 2; i++) {
		if (logp[i] >= 0)
			close(logp[i]);
		if (ctlp[i] >= 0)
			close(ctlp[i]);
	}
	schedule_restart(m, d, 0);
	return -1;
}

/* Open the daemons' programs (see daemon.h). */
int daemons_open_programs(struct master *m, char *err, size_t errcap)
{
	for (int i = 0; i < DAEMON_COUNT; i++) {
		struct daemon *d = &m->daemons[i];
		char why[2 * CONF_PATH_MAX];
		int missing = 0;

		if (d->role == NULL)
			continue;
		d->progfd = progfd_open(m->conf->libexec_dir, d->role->program, m->ids.root,
		                        &missing, why, sizeof(why));
		if (d->progfd >= 0)
			continue;
		if (!missing) {
			snprintf(err, errcap, "%s: libexec_dir: %s", m->conf->file, why);
			return -1;
		}
		log_event("warning", "reason=program-missing role=%s program=%s/%s",
		          d->role->name, m->conf->libexec_dir, d->role->program);
	}
	return 0;
}

/* Start every registered daemon. */
void daemons_start_all(struct master *m)
{
	for (int i = 0; i < DAEMON_COUNT; i++) {
		if (m->daemons[i].role != NULL)
			(void)spawn(m, (enum daemon_slot)i);
	}
}

/* ---------------------------------------------------------------- death */

/* SIGTERM the sessions bound to instance gen of slot. */
static void end_bound_sessions(struct master *m, enum daemon_slot slot, uint64_t gen)
{
	size_t ended = 0;

	for (size_t i = 0; i < m->sessions.n; i++) {
		struct session *s = m->sessions.v[i];

		if (s->daemon_gen[slot] == gen) {
			/* smtpd only: a tlsd in front passes its last reply on
			 * and exits at EOF (children.c). */
			if (!s->smtpd_done)
				kill(s->pid, SIGTERM);
			s->daemon_gen[slot] = 0;
			ended++;
		}
	}
	if (ended > 0)
		log_event("sessions-ended", "role=%s sessions=%zu reason=daemon-died",
		          m->daemons[slot].role->name, ended);
}

/* pid reaped (see daemon.h). */
int daemons_reaped(struct master *m, pid_t pid, int status)
{
	for (int i = 0; i < DAEMON_COUNT; i++) {
		struct daemon *d = &m->daemons[i];
		uint64_t ran;

		if (d->role == NULL || d->pid != pid || pid <= 0)
			continue;
		ran = now_ms() - d->started_ms;
		childend_drain_log(m, &d->relay, &d->logfd, d->logkey, 4 * LOG_BUDGET);
		childend_log("daemon-exit", d->role->name, d->pid, status, ran);
		clear_queue(d);
		if (d->ctl >= 0)
			close(d->ctl);
		d->ctl = -1;
		d->pid = 0;
		d->ready = 0;
		end_bound_sessions(m, (enum daemon_slot)i, d->gen);
		if (m->state == MS_RUNNING)
			schedule_restart(m, d, ran);
		return 1;
	}
	return 0;
}

/* Once a second: restarts that are due. */
void daemons_tick(struct master *m)
{
	uint64_t now = now_ms();

	for (int i = 0; i < DAEMON_COUNT; i++) {
		struct daemon *d = &m->daemons[i];

		if (d->role != NULL && d->pid == 0 && d->restart_at_ms != 0 &&
		    now >= d->restart_at_ms && m->state == MS_RUNNING)
			(void)spawn(m, (enum daemon_slot)i);
		if (d->role != NULL)
			logrelay_tick(&d->relay, d->logkey, now / 1000);
	}
}

/* ------------------------------------------------------------ poll loop */

/* The descriptors to watch (see daemon.h). */
size_t daemons_pollfds(const struct master *m, int *fds, short *events)
{
	size_t k = 0;

	for (int i = 0; i < DAEMON_COUNT; i++) {
		const struct daemon *d = &m->daemons[i];

		fds[k] = d->role != NULL ? d->logfd : -1;
		events[k++] = POLLIN;
		fds[k] = d->role != NULL ? d->ctl : -1;
		events[k++] = (short)(POLLIN | (d->qlen > 0 ? POLLOUT : 0));
	}
	return k;
}

/* A protocol violation on d's control socket: kill it (restarted). */
static void violation(struct daemon *d, const char *why)
{
	log_event("daemon-protocol-violation", "role=%s pid=%ld detail=%s",
	          d->role->name, (long)d->pid, why);
	kill(d->pid, SIGKILL);
	clear_queue(d);
	close(d->ctl);
	d->ctl = -1;
}

/* Read what d sent on its control socket: only `ready`, once. */
static void read_control(struct daemon *d)
{
	unsigned char buf[CTL_READ_MAX];
	int fds[1];
	size_t nfds = 0;
	struct ctl_msg msg;
	ssize_t n = fdpass_recv(d->ctl, buf, sizeof(buf), fds, 0, &nfds);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	/* EOF or a reset: the daemon is exiting; SIGCHLD follows. */
	if (n == 0 || (n < 0 && errno != EPROTO)) {
		clear_queue(d);
		close(d->ctl);
		d->ctl = -1;
		return;
	}
	if (n < 0)
		return violation(d, "descriptor-or-truncated");
	if (ctlchan_parse(buf, (size_t)n, nfds, &msg) != 0)
		return violation(d, "malformed");
	if (msg.verb != CTL_READY || d->ready) {
		sodium_memzero(&msg, sizeof(msg));
		return violation(d, d->ready ? "second-ready" : "unknown-verb");
	}
	d->ready = 1;
	log_event("daemon-ready", "role=%s pid=%ld", d->role->name, (long)d->pid);
}

/* Entry k of daemons_pollfds had revents. */
void daemons_on_ready(struct master *m, size_t k, short revents)
{
	struct daemon *d = &m->daemons[k / 2];

	if (d->role == NULL || revents == 0)
		return;
	if (k % 2 == 0) {
		if (d->logfd >= 0 && !logrelay_read(&d->relay, d->logfd, d->logkey,
		                                    m->conf->log_lines_per_second * 4,
		                                    now_ms() / 1000, LOG_BUDGET)) {
			close(d->logfd);
			d->logfd = -1;
		}
		return;
	}
	if (d->ctl >= 0 && (revents & POLLOUT) && flush_queue(d) != 0) {
		log_event("daemon-control-failed", "role=%s error=%s", d->role->name,
		          strerrorname_np(errno) ? strerrorname_np(errno) : "unknown");
		kill(d->pid, SIGKILL);
	}
	if (d->ctl >= 0 && (revents & (POLLIN | POLLHUP | POLLERR)))
		read_control(d);
}

/* ------------------------------------------------------------- shutdown */

/* 1 if any daemon or delivery worker is still running. */
static int any_running(const struct master *m)
{
	for (int i = 0; i < DAEMON_COUNT; i++) {
		if (m->daemons[i].role != NULL && m->daemons[i].pid > 0)
			return 1;
	}
	return workers_running(m) || tlsfactory_running(m);
}

/* Reap daemons until none is left or deadline passes. */
static void reap_until(struct master *m, uint64_t deadline)
{
	while (any_running(m) && now_ms() < deadline) {
		int status = 0;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid > 0) {
			if (!daemons_reaped(m, pid, status) && !workers_reaped(m, pid, status) &&
			    !tlsfactory_reaped(m, pid, status))
				log_event("child-exit", "pid=%ld", (long)pid);
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		usleep(10000);
	}
}

/* SIGTERM, bounded wait, SIGKILL (see daemon.h); the delivery workers
 * (workers.h) go with them. */
void daemons_stop_all(struct master *m, uint64_t timeout_ms)
{
	(void)workers_signal_all(m, SIGTERM);
	tlsfactory_stop_all(m, 0);
	for (int i = 0; i < DAEMON_COUNT; i++) {
		struct daemon *d = &m->daemons[i];

		d->restart_at_ms = 0;
		if (d->role != NULL && d->pid > 0)
			kill(d->pid, SIGTERM);
	}
	reap_until(m, now_ms() + timeout_ms);
	(void)workers_signal_all(m, SIGKILL);
	tlsfactory_stop_all(m, SIGKILL);
	for (int i = 0; i < DAEMON_COUNT; i++) {
		if (m->daemons[i].role != NULL && m->daemons[i].pid > 0)
			kill(m->daemons[i].pid, SIGKILL);
	}
	reap_until(m, now_ms() + 5000);
}
