/*
 * commit.h — the durable commit of one message (DESIGN §5, invariant 1).
 * postern-queued, inside its sandbox; every call is relative to the queue
 * directory descriptors of qdir.h.  The order is written down in commit.c.
 *
 * Use: commit_begin at DATA; commit_write per chunk (the message is
 * streamed to disk, never held whole); at the end commit_prepare (envelope
 * + fdatasync of both files) and commit_place (the two renames) for each
 * message of a group, then ONE commit_dirsync for the whole group, and
 * only then the replies.  commit_undo removes whatever a failed message
 * left, so nothing partial stays visible.
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
	CS_PREPARED,	/* tmp/<id> and tmp/<id>.env written and fdatasync'd */
	CS_PLACED,	/* env/<id> and new/<id> renamed into place */
};

struct commit {
	char id[RANDID_LEN + 1];
	int msgfd;
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
/* Write the envelope to tmp/<id>.env, fdatasync it and the message, close
 * both.  0, or -1 with c->err. */
int commit_prepare(struct commit *c, const struct qdir *q, const struct envelope_in *e);
/* rename tmp/<id>.env -> env/<id>, then tmp/<id> -> new/<id> (the commit
 * point).  0, or -1 with c->err. */
int commit_place(struct commit *c, const struct qdir *q);
/* fsync env/ and new/: one call for a whole group.  0, or -1 with errno. */
int commit_dirsync(const struct qdir *q);
/* Remove what c left (message first, then envelope) and reset it. */
void commit_undo(struct commit *c, const struct qdir *q);
/* Forget a completed commit (after the group's dirsync). */
void commit_done(struct commit *c);

/* The SMTP reply for a failed commit: 452 4.3.1 for a full disk or quota
 * (ENOSPC, EDQUOT), else 451 4.3.0. */
int commit_reply_code(int err, const char **text);

#endif
