/*
 * workers.c — the pool of delivery workers: its slots, spawning,
 * binding to queued, respawn with backoff, reaping and shutdown
 * (contract in workers.h; job channel grammar in lib/jobchan.h;
 * descriptors in lib/fds.h DELIVER_FD_* and MAILDIR_FD_*; arguments in
 * deliver/args.h and deliver/maildir_args.h).  Which maildir slots exist, and
 * the checks of a maildir root, are maildirs.c's.
 *
 * Per worker: fork + execveat of the program opened at start, as root with
 * an empty environment; 0, 1 /dev/null, 2 its log pipe (relayed with the
 * prefix role=deliver or role=maildir), 3 its end of a fresh
 * SOCK_SEQPACKET job channel, 4 relay-secrets.cdb (postern-deliver, when
 * that table exists) or the maildir root (postern-maildir, opened and
 * checked by maildirs_open_root at each spawn).  The other end of the
 * channel goes to postern-queued in a `worker` frame.
 *
 * Process: postern (master, root); the code after fork runs in the child
 * until execve.  Descriptors: per slot the read end of its log pipe,
 * non-blocking.  Failure policy: nothing a worker does can block the
 * master (its log pipe is non-blocking and read with a budget); a worker
 * that cannot be spawned, or whose maildir is refused, is retried with
 * the backoff.
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
#include "fds.h"
#include "ctlchan.h"
#include "log.h"
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
/* An exit 0 is replaced at once, but no sooner than this after the same
 * slot's previous start: a worker that queued refuses (EOF at once)
 * cannot make the master fork in a tight loop. */
#define RESPAWN_SPACING_MS 250u
#define LOG_BUDGET (64u * 1024)
#define WORKER_ARGV_MAX 24

/* "deliver" or "maildir": the log prefix role=NAME and spawn-failed lines. */
static const char *role_of(const struct worker *w)
{
	return w->kind == WORKER_SMTP ? "deliver" : "maildir";
}

/* The trusted log prefix of w's lines. */
static const char *logkey_of(const struct worker *w)
{
	return w->kind == WORKER_SMTP ? "role=deliver" : "role=maildir";
}

/* Put slot w in use for kind and route (see workers.h). */
void workers_slot_take(struct worker *w, enum worker_kind kind, const char *route)
{
	memset(w, 0, sizeof(*w));
	w->used = 1;
	w->kind = kind;
	w->logfd = -1;
	snprintf(w->route, sizeof(w->route), "%s", route);
	logrelay_init(&w->relay);
}

/* Slots for the postern-deliver workers (see workers.h). */
void workers_init(struct master *m)
{
	struct worker_pool *p = &m->workers;

	memset(p, 0, sizeof(*p));
	p->prog_deliver = -1;
	p->prog_maildir = -1;
	for (size_t i = 0; i < WORKERS_MAX; i++)
		p->v[i].logfd = -1;
	for (uint64_t i = 0; i < m->conf->deliver.workers && i < CONF_DELIVER_WORKERS_MAX; i++)
		workers_slot_take(&p->v[i], WORKER_SMTP, "");
}

/* Open one worker program; 0 (fd or -1 if missing) or -1 on a bad file. */
static int open_prog(struct master *m, const char *name, int *fd, char *err, size_t errcap)
{
	char why[2 * CONF_PATH_MAX];
	int missing = 0;

	*fd = progfd_open(m->conf->libexec_dir, name, m->ids.root, &missing, why, sizeof(why));
	if (*fd >= 0)
		return 0;
	if (!missing) {
		snprintf(err, errcap, "%s: libexec_dir: %s", m->conf->file, why);
		return -1;
	}
	log_event("warning", "reason=program-missing role=%s program=%s/%s",
	          strcmp(name, "postern-deliver") == 0 ? "deliver" : "maildir",
	          m->conf->libexec_dir, name);
	return 0;
}

/* Open both programs (see workers.h). */
int workers_open_programs(struct master *m, char *err, size_t errcap)
{
	if (m->conf->deliver.workers > 0 &&
	    open_prog(m, "postern-deliver", &m->workers.prog_deliver, err, errcap) != 0)
		return -1;
	return open_prog(m, "postern-maildir", &m->workers.prog_maildir, err, errcap);
}

