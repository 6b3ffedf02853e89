/*
 * qdir.h — the queue directory of DESIGN §5 as a set of directory
 * descriptors, opened once by postern-queued before its sandbox (as root,
 * before the chroot into the queue directory), so that every later file
 * operation is an *at() call relative to one of them.
 *
 *   tmp/<id>       message being received        tmp/<id>.env  its envelope
 *   new/<id>       committed (maildir new/)      cur/<id>      taken by the scheduler
 *   env/<id>       the envelope CDB              state/<id>    per-recipient state
 *   hold/<id>      put on hold by `postern-queue hold` (created here if missing)
 *
 * Queue ids are lib/randid.h ids: RANDID_LEN characters of "a-z2-7".
 * Failure policy: any directory that cannot be opened is fatal at start.
 */
#ifndef POSTERN_QUEUE_QDIR_H
#define POSTERN_QUEUE_QDIR_H

#include <stddef.h>
#include <sys/types.h>

#include "randid.h"

enum qd { QD_TMP, QD_NEW, QD_CUR, QD_ENV, QD_STATE, QD_HOLD, QD_COUNT };

struct qdir {
	int root;		/* the queue directory itself */
	int d[QD_COUNT];
};

/* Suffix of an envelope while it is still in tmp/. */
#define QDIR_ENV_SUFFIX ".env"
/* Longest file name the queue uses: id + ".env" + NUL. */
#define QDIR_NAME_MAX (RANDID_LEN + sizeof QDIR_ENV_SUFFIX)

/* Name of a subdirectory ("tmp", "new", ...). */
const char *qdir_name(enum qd which);

/* Open path and its subdirectories (O_DIRECTORY|O_NOFOLLOW, close-on-exec).
 * hold/ is created (mode 0700, owned by uid:gid when own is set) if
 * missing.  0, or -1 with a reason in err. */
int qdir_open(struct qdir *q, const char *path, int own, uid_t uid, gid_t gid,
              char *err, size_t errcap);

/* Close every descriptor. */
void qdir_close(struct qdir *q);

/* 1 if s[0..n) is a well-formed queue id. */
int qid_valid(const char *s, size_t n);

/* Make the given directory's entries durable (fsync). 0 or -1. */
int qdir_sync(const struct qdir *q, enum qd which);

/* Where message id lives now: QD_NEW, QD_CUR or QD_HOLD, or -1. */
int qdir_find_message(const struct qdir *q, const char *id);

/* Which names qdir_each_id passes on. */
enum qdir_names {
	QDIR_IDS,	/* only well-formed queue ids (qid_valid) */
	QDIR_ALL,	/* every name but "." and ".." */
};

/* Called once per name; < 0 stops the walk (that name is not counted). */
typedef int (*qdir_entry_fn)(void *ctx, enum qd where, const char *name);

/* Call fn for each name of q->d[where] (through a second descriptor, so
 * q->d[where] stays open and its offset untouched).  The number of names
 * fn accepted (returned >= 0), or -1 if the directory cannot be read. */
long qdir_each_id(const struct qdir *q, enum qd where, enum qdir_names which,
                  qdir_entry_fn fn, void *ctx);

#endif
