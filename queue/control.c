/*
 * control.c — serving postern-queue on queue/control (control.h).
 * postern-queued; control_listen runs before the sandbox, the rest in it
 * (accept4, getsockopt SO_PEERCRED, openat O_RDONLY, getdents64 through
 * fdopendir, renameat, unlinkat, fsync).  Every byte that came from a
 * client of the mail service (sender, recipients, login) is escaped
 * before it goes out in an `out` line.
 */
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bufio.h"
#include "chan.h"
#include "control.h"
#include "envelope.h"
#include "log.h"
#include "netstring.h"
#include "sched.h"
#include "sched_state.h"

#define OUT_MAX 36000

struct admin {
	struct queued *d;
	int fd;
	int64_t deadline;
	int failed;
};

/* Create the listening socket (see control.h). */
int control_listen(const char *queue_dir, int own, uid_t uid, gid_t gid,
                   char *err, size_t errcap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", queue_dir, CONTROL_SOCKET);
	int fd;

	if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
		snprintf(err, errcap, "%s/%s: path too long for a socket", queue_dir, CONTROL_SOCKET);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || (unlink(sa.sun_path) != 0 && errno != ENOENT) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    chmod(sa.sun_path, 0600) != 0 || (own && chown(sa.sun_path, uid, gid) != 0) ||
	    listen(fd, 16) != 0) {
		snprintf(err, errcap, "%s: %s", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send one frame of verb and optional bytes. */
static void send_frame(struct admin *a, const char *verb, const void *p, size_t n)
{
	static unsigned char buf[OUT_MAX + 64];
	struct frame_writer w;
	const unsigned char *f;
	size_t len;

	if (a->failed)
		return;
	fw_init(&w, buf, sizeof buf);
	fw_str(&w, verb);
	if (p != NULL)
		fw_bytes(&w, p, n);
	f = fw_finish(&w, &len);
	if (f == NULL || chan_send(a->fd, f, len, a->deadline) < 0)
		a->failed = 1;
}

/* Send a printf-formatted `out` line (trusted text only). */
static void outf(struct admin *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct admin *a, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		send_frame(a, "out", line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Escape an envelope field for an `out` line. */
static const char *esc(const struct env_field *f, char *buf, size_t cap)
{
	log_escape(buf, cap, f->p, f->n);
	return buf;
}

/* Open and load the envelope of id; 0 or -1. */
static int load_env(struct admin *a, const char *id, struct envelope *e, int *fd)
{
	*fd = openat(a->d->q.d[QD_ENV], id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return -1;
	if (envelope_load(e, *fd) < 0) {
		close(*fd);
		return -1;
	}
	return 0;
}

static void log_admin(const char *what, const char *id);

/* Read state/<id> for a message of nrcpt recipients: 1 read, 0 none,
 * -1 unreadable. */
static int load_state(struct admin *a, const char *id, size_t nrcpt, struct sstate *st)
{
	int fd, rc;

	if (sstate_alloc(st, nrcpt) < 0)
		return -1;
	fd = openat(a->d->q.d[QD_STATE], id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		sstate_free(st);
		return errno == ENOENT ? 0 : -1;
	}
	rc = sstate_read(fd, id, st) == 0 ? 1 : -1;
	close(fd);
	if (rc < 0)
		sstate_free(st);
	return rc;
}

/* " attempts=N next=T deferred=N" for list, or "" when no state. */
static void state_summary(struct admin *a, const char *id, size_t nrcpt, char *out, size_t cap)
{
	struct sstate st;
	size_t pending = 0;
	int r = load_state(a, id, nrcpt, &st);

	out[0] = '\0';
	if (r < 0) {
		snprintf(out, cap, " state=unreadable");
		return;
	}
	if (r == 0)
		return;
	for (size_t i = 0; i < st.n; i++)
		pending += st.r[i].st == RS_PENDING;
	snprintf(out, cap, " attempts=%llu next=%llu deferred=%zu",
	         (unsigned long long)st.attempts, (unsigned long long)st.next, pending);
	sstate_free(&st);
}

/* One `list` line for id in dir where. */
static void list_one(struct admin *a, enum qd where, const char *id)
{
	struct envelope e;
	char user[1100], sender[2100], state[128];
	int fd;

	if (load_env(a, id, &e, &fd) < 0) {
		outf(a, "%s %s (envelope unreadable)", id, qdir_name(where));
		return;
	}
	state_summary(a, id, (size_t)e.nrcpt, state, sizeof state);
	outf(a, "%s %s size=%llu time=%llu rcpts=%llu user=%s sender=<%s>%s", id,
	     where == QD_HOLD ? "hold" : where == QD_CUR ? "active" : "queued",
	     (unsigned long long)e.size_v, (unsigned long long)e.time_v,
	     (unsigned long long)e.nrcpt, esc(&e.user, user, sizeof user),
	     esc(&e.sender, sender, sizeof sender), state);
	envelope_free(&e);
	close(fd);
}

struct each_ctx {
	struct admin *a;
	void (*fn)(struct admin *, enum qd, const char *);
};

/* qdir_each_id callback: stop once the client is gone, else call fn. */
static int each_one(void *ctx, enum qd where, const char *id)
{
	struct each_ctx *c = ctx;

	if (c->a->failed)
		return -1;
	if (c->fn != NULL)
		c->fn(c->a, where, id);
	return 0;
}

/* Call fn for each queue id in dir where; the number of entries (0 when
 * the directory cannot be read). */
static size_t each_id(struct admin *a, enum qd where,
                      void (*fn)(struct admin *, enum qd, const char *))
{
	struct each_ctx c = { a, fn };
	long n = qdir_each_id(&a->d->q, where, QDIR_IDS, each_one, &c);

	return n < 0 ? 0 : (size_t)n;
}

/* `list` */
static void do_list(struct admin *a)
{
	each_id(a, QD_NEW, list_one);
	each_id(a, QD_CUR, list_one);
	each_id(a, QD_HOLD, list_one);
	send_frame(a, "ok", NULL, 0);
}

/* `stats` */
static void do_stats(struct admin *a)
{
	size_t n = each_id(a, QD_NEW, NULL), c = each_id(a, QD_CUR, NULL),
	       h = each_id(a, QD_HOLD, NULL), t = each_id(a, QD_TMP, NULL);

	outf(a, "queued=%zu active=%zu hold=%zu receiving=%zu committed=%llu sessions_total=%llu",
	     n, c, h, t, (unsigned long long)a->d->committed,
	     (unsigned long long)a->d->sessions_total);
	send_frame(a, "ok", NULL, 0);
}

/* One recipient line of `show`. */
static int show_rcpt(void *ctx, const struct env_field *addr, const struct env_field *notify,
                     const struct env_field *orcpt)
{
	char b1[2100], b2[300], b3[2100];

	outf(ctx, "recipient: <%s> notify=%s orcpt=%s", esc(addr, b1, sizeof b1),
	     esc(notify, b2, sizeof b2), esc(orcpt, b3, sizeof b3));
	return 0;
}

/* Stream the message file to the client as `out` frames. */
static void send_message(struct admin *a, int dirfd, const char *id)
{
	static unsigned char buf[32768];
	int fd = openat(dirfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		a->failed = 1;
		return;
	}
	while (!a->failed && (n = read(fd, buf, sizeof buf)) > 0)
		send_frame(a, "out", buf, (size_t)n);
	close(fd);
}

/* The per-recipient delivery state of `show` (recipients in envelope
 * order), if the message has a state file. */
static void show_state(struct admin *a, const char *id, size_t nrcpt)
{
	static const char *const names[] = { ['p'] = "deferred", ['o'] = "delivered",
		['f'] = "failed", ['b'] = "failed-report-owed" };
	struct sstate st;
	char text[2100];
	int r = load_state(a, id, nrcpt, &st);

	if (r < 0) {
		outf(a, "delivery: state file unreadable (message held when next due)");
		return;
	}
	if (r == 0)
		return;
	outf(a, "delivery: attempts=%llu next=%llu delay_notice=%s",
	     (unsigned long long)st.attempts, (unsigned long long)st.next,
	     st.delay_sent ? "sent" : "no");
	for (size_t i = 0; i < st.n; i++) {
		const struct srstate *x = &st.r[i];

		log_escape(text, sizeof text, x->text, strlen(x->text));
		outf(a, "recipient %zu: %s attempts=%llu last=%llu reply=%u %s %s", i + 1,
		     names[(unsigned char)x->st], (unsigned long long)x->attempts,
		     (unsigned long long)x->last, x->code, x->status, text);
	}
	sstate_free(&st);
}

/* `flush [id]`: make one or every waiting message due now. */
static void do_flush(struct admin *a, const char *id)
{
	size_t n = a->d->sched ? sched_flush(a->d->sched, id) : 0;

	if (id != NULL && n == 0) {
		send_frame(a, "err", "not waiting (unknown, held or being delivered)", 46);
		return;
	}
	log_admin("flush", id ? id : "all");
	outf(a, "flushed %zu", n);
	send_frame(a, "ok", NULL, 0);
}

/* `show id`: envelope, trusted header block, message. */
static void do_show(struct admin *a, const char *id)
{
	struct envelope e;
	char b1[1100], b2[2100], b3[300];
	int where = qdir_find_message(&a->d->q, id), fd;

	if (where < 0 || load_env(a, id, &e, &fd) < 0) {
		send_frame(a, "err", "no such message", 15);
		return;
	}
	outf(a, "id: %s\nstate: %s\nuser: %s\nsender: <%s>\nsize: %llu\ntime: %llu\n"
	     "session: %s", id, qdir_name((enum qd)where), esc(&e.user, b1, sizeof b1),
	     esc(&e.sender, b2, sizeof b2), (unsigned long long)e.size_v,
	     (unsigned long long)e.time_v, esc(&e.session, b3, sizeof b3));
	envelope_rcpts(&e, show_rcpt, a);
	show_state(a, id, (size_t)e.nrcpt);
	outf(a, "%s", "");
	send_frame(a, "out", e.header.p, e.header.n);
	envelope_free(&e);
	close(fd);
	send_message(a, a->d->q.d[where], id);
	send_frame(a, "ok", NULL, 0);
}

/* Log an admin action. */
static void log_admin(const char *what, const char *id)
{
	struct logline l;

	ll_begin(&l, "admin");
	ll_str(&l, "action", what);
	ll_str(&l, "id", id);
	ll_emit(&l);
}

/* `delete id`: the message first (the commit point of "gone"), then the
 * envelope and state. */
static void do_delete(struct admin *a, const char *id)
{
	const struct qdir *q = &a->d->q;
	int where = qdir_find_message(q, id);

	if (where < 0 || unlinkat(q->d[where], id, 0) != 0) {
		send_frame(a, "err", "no such message", 15);
		return;
	}
	(void)fsync(q->d[where]);
	(void)unlinkat(q->d[QD_ENV], id, 0);
	(void)unlinkat(q->d[QD_STATE], id, 0);
	(void)fsync(q->d[QD_ENV]);
	log_admin("delete", id);
	send_frame(a, "ok", NULL, 0);
}

/* `hold id`: from new/, or from cur/ unless an attempt round has it
 * (its jobs are out: the round's end would race the move).  The index
 * entry is dropped, so the scheduler never looks for it; state/<id>
 * stays, and `release` resumes from it. */
static void do_hold(struct admin *a, const char *id)
{
	const struct qdir *q = &a->d->q;
	int where = qdir_find_message(q, id);

	if (where != QD_NEW && where != QD_CUR) {
		send_frame(a, "err", where == QD_HOLD ? "already held" : "not there",
		           where == QD_HOLD ? 12 : 9);
		return;
	}
	if (a->d->sched != NULL && sched_busy(a->d->sched, id)) {
		send_frame(a, "err", "busy: being delivered, try again", 32);
		return;
	}
	if (renameat(q->d[where], id, q->d[QD_HOLD], id) != 0) {
		send_frame(a, "err", "rename failed", 13);
		return;
	}
	(void)fsync(q->d[QD_HOLD]);
	(void)fsync(q->d[where]);
	if (a->d->sched != NULL)
		(void)sched_forget(a->d->sched, id);
	log_admin("hold", id);
	send_frame(a, "ok", NULL, 0);
}

/* `release id`: move from hold/ to new/. */
static void do_move(struct admin *a, const char *id, enum qd from, enum qd to,
                    const char *what)
{
	const struct qdir *q = &a->d->q;

	if (renameat(q->d[from], id, q->d[to], id) != 0) {
		send_frame(a, "err", errno == ENOENT ? "not there" : "rename failed",
		           errno == ENOENT ? 9 : 13);
		return;
	}
	(void)fsync(q->d[to]);
	(void)fsync(q->d[from]);
	if (to == QD_NEW && a->d->sched != NULL)
		sched_add(a->d->sched, id);	/* released: the scheduler sees it */
	log_admin(what, id);
	send_frame(a, "ok", NULL, 0);
}

/* Read the request and run it. */
static void serve(struct admin *a)
{
	unsigned char buf[256];
	const unsigned char *payload;
	struct frame_reader fr;
	size_t plen;
	char id[RANDID_LEN + 2];

	if (chan_recv(a->fd, buf, sizeof buf, &payload, &plen, a->deadline) <= 0)
		return;
	fr_init(&fr, payload, plen);
	if (fr_is(&fr, "list") == 1 && fr_end(&fr) == 0)
		do_list(a);
	else if (fr_is(&fr, "stats") == 1 && fr_end(&fr) == 0)
		do_stats(a);
	else if (fr_is(&fr, "flush") == 1) {
		if (fr.off == fr.len)
			do_flush(a, NULL);
		else if (fr_str(&fr, id, sizeof id) == 0 && fr_end(&fr) == 0 &&
		         qid_valid(id, strlen(id)))
			do_flush(a, id);
		else
			send_frame(a, "err", "bad request", 11);
	}
	else if (fr.failed == 0 && fr.off < fr.len) {
		int show = fr_is(&fr, "show") == 1, del = !show && fr_is(&fr, "delete") == 1,
		    hold = !show && !del && fr_is(&fr, "hold") == 1,
		    rel = !show && !del && !hold && fr_is(&fr, "release") == 1;

		if (!(show || del || hold || rel) || fr_str(&fr, id, sizeof id) < 0 ||
		    fr_end(&fr) < 0 || !qid_valid(id, strlen(id)))
			send_frame(a, "err", "bad request", 11);
		else if (show)
			do_show(a, id);
		else if (del)
			do_delete(a, id);
		else if (hold)
			do_hold(a, id);
		else
			do_move(a, id, QD_HOLD, QD_NEW, "release");
	} else {
		send_frame(a, "err", "bad request", 11);
	}
}

/* Accept and serve one admin connection (see control.h). */
void control_admin_accept(struct queued *d, int lfd)
{
	struct admin a = { d, -1, 0, 0 };
	struct ucred cr = { 0, 0, 0 };
	socklen_t len = sizeof cr;

	a.fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (a.fd < 0)
		return;
	a.deadline = clock_ms() + CONTROL_DEADLINE_MS;
	if (getsockopt(a.fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    (cr.uid != 0 && cr.uid != geteuid())) {
		log_event("admin-refused", "uid=%u", (unsigned)cr.uid);
		close(a.fd);
		return;
	}
	serve(&a);
	close(a.fd);
}