/* ---------------------------------------------------------------- spawn */

/* The strings of one worker's command line. */
struct worker_argv {
	char uid[24], gid[24], num1[24], num2[24], port[24];
	char *argv[WORKER_ARGV_MAX];
	size_t n;
};

/* Append one word. */
static void arg(struct worker_argv *a, const char *s)
{
	if (a->n + 1 < WORKER_ARGV_MAX)
		a->argv[a->n++] = (char *)s;
	a->argv[a->n] = NULL;
}

/* argv of postern-deliver (deliver/args.h). */
static void deliver_argv(const struct master *m, struct worker_argv *a)
{
	const struct master_conf *c = m->conf;

	snprintf(a->uid, sizeof(a->uid), "%u", (unsigned)m->ids.uid[ROLE_DELIVER]);
	snprintf(a->gid, sizeof(a->gid), "%u", (unsigned)m->ids.gid[ROLE_DELIVER]);
	snprintf(a->num1, sizeof(a->num1), "%llu", (unsigned long long)c->deliver.batch);
	snprintf(a->port, sizeof(a->port), "%llu", (unsigned long long)c->deliver.mx_port);
	a->n = 0;
	arg(a, "postern-deliver");
	arg(a, "-u"); arg(a, a->uid);
	arg(a, "-g"); arg(a, a->gid);
	arg(a, "-r"); arg(a, c->empty_dir);
	arg(a, "-H"); arg(a, c->deliver.helo[0] != '\0' ? c->deliver.helo : c->hostname);
	arg(a, "-n"); arg(a, a->num1);
	if (c->deliver.bind[0] != '\0') {
		arg(a, "-b"); arg(a, c->deliver.bind);
	}
	if (c->deliver.resolver[0] != '\0') {
		arg(a, "-R"); arg(a, c->deliver.resolver);
	}
	/* A bundle that is not there would stop the worker at start: without
	 * -C only tls=verify routes fail (temporarily). */
	if (c->deliver.ca_file[0] != '\0' && access(c->deliver.ca_file, R_OK) == 0) {
		arg(a, "-C"); arg(a, c->deliver.ca_file);
	}
	if (c->deliver.mx_port != 25) {
		arg(a, "-P"); arg(a, a->port);
	}
}

/* argv of postern-maildir (deliver/maildir_args.h). */
static void maildir_argv(const struct master *m, const struct worker *w,
                         const struct stat *st, struct worker_argv *a)
{
	const struct master_conf *c = m->conf;

	snprintf(a->uid, sizeof(a->uid), "%u", (unsigned)st->st_uid);
	snprintf(a->gid, sizeof(a->gid), "%u", (unsigned)st->st_gid);
	snprintf(a->num1, sizeof(a->num1), "%llu",
	         (unsigned long long)c->deliver.maildir_uid_min);
	snprintf(a->num2, sizeof(a->num2), "%llu", (unsigned long long)c->deliver.batch);
	a->n = 0;
	arg(a, "postern-maildir");
	arg(a, "-u"); arg(a, a->uid);
	arg(a, "-g"); arg(a, a->gid);
	arg(a, "-r"); arg(a, w->route + 8);	/* after "maildir:" */
	arg(a, "-m"); arg(a, a->num1);
	arg(a, "-n"); arg(a, a->num2);
	arg(a, "-h"); arg(a, c->hostname);
}

