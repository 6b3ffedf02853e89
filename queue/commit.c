/*
 * commit.c — the durable commit of one message; postern-queued, in its
 * sandbox (openat, write, lseek, fdatasync, renameat, fsync, unlinkat on
 * the queue directory descriptors only).
 *
 * THE ORDER (invariant 1: `250` is written only after every step):
 *   1. DATA:  tmp/<id> created O_EXCL|O_NOFOLLOW, mode 0600; each chunk is
 *             written to it as it arrives (never the whole message in
 *             memory).
 *   2. end:   tmp/<id>.env written (cdb_make), then fdatasync(tmp/<id>.env)
 *             and fdatasync(tmp/<id>): both files' data are durable.
 *   3.        renameat tmp/<id>.env -> env/<id>
 *   4.        renameat tmp/<id> -> new/<id>      <- THE COMMIT POINT
 *   5.        fsync(env/), fsync(new/): the renames are durable.  Done once
 *             per group: every session whose `end` arrived in the same
 *             poll round shares these two fsyncs (group commit).
 *   6.        only now the caller sends `250 2.0.0 Ok: queued as <id>`.
 * Why this order: a message is never in new/ without its envelope (3
 * before 4), so the scheduler never sees half a message; a crash before 5
 * may lose the renames, but then no 250 was sent, and recovery (recover.c)
 * removes a message without an envelope and an envelope without a message.
 * A crash after 5 leaves a complete, durable message: no loss.
 * A test build with -DQUEUE_TEST_SKIP_DIRSYNC leaves step 5 out, so the
 * syscall-order test (tests/integration/test_queue_order.py) can show it
 * would catch that.
 *
 * Failure policy: any failed step removes everything this message put on
 * disk (commit_undo: message first — the commit point of "gone" — then
 * envelope) and the caller answers 452 4.3.1 (disk full) or 451 4.3.0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"

/* tmp/<id>.env into name[QDIR_NAME_MAX]. */
static void env_tmp_name(const struct commit *c, char name[QDIR_NAME_MAX])
{
	memcpy(name, c->id, RANDID_LEN);
	memcpy(name + RANDID_LEN, QDIR_ENV_SUFFIX, sizeof QDIR_ENV_SUFFIX);
}

/* Nothing on disk yet. */
void commit_init(struct commit *c)
{
	memset(c, 0, sizeof *c);
	c->msgfd = -1;
	c->stage = CS_NONE;
}

/* Record the first error. */
static int fail(struct commit *c, int err)
{
	if (c->err == 0)
		c->err = err ? err : EIO;
	return -1;
}

/* Create tmp/<id>. */
int commit_begin(struct commit *c, const struct qdir *q)
{
	commit_init(c);
	for (int tries = 0; tries < 4; tries++) {
		randid_make(c->id);
		c->msgfd = openat(q->d[QD_TMP], c->id,
		                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (c->msgfd >= 0) {
			c->stage = CS_WRITING;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	return fail(c, errno);
}

/* Append a chunk (see commit.h). */
int commit_write(struct commit *c, const struct qdir *q, const void *p, size_t n)
{
	const unsigned char *b = p;

	if (c->stage != CS_WRITING || c->err)
		return -1;
	while (n > 0) {
		ssize_t w = write(c->msgfd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			commit_undo(c, q);
			return fail(c, e);
		}
		b += w;
		n -= (size_t)w;
		c->size += (uint64_t)w;
	}
	return 0;
}

/* Write and fdatasync the envelope, fdatasync the message. */
int commit_prepare(struct commit *c, const struct qdir *q, const struct envelope_in *e)
{
	char name[QDIR_NAME_MAX];
	int efd, rc = 0;

	if (c->stage != CS_WRITING || c->err)
		return fail(c, EIO);
	env_tmp_name(c, name);
	efd = openat(q->d[QD_TMP], name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	             0600);
	if (efd < 0)
		return fail(c, errno);
	errno = 0;
	if (envelope_write(efd, e) != 0 || fdatasync(efd) != 0 || fdatasync(c->msgfd) != 0)
		rc = fail(c, errno);
	if (close(efd) != 0 && rc == 0)
		rc = fail(c, errno);
	if (close(c->msgfd) != 0 && rc == 0)
		rc = fail(c, errno);
	c->msgfd = -1;
	c->stage = CS_PREPARED;
	return rc;
}

/* The two renames; the second is the commit point. */
int commit_place(struct commit *c, const struct qdir *q)
{
	char name[QDIR_NAME_MAX];

	if (c->stage != CS_PREPARED || c->err)
		return fail(c, EIO);
	env_tmp_name(c, name);
	if (renameat(q->d[QD_TMP], name, q->d[QD_ENV], c->id) != 0)
		return fail(c, errno);
	c->stage = CS_PLACED;
	if (renameat(q->d[QD_TMP], c->id, q->d[QD_NEW], c->id) != 0)
		return fail(c, errno);
	return 0;
}

/* Make the renames of a group durable. */
int commit_dirsync(const struct qdir *q)
{
#ifdef QUEUE_TEST_SKIP_DIRSYNC
	(void)q;
	return 0;
#else
	if (qdir_sync(q, QD_ENV) != 0 || qdir_sync(q, QD_NEW) != 0)
		return -1;
	return 0;
#endif
}

/* Remove whatever c left; the message first. */
void commit_undo(struct commit *c, const struct qdir *q)
{
	char name[QDIR_NAME_MAX];

	if (c->msgfd >= 0)
		close(c->msgfd);
	c->msgfd = -1;
	if (c->stage == CS_NONE)
		return;
	env_tmp_name(c, name);
	if (c->stage == CS_PLACED) {
		(void)unlinkat(q->d[QD_NEW], c->id, 0);
		(void)unlinkat(q->d[QD_ENV], c->id, 0);
	}
	(void)unlinkat(q->d[QD_TMP], c->id, 0);
	(void)unlinkat(q->d[QD_TMP], name, 0);
	c->stage = CS_NONE;
}

/* Forget a finished commit. */
void commit_done(struct commit *c)
{
	if (c->msgfd >= 0)
		close(c->msgfd);
	c->msgfd = -1;
	c->stage = CS_NONE;
}

/* Reply for a failed commit. */
int commit_reply_code(int err, const char **text)
{
	if (err == ENOSPC || err == EDQUOT) {
		*text = "4.3.1 Insufficient system storage";
		return 452;
	}
	*text = "4.3.0 Local error in processing, try again later";
	return 451;
}
