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
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "recover.h"

/* What every entry callback needs: the queue and the counters. */
struct rec {
	const struct qdir *q;
	struct recover_stats *st;
};

/* Call fn for each entry of q->d[where] (not . and ..); 0, or -1 if the
 * directory cannot be read. */
static int walk(struct rec *r, enum qd where, qdir_entry_fn fn)
{
	return qdir_each_id(r->q, where, QDIR_ALL, fn, r) < 0 ? -1 : 0;
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
static int on_tmp(void *ctx, enum qd where, const char *name)
{
	const struct rec *r = ctx;

	remove_entry(r->q, where, name, "stale-tmp", &r->st->tmp_removed);
	return 0;
}

/* 1 if name is a queue id; else 0, logged and counted as unknown (the
 * operator's file, left alone). */
static int known(const struct rec *r, enum qd where, const char *name)
{
	if (qid_valid(name, strlen(name)))
		return 1;
	note("recover-unknown", where, name, NULL);
	r->st->unknown++;
	return 0;
}

/* new/ cur/ hold/: a message needs its envelope. */
static int on_message(void *ctx, enum qd where, const char *name)
{
	const struct rec *r = ctx;

	if (!known(r, where, name))
		return 0;
	if (!present(r->q, QD_ENV, name))
		remove_entry(r->q, where, name, "no-envelope", &r->st->msg_removed);
	else
		r->st->kept++;
	return 0;
}

/* env/: an envelope needs its message. */
static int on_env(void *ctx, enum qd where, const char *name)
{
	const struct rec *r = ctx;

	if (known(r, where, name) && qdir_find_message(r->q, name) < 0)
		remove_entry(r->q, where, name, "no-message", &r->st->env_removed);
	return 0;
}

/* state/: needs the envelope. */
static int on_state(void *ctx, enum qd where, const char *name)
{
	const struct rec *r = ctx;

	if (known(r, where, name) && !present(r->q, QD_ENV, name))
		remove_entry(r->q, where, name, "no-envelope", &r->st->state_removed);
	return 0;
}

/* The whole recovery (see recover.h). */
int recover_queue(const struct qdir *q, struct recover_stats *st)
{
	struct rec r = { q, st };

	memset(st, 0, sizeof *st);
	if (walk(&r, QD_TMP, on_tmp) < 0 || walk(&r, QD_NEW, on_message) < 0 ||
	    walk(&r, QD_CUR, on_message) < 0 || walk(&r, QD_HOLD, on_message) < 0 ||
	    walk(&r, QD_ENV, on_env) < 0 || walk(&r, QD_STATE, on_state) < 0)
		return -1;
	for (int i = 0; i < QD_COUNT; i++)
		if (qdir_sync(q, (enum qd)i) != 0)
			return -1;
	return 0;
}