/* Schedule the next spawn of w after the backoff (failed: double it). */
static void schedule(struct worker *w, int failed, uint64_t ran_ms)
{
	uint64_t now = now_ms();

	if (!failed) {
		w->backoff_ms = 0;
		w->restart_at_ms = w->started_ms + RESPAWN_SPACING_MS > now ?
		                   w->started_ms + RESPAWN_SPACING_MS : now;
		return;
	}
	if (w->backoff_ms == 0 || ran_ms >= BACKOFF_RESET_MS)
		w->backoff_ms = BACKOFF_MIN_MS;
	else if (w->backoff_ms * 2 > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	else
		w->backoff_ms *= 2;
	w->restart_at_ms = now + w->backoff_ms;
}

/* Hand queued its end of w's channel: `worker` kind route + fd. */
static void bind_to_queued(struct master *m, struct worker *w, int chan)
{
	unsigned char buf[DAEMON_FRAME_MAX];
	struct ctl_msg msg = { .verb = CTL_WORKER };
	const unsigned char *f;
	size_t n;

	snprintf(msg.kind, sizeof(msg.kind), "%s", w->kind == WORKER_SMTP ? "smtp" : "maildir");
	snprintf(msg.route, sizeof(msg.route), "%s", w->route);
	f = ctlchan_write(buf, sizeof(buf), &n, &msg);
	/* On failure the descriptor is closed: the worker sees EOF, exits 0
	 * and is spawned again for the next ready instance. */
	if (f == NULL || daemon_send(m, DAEMON_QUEUED, f, n, chan) != 0) {
		if (f == NULL)
			close(chan);
		log_event("worker-bind-failed", "role=%s pid=%ld", role_of(w), (long)w->pid);
	}
	w->queued_gen = m->daemons[DAEMON_QUEUED].gen;
}

_Static_assert((int)DELIVER_FD_LOG == (int)MAILDIR_FD_LOG &&
               (int)DELIVER_FD_JOBS == (int)MAILDIR_FD_JOBS &&
               (int)DELIVER_FD_SECRETS == (int)MAILDIR_FD_ROOT, "both workers share one layout");

/* argv of w, and its descriptor 4 in *extra (relay-secrets: the master's,
 * or the maildir root: opened here, the caller's to close).  -1 when the
 * maildir is refused (logged). */
static int prepare(struct master *m, struct worker *w, struct worker_argv *a, int *extra)
{
	struct stat st;

	if (w->kind == WORKER_SMTP) {
		deliver_argv(m, a);
		*extra = tables_fd(&m->tables, TABLE_RELAY_SECRETS);
		return 0;
	}
	*extra = maildirs_open_root(m, w, &st);
	if (*extra < 0)
		return -1;
	maildir_argv(m, w, &st, a);
	return 0;
}

/* The parent's side after fork: record, log, hand queued the channel. */
static void started(struct master *m, struct worker *w, pid_t pid, int logfd, int chan)
{
	w->pid = pid;
	w->logfd = logfd;
	w->termed = 0;
	w->started_ms = now_ms();
	w->restart_at_ms = 0;
	logrelay_init(&w->relay);
	log_event("worker-start", "role=%s pid=%ld%s%s", role_of(w), (long)pid,
	          w->kind == WORKER_MAILDIR ? " route=" : "",
	          w->kind == WORKER_MAILDIR ? w->route : "");
	bind_to_queued(m, w, chan);
}

/* Spawn w now.  Logs failures and schedules the retry. */
static void spawn(struct master *m, struct worker *w)
{
	static struct worker_argv a;
	int src[5], logp[2] = { -1, -1 }, chan[2] = { -1, -1 }, extra = -1;
	int prog = w->kind == WORKER_SMTP ? m->workers.prog_deliver : m->workers.prog_maildir;
	size_t nfds = 4;
	pid_t pid = -1, master = getpid();

	if (prog < 0)
		return;
	if (prepare(m, w, &a, &extra) != 0) {
		schedule(w, 1, 0);
		return;
	}
	if (pipe2(logp, O_CLOEXEC) == 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) == 0 &&
	    fcntl(logp[0], F_SETFL, O_NONBLOCK) == 0) {
		src[0] = m->devnull;
		src[1] = m->devnull;
		src[DELIVER_FD_LOG] = logp[1];
		src[DELIVER_FD_JOBS] = chan[1];
		if (extra >= 0)
			src[nfds++] = extra;
		pid = fork();
		if (pid == 0) {
			/* Dies with the master from here on, set-up included. */
			if (sandbox_die_with_parent(master) != 0)
				_exit(127);
			child_exec(role_of(w), src, nfds, prog, a.argv);
		}
	}
	if (pid < 0)
		log_event("error", "reason=worker-spawn-failed role=%s error=%s", role_of(w),
		          strerrorname_np(errno) ? strerrorname_np(errno) : "unknown");
	for (int i = 0; i < 2; i++) {
		if (logp[i] >= 0 && (pid < 0 || i == 1))
			close(logp[i]);
		if (chan[i] >= 0 && (pid < 0 || i == 1))
			close(chan[i]);
	}
	if (w->kind == WORKER_MAILDIR && extra >= 0)
		close(extra);
	if (pid < 0)
		schedule(w, 1, 0);
	else
		started(m, w, pid, logp[0], chan[0]);
}

