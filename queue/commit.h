/*
 * commit.h — the durable commit of one message (DESIGN §5, invariant 1).
 * postern-queued, inside its sandbox; every call is relative to the queue
 * directory descriptors of qdir.h.  The order is written down in commit.c.
 *
 * Use: commit_begin at DATA; commit_write per chunk (the message is
 * streamed to disk, never held whole); at `end` commit_prepare (the
 * envelope written, writeback started); after the poll round ONE
 * commit_group for every message prepared in it (fdatasync of all files,
 * the renames, one directory fsync), then commit_ok tells each message's
 * fate, and only then the replies.  commit_undo removes whatever a failed
 * message left, so nothing partial stays visible.
 */
#ifndef POSTERN_QUEUE_COMMIT_H
#define POSTERN_QUEUE_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "qdir.h"

enum commit_stage {
	CS_NONE,	/* nothing on disk */
	CS_WRITING,	/* tmp/<id> open, receiving chunks */
	CS_WRITTEN,	/* tmp/<id>.env written too, both open, not yet durable */
	CS_PREPARED,	/* tmp/<id> and tmp/<id>.env fdatasync'd and closed */
	CS_PLACED,	/* env/<id> and new/<id> renamed into place */
};

struct commit {
	char id[RANDID_LEN + 1];
	int msgfd;
	int envfd;	/* tmp/<id>.env from commit_prepare to the group's sync */
	uint64_t size;
	enum commit_stage stage;
	int err;	/* first errno of a failed write; 0 if none */
};

void commit_init(struct commit *c);
/* New id, create tmp/<id> (O_EXCL, mode 0600).  0, or -1 with c->err. */
int commit_begin(struct commit *c, const struct qdir *q);
/* Append n bytes.  After a failure the message is dead: later writes do
 * nothing, the file is removed at once (to give the space back) and
 * c->err stays set.  0 or -1. */
int commit_write(struct commit *c, const struct qdir *q, const void *p, size_t n);
/* Write the envelope to tmp/<id>.env and start the writeback of both
 * files (no durability yet).  0, or -1 with c->err. */
int commit_prepare(struct commit *c, const struct qdir *q, const struct envelope_in *e);
/* Steps 3-5 of commit.c for the n prepared messages of a group: fdatasync
 * every file, rename each message whose files are durable, one fsync of
 * env/ and new/.  A message that failed keeps c->err (a failed directory
 * fsync fails all); commit_ok says which may be acknowledged. */
void commit_group(struct commit *const *cs, size_t n, const struct qdir *q);
/* 1 if c is placed and durable (after commit_group), else 0. */
int commit_ok(const struct commit *c);
/* rename tmp/<id>.env -> env/<id>, then tmp/<id> -> new/<id> (the commit
 * point), for a message whose files are durable (commit_group calls it).
 * 0, or -1 with c->err. */
int commit_place(struct commit *c, const struct qdir *q);
/* fsync env/ and new/: one call for a whole group.  0, or -1 with errno. */
int commit_dirsync(const struct qdir *q);
/* queue_sync = syncfs: each of steps 3 and 5 is one syncfs(2) of the
 * queue's file system for the whole group (commit.c's header says why and
 * when); 0 (the default): fdatasync per file, fsync per directory. */
void commit_use_syncfs(int on);
/* Remove what c left (message first, then envelope) and reset it. */
void commit_undo(struct commit *c, const struct qdir *q);
/* Forget a completed commit (after the group's dirsync). */
void commit_done(struct commit *c);

/* The SMTP reply for a failed commit: 452 4.3.1 for a full disk or quota
 * (ENOSPC, EDQUOT), else 451 4.3.0. */
int commit_reply_code(int err, const char **text);

#endif
