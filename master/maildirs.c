/*
 * maildirs.c — the maildir routes of the delivery pool (maildirs.h;
 * INSTALL.md "Maildir routes and `maildir_uid_min`"): which
 * postern-maildir slots the pool keeps, and whether a maildir root may be
 * handed to one.
 *
 * Routes: the distinct `maildir:` values of routes.cdb, walked with
 * cdb_seq* on the master's table descriptor (tables.h), at start and each
 * time the table changes.  At most WORKERS_MAILDIR_MAX; more are logged
 * (event=maildir-refused reason=too-many-maildir-routes) and get no worker.
 *
 * Maildir roots: opened by the master O_DIRECTORY|O_NOFOLLOW at each
 * spawn, owner and group from fstat of that descriptor (so what was
 * checked is what the worker gets as its descriptor 4, MAILDIR_FD_ROOT).
 * Refused, logged with the path (event=maildir-refused) and retried with
 * the pool's backoff: uid 0, a uid below maildir_uid_min, gid 0, a
 * symlink or not a directory, and without root an owner other than the
 * master's own uid.  The mail of such a route stays queued (queued has no
 * worker for it).
 *
 * Process: postern (master, root).  Descriptors: routes.cdb (the
 * master's, only read here) and, briefly, each maildir root.  Failure
 * policy: fail closed — a root that cannot be opened or checked gets no
 * worker; a routes table that cannot be read keeps the slots as they are.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "maildirs.h"
#include "master.h"
#include "routespec.h"
#include "tables.h"
#include "workers.h"

/* The live (not retiring) maildir slot of route, or NULL. */
static struct worker *maildir_slot(struct worker_pool *p, const char *route, size_t n)
{
	for (size_t i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &p->v[i];

		if (w->used && !w->retire && w->kind == WORKER_MAILDIR &&
		    strlen(w->route) == n && memcmp(w->route, route, n) == 0)
			return w;
	}
	return NULL;
}

/* A free slot for a new maildir route, or NULL. */
static struct worker *free_slot(struct worker_pool *p)
{
	size_t maildirs = 0;

	for (size_t i = 0; i < WORKERS_MAX; i++)
		maildirs += p->v[i].used && p->v[i].kind == WORKER_MAILDIR;
	if (maildirs >= WORKERS_MAILDIR_MAX)
		return NULL;
	for (size_t i = CONF_DELIVER_WORKERS_MAX; i < WORKERS_MAX; i++) {
		if (!p->v[i].used)
			return &p->v[i];
	}
	return NULL;
}

/* Mark every maildir slot stale; the derivation unmarks those still routed. */
static void mark_maildirs(struct worker_pool *p)
{
	for (size_t i = 0; i < WORKERS_MAX; i++) {
		if (p->v[i].used && !p->v[i].retire && p->v[i].kind == WORKER_MAILDIR)
			p->v[i].stale = 1;
	}
}

/* One value of routes.cdb: a maildir route keeps or gets its slot. */
static void derive_one(struct worker_pool *p, const char *v, size_t n)
{
	struct routespec r;
	const char *why;
	struct worker *w;

	if (routespec_parse(v, n, &r, &why) != 0 || r.kind != ROUTE_MAILDIR)
		return;
	w = maildir_slot(p, v, n);
	if (w != NULL) {
		/* A refused maildir the operator may have fixed: try it now
		 * (SIGHUP or a rebuilt table) rather than after the backoff. */
		w->stale = 0;
		if (w->pid == 0)
			w->restart_at_ms = 0;
		return;
	}
	w = free_slot(p);
	if (w == NULL) {
		log_event("maildir-refused", "path=%s reason=too-many-maildir-routes max=%d",
		          r.path, WORKERS_MAILDIR_MAX);
		return;
	}
	workers_slot_take(w, WORKER_MAILDIR, "");
	memcpy(w->route, v, n);
	w->route[n] = '\0';
	log_event("maildir-route", "route=%s", w->route);
}

