/*
 * sched.c — the scheduler's entry points (sched.h): the index scan at
 * start, the commit hook, adopting workers, the poll hooks, taking due
 * messages, `flush`, and the index side of `hold`.  postern-queued; the scan runs before the sandbox
 * (getdents64 through fdopendir), the rest inside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sched_int.h"

/* Create (see sched.h). */
struct sched *sched_new(struct queued *d)
{
	struct sched *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->d = d;
	s->started = (int64_t)time(NULL);
	for (size_t i = 0; i < SCHED_WORKERS_MAX; i++)
		s->w[i].fd = -1;
	d->sched = s;
	return s;
}

/* Add id (in where) to the index, due at due. */
static int index_add(struct sched *s, const char *id, int where, int64_t due)
{
	struct sentry *e = six_new(id, where, due);

	if (e == NULL || six_push(&s->ix, e) < 0) {
		free(e);
		log_event("sched-index-full", "reason=out-of-memory");
		return -1;
	}
	return 0;
}

/* qdir_each_id callback: index one id found at start (due now). */
static int scan_one(void *ctx, enum qd where, const char *id)
{
	return index_add(ctx, id, (int)where, 0);
}

/* Add every queue id of one directory; the count, or -1. */
static long scan_dir(struct sched *s, enum qd where)
{
	return qdir_each_id(&s->d->q, where, QDIR_IDS, scan_one, s);
}

/* The scan (see sched.h): cur/ first, so interrupted work goes first. */
long sched_scan(struct sched *s)
{
	long c = scan_dir(s, QD_CUR), n;

	if (c < 0)
		return -1;
	n = scan_dir(s, QD_NEW);
	return n < 0 ? -1 : c + n;
}

/* The commit hook (see sched.h). */
void sched_add(struct sched *s, const char *id)
{
	(void)index_add(s, id, QD_NEW, (int64_t)time(NULL));
}

/* Adopt a worker channel (see sched.h). */
void sched_worker_add(struct sched *s, const char *kind, const char *route, int fd)
{
	struct sworker *w = NULL;
	int maildir = strcmp(kind, "maildir") == 0;

	for (size_t i = 0; i < SCHED_WORKERS_MAX && w == NULL; i++)
		if (s->w[i].fd < 0)
			w = &s->w[i];
	if (w == NULL || (!maildir && strcmp(kind, "smtp") != 0) ||
	    (maildir && strncmp(route, "maildir:/", 9) != 0) || (!maildir && route[0] != '\0') ||
	    strlen(route) > SROUTE_VALUE_MAX || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		log_event("worker-refused", "reason=%s", w == NULL ? "too-many" : "bad-kind-or-route");
		close(fd);
		return;
	}
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->kind = maildir ? SW_MAILDIR : SW_SMTP;
	memcpy(w->route, route, strlen(route) + 1);
	if ((size_t)(w - s->w) >= s->nw)
		s->nw = (size_t)(w - s->w) + 1;
	s->ever_worker = 1;
	log_event("worker", "kind=%s slot=%zu", maildir ? "maildir" : "smtp", (size_t)(w - s->w));
}

/* Poll entries (see sched.h): one per worker slot, -1 when empty. */
size_t sched_pollfds(struct sched *s, struct pollfd *pfd, size_t cap)
{
	size_t n = s->nw < cap ? s->nw : cap;

	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = s->w[i].fd, .events = POLLIN };
	return n;
}

/* Handle revents (see sched.h). */
void sched_events(struct sched *s, const struct pollfd *pfd, size_t n)
{
	for (size_t i = 0; i < n && i < s->nw; i++)
		if (pfd[i].revents && s->w[i].fd >= 0 && s->w[i].fd == pfd[i].fd)
			sw_readable(s, &s->w[i]);
}

/* Take due messages, hand out jobs (see sched.h). */
int sched_run(struct sched *s)
{
	int64_t now = (int64_t)time(NULL);
	struct sentry *e;
	size_t max_active = (size_t)s->d->conf.concurrency + SCHED_ACTIVE_EXTRA;

	/* No routes table: idle, nothing leaves new/ (INSTALL.md "Delivery
	 * scheduling"). */
	if (s->d->routes.fd < 0 || !s->d->routes.ready)
		return 1000;
	if (!s->ever_worker && now < s->started + SCHED_GRACE_S)
		return 1000;
	for (size_t i = 0; i < s->nw; i++)
		if (s->w[i].fd >= 0 && s->w[i].job != NULL &&
		    now - s->w[i].job->sent > SCHED_JOB_DEADLINE_S)
			sw_close(s, &s->w[i], "job-timeout");
	e = six_top(&s->ix);
	if (s->nactive >= max_active && e != NULL && e->due <= now)
		(void)smsg_park_blocked(s, now, SCHED_TAKE_BURST);
	for (int i = 0; i < SCHED_TAKE_BURST && s->nactive < max_active; i++) {
		e = six_top(&s->ix);
		if (e == NULL || e->due > now)
			break;
		six_pop(&s->ix);
		if (smsg_take(s, e, now) < 0)
			break;
	}
	smsg_dispatch(s, now);
	e = six_top(&s->ix);
	if (e == NULL || e->due > now + 1)
		return 1000;
	return e->due <= now && s->nactive < max_active ? 0 : 1000;
}

/* Flush (see sched.h).  Setting every due to now keeps the heap valid
 * (all keys equal); one entry is moved up alone. */
size_t sched_flush(struct sched *s, const char *id)
{
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < s->ix.n; i++) {
		struct sentry *e = s->ix.heap[i];

		if (id == NULL) {
			e->forced = 1;
			e->due = now;
		} else if (strcmp(e->id, id) == 0) {
			e->forced = 1;
			e->due = now;
			six_update(&s->ix, e);
			return 1;
		}
	}
	return id == NULL ? s->ix.n : 0;
}

/* Busy (see sched.h): the active list holds every message of an attempt
 * round; its jobs are out or about to be, and its round ends by writing
 * state/<id> or removing cur/<id>, which a move to hold/ would race. */
int sched_busy(const struct sched *s, const char *id)
{
	for (const struct smsg *m = s->active; m != NULL; m = m->next)
		if (strcmp(m->e->id, id) == 0)
			return 1;
	return 0;
}

/* Forget (see sched.h).  Every entry with that id goes: a message held
 * from new/ and released again before its first entry came due had two. */
int sched_forget(struct sched *s, const char *id)
{
	int found = 0;

	for (size_t i = 0; i < s->ix.n;) {
		struct sentry *e = s->ix.heap[i];

		if (strcmp(e->id, id) != 0) {
			i++;
			continue;
		}
		six_remove(&s->ix, e);
		free(e);
		found = 1;
		i = 0;	/* the heap was reordered: scan again (rare: duplicates) */
	}
	return found;
}
