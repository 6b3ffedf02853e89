/*
 * recover.c — start-up recovery (recover.h).  postern-queued, as root
 * before the sandbox, single-threaded, before any session exists, so
 * everything in tmp/ is stale.
 *
 * Rules, following commit.c's order (envelope placed before message; a
 * 250 only after both renames were made durable):
 *   tmp/ANY                       removed (an unfinished receipt)
 *   new|cur|hold/<id> without env/<id>   removed: its commit did not
 *                                 complete, so no 250 was sent for it
 *   env/<id> without a message     removed (crash between the renames, or
 *                                 between the removals of a finished one)
 *   state/<id> without env/<id>    removed
 * A name that is not a queue id is logged (event=recover-unknown) and left
 * alone: it is the operator's.  Every removal is logged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "recover.h"

typedef int (*entry_fn)(const struct qdir *q, enum qd where, const char *name,
                        struct recover_stats *st);

/* Call fn for each entry of q->d[where] (not . and ..). */
static int walk(const struct qdir *q, enum qd where, entry_fn fn, struct recover_stats *st)
{
	int fd = openat(q->d[where], ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fn(q, where, e->d_name, st) < 0)
			break;
	}
	closedir(d);
	return 0;
}

/* Log one removal or unknown name. */
static void note(const char *event, enum qd where, const char *name, const char *why)
{
	struct logline l;

	ll_begin(&l, event);
	ll_str(&l, "dir", qdir_name(where));
	ll_str(&l, "file", name);
	if (why)
		ll_str(&l, "reason", why);
	ll_emit(&l);
}

/* Remove name from where, logged. */
static void remove_entry(const struct qdir *q, enum qd where, const char *name,
                         const char *why, size_t *count)
{
	if (unlinkat(q->d[where], name, 0) == 0) {
		note("recover-removed", where, name, why);
		(*count)++;
	} else {
		note("recover-remove-failed", where, name, strerror(errno));
	}
}

/* 1 if name exists as a regular file in q->d[where]. */
static int present(const struct qdir *q, enum qd where, const char *name)
{
	struct stat sb;

	return fstatat(q->d[where], name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

/* tmp/: everything goes. */
static int on_tmp(const struct qdir *q, enum qd where, const char *name,
                  struct recover_stats *st)
{
	remove_entry(q, where, name, "stale-tmp", &st->tmp_removed);
	return 0;
}

/* new/ cur/ hold/: a message needs its envelope. */
static int on_message(const struct qdir *q, enum qd where, const char *name,
                      struct recover_stats *st)
{
	if (!qid_valid(name, strlen(name))) {
		note("recover-unknown", where, name, NULL);
		st->unknown++;
	} else if (!present(q, QD_ENV, name)) {
		remove_entry(q, where, name, "no-envelope", &st->msg_removed);
	} else {
		st->kept++;
	}
	return 0;
}

/* env/: an envelope needs its message. */
static int on_env(const struct qdir *q, enum qd where, const char *name,
                  struct recover_stats *st)
{
	if (!qid_valid(name, strlen(name))) {
		note("recover-unknown", where, name, NULL);
		st->unknown++;
	} else if (qdir_find_message(q, name) < 0) {
		remove_entry(q, where, name, "no-message", &st->env_removed);
	}
	return 0;
}

/* state/: needs the envelope. */
static int on_state(const struct qdir *q, enum qd where, const char *name,
                    struct recover_stats *st)
{
	if (!qid_valid(name, strlen(name))) {
		note("recover-unknown", where, name, NULL);
		st->unknown++;
	} else if (!present(q, QD_ENV, name)) {
		remove_entry(q, where, name, "no-envelope", &st->state_removed);
	}
	return 0;
}

/* The whole recovery (see recover.h). */
int recover_queue(const struct qdir *q, struct recover_stats *st)
{
	memset(st, 0, sizeof *st);
	if (walk(q, QD_TMP, on_tmp, st) < 0 || walk(q, QD_NEW, on_message, st) < 0 ||
	    walk(q, QD_CUR, on_message, st) < 0 || walk(q, QD_HOLD, on_message, st) < 0 ||
	    walk(q, QD_ENV, on_env, st) < 0 || walk(q, QD_STATE, on_state, st) < 0)
		return -1;
	for (int i = 0; i < QD_COUNT; i++)
		if (qdir_sync(q, (enum qd)i) != 0)
			return -1;
	return 0;
}