/* Every loop round (see workers.h). */
void workers_step(struct master *m)
{
	const struct daemon *q = &m->daemons[DAEMON_QUEUED];
	int up = daemon_up(m, DAEMON_QUEUED);
	uint64_t now = now_ms();

	for (size_t i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &m->workers.v[i];

		/* Its queued instance is gone: its channel is dead. */
		if (w->used && w->pid > 0 && !w->termed && (!up || w->queued_gen != q->gen)) {
			w->termed = 1;
			kill(w->pid, SIGTERM);
		}
	}
	/* Without a routes table queued schedules nothing (sched.md §3):
	 * no worker is needed until one appears. */
	if (!up || !q->ready || m->state != MS_RUNNING ||
	    tables_fd(&m->tables, TABLE_ROUTES) < 0)
		return;
	for (size_t i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &m->workers.v[i];

		if (w->used && !w->retire && w->pid == 0 && now >= w->restart_at_ms)
			spawn(m, w);
	}
}

/* ---------------------------------------------------------------- death */

/* pid reaped (see workers.h). */
int workers_reaped(struct master *m, pid_t pid, int status)
{
	for (size_t i = 0; i < WORKERS_MAX && pid > 0; i++) {
		struct worker *w = &m->workers.v[i];
		uint64_t ran;
		int clean;

		if (!w->used || w->pid != pid)
			continue;
		ran = now_ms() - w->started_ms;
		childend_drain_log(m, &w->relay, &w->logfd, logkey_of(w), 4 * LOG_BUDGET);
		childend_log("worker-exit", role_of(w), w->pid, status, ran);
		w->pid = 0;
		if (w->retire) {
			memset(w, 0, sizeof(*w));
			w->logfd = -1;
			return 1;
		}
		clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		        (w->termed && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
		schedule(w, !clean, ran);
		if (!clean)
			log_event("worker-restart", "role=%s in_ms=%llu", role_of(w),
			          (unsigned long long)w->backoff_ms);
		return 1;
	}
	return 0;
}

/* Once a second: the relays' rate windows. */
void workers_tick(struct master *m)
{
	uint64_t now_s = now_ms() / 1000;

	for (size_t i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &m->workers.v[i];

		if (w->used)
			logrelay_tick(&w->relay, logkey_of(w), now_s);
	}
}

/* ------------------------------------------------------------ poll loop */

/* One entry per slot (see workers.h). */
size_t workers_pollfds(const struct master *m, int *fds, short *events)
{
	for (size_t i = 0; i < WORKERS_MAX; i++) {
		fds[i] = m->workers.v[i].logfd;
		events[i] = POLLIN;
	}
	return WORKERS_MAX;
}

/* Entry k had revents: relay its log. */
void workers_on_ready(struct master *m, size_t k, short revents)
{
	struct worker *w;

	if (k >= WORKERS_MAX || revents == 0)
		return;
	w = &m->workers.v[k];
	if (w->logfd >= 0 && !logrelay_read(&w->relay, w->logfd, logkey_of(w),
	                                    m->conf->log_lines_per_second * 4,
	                                    now_ms() / 1000, LOG_BUDGET)) {
		close(w->logfd);
		w->logfd = -1;
	}
}

/* ------------------------------------------------------------- shutdown */

/* Send sig to every running worker (see workers.h). */
size_t workers_signal_all(struct master *m, int sig)
{
	size_t n = 0;

	for (size_t i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &m->workers.v[i];

		w->restart_at_ms = UINT64_MAX;
		if (w->used && w->pid > 0) {
			w->termed = 1;
			kill(w->pid, sig);
			n++;
		}
	}
	return n;
}

/* 1 if any worker is still running. */
int workers_running(const struct master *m)
{
	for (size_t i = 0; i < WORKERS_MAX; i++) {
		if (m->workers.v[i].used && m->workers.v[i].pid > 0)
			return 1;
	}
	return 0;
}