/* Walk routes.cdb (the master's descriptor) with cdb_seq*.  0 (also
 * without a table: no maildir route then), -1 if it cannot be read. */
static int derive_all(struct master *m)
{
	int fd = tables_fd(&m->tables, TABLE_ROUTES);
	struct cdb c;
	unsigned pos;

	if (fd < 0)
		return 0;
	if (cdb_init(&c, fd) != 0) {
		log_event("error", "reason=routes-unreadable error=%s detail=maildir-workers-kept",
		          strerrorname_np(errno) ? strerrorname_np(errno) : "unknown");
		return -1;
	}
	cdb_seqinit(&pos, &c);
	while (cdb_seqnext(&pos, &c) > 0) {
		unsigned vlen = cdb_datalen(&c);
		const char *v = cdb_get(&c, vlen, cdb_datapos(&c));

		if (v != NULL && vlen <= ROUTESPEC_VALUE_MAX)
			derive_one(&m->workers, v, vlen);
	}
	cdb_free(&c);
	return 0;
}

/* w's route is gone: stop its worker (freed when reaped) or free it now. */
static void drop_route(struct worker *w)
{
	log_event("maildir-route-removed", "route=%s pid=%ld", w->route, (long)w->pid);
	w->stale = 0;
	if (w->pid > 0) {
		w->retire = 1;
		w->termed = 1;
		kill(w->pid, SIGTERM);
	} else {
		if (w->logfd >= 0)
			close(w->logfd);
		memset(w, 0, sizeof(*w));
		w->logfd = -1;
	}
}

/* Re-derive the maildir slots (see maildirs.h). */
void maildirs_routes_changed(struct master *m)
{
	struct worker_pool *p = &m->workers;
	int unreadable;

	mark_maildirs(p);
	unreadable = derive_all(m) != 0;
	for (size_t i = 0; i < WORKERS_MAX; i++) {
		struct worker *w = &p->v[i];

		if (!w->used || w->retire || w->kind != WORKER_MAILDIR || !w->stale)
			continue;
		if (unreadable)			/* keep what runs */
			w->stale = 0;
		else
			drop_route(w);
	}
}

/* Why the opened maildir root st may not be used, or NULL. */
static const char *maildir_refusal(const struct master *m, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return "not-a-directory";
	if (st->st_uid == 0)
		return "owner-is-root";
	if (st->st_uid < m->conf->deliver.maildir_uid_min)
		return "owner-below-maildir_uid_min";
	if (st->st_gid == 0)
		return "group-is-root";
	if (!m->ids.root && st->st_uid != getuid())
		return "not-root-and-owner-is-not-the-master-uid";
	return NULL;
}

/* Log the refusal why of path (fd: the root when it was opened, else -1). */
static void log_refused(const struct master *m, const char *path, const char *why,
                        int fd, const struct stat *st)
{
	struct logline l;

	ll_begin(&l, "maildir-refused");
	ll_str(&l, "path", path);
	ll_str(&l, "reason", why);
	if (fd >= 0)
		ll_u64(&l, "uid", st->st_uid);
	else
		ll_str(&l, "error", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	ll_u64(&l, "maildir_uid_min", m->conf->deliver.maildir_uid_min);
	ll_str(&l, "detail", "mail-for-this-route-stays-queued");
	ll_emit(&l);
}

/* Open and check w's maildir root (see maildirs.h). */
int maildirs_open_root(const struct master *m, const struct worker *w, struct stat *st)
{
	const char *path = w->route + 8, *why;	/* after "maildir:" */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		why = errno == ELOOP || errno == ENOTDIR ? "symlink-or-not-a-directory" :
		      "cannot-open";
	} else if (fstat(fd, st) != 0)
		why = "fstat-failed";
	else
		why = maildir_refusal(m, st);
	if (why == NULL)
		return fd;
	log_refused(m, path, why, fd, st);
	if (fd >= 0)
		close(fd);
	return -1;
}
