/*
 * tables.c — opening the table files read-only for their consumers (see
 * tables.h).  Process: postern (master), at start, on SIGHUP and from the
 * one-second tick (a stat every TABLES_CHECK_MS).
 *
 * Why stat and then open and then fstat: the file is replaced by rename
 * (postern-user, postern-table), so what counts is the inode we opened;
 * the fstat of the open descriptor is what is recorded and checked, so a
 * rename between the stat and the open cannot slip an unchecked file in.
 * O_NOFOLLOW: a symlink planted at DIR/users.cdb is refused.
 *
 * Failure policy: a table that cannot be opened or fails the checks is
 * logged (event=table-refused) and the old descriptor kept; a table that
 * disappeared is closed (event=table-gone) so its consumer stops using
 * stale data only when it gets a new one (the consumer keeps what it has).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tables.h"

static const char *const names[TABLE_COUNT] = {
	"users", "senders", "routes", "quotas", "relay-secrets",
};

/* Name of table id. */
const char *table_name(enum table_id id)
{
	return (unsigned)id < TABLE_COUNT ? names[id] : "?";
}

/* No table open. */
void tables_init(struct tables *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < TABLE_COUNT; i++)
		t->t[i].fd = -1;
}

/* The current descriptor of id, or -1. */
int tables_fd(const struct tables *t, enum table_id id)
{
	return (unsigned)id < TABLE_COUNT ? t->t[id].fd : -1;
}

/* 1 if st describes the same file, unchanged, as f. */
static int same_file(const struct table_file *f, const struct stat *st)
{
	return f->fd >= 0 && f->dev == st->st_dev && f->ino == st->st_ino &&
	       f->size == st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec &&
	       f->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       f->ctime.tv_sec == st->st_ctim.tv_sec &&
	       f->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Why the open file st may not be used as a table, or NULL. */
static const char *refuse_reason(const struct stat *st, int root)
{
	if (!S_ISREG(st->st_mode))
		return "not-a-regular-file";
	if (root && st->st_uid != 0)
		return "not-owned-by-root";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable-by-group-or-other";
	return NULL;
}

/* Log one table event. */
static void log_table(const char *event, enum table_id id, const char *path,
                      const char *reason)
{
	struct logline l;

	ll_begin(&l, event);
	ll_str(&l, "table", table_name(id));
	ll_str(&l, "path", path);
	if (reason != NULL)
		ll_str(&l, "reason", reason);
	ll_emit(&l);
}

/* Open path as table id if it is new or changed.  1 if the descriptor
 * changed, 0 if not. */
static int refresh_one(struct table_file *f, enum table_id id, const char *path,
                       int root, int force)
{
	struct stat st;
	const char *why;
	int fd;

	if (stat(path, &st) != 0) {
		if (f->fd < 0)
			return 0;
		log_table("table-gone", id, path, strerrorname_np(errno));
		close(f->fd);
		f->fd = -1;
		return 1;
	}
	if (!force && same_file(f, &st))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		log_table("table-refused", id, path, strerrorname_np(errno));
		return 0;
	}
	why = fstat(fd, &st) != 0 ? "fstat-failed" : refuse_reason(&st, root);
	if (why != NULL) {
		log_table("table-refused", id, path, why);
		close(fd);
		return 0;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	f->ctime = st.st_ctim;
	log_table("table-open", id, path, NULL);
	return 1;
}

/* Stat and reopen (see tables.h). */
unsigned tables_refresh(struct tables *t, const char *dir, int root, int force)
{
	unsigned changed = 0;

	for (int i = 0; i < TABLE_COUNT; i++) {
		char path[CONF_PATH_MAX + 32];
		int n = snprintf(path, sizeof(path), "%s/%s.cdb", dir, names[i]);

		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (refresh_one(&t->t[i], (enum table_id)i, path, root, force))
			changed |= TABLE_BIT(i);
	}
	return changed;
}
