/*
 * commit.c — the durable commit of messages, one group per poll round;
 * postern-queued, in its sandbox (openat, write, lseek, sync_file_range,
 * fdatasync, renameat, fsync, unlinkat on the queue directory descriptors
 * only).
 *
 * THE ORDER (invariant 1: `250` is written only after every step):
 *   1. DATA:  tmp/<id> created O_EXCL|O_NOFOLLOW, mode 0600; each chunk is
 *             written to it as it arrives (never the whole message in
 *             memory).
 *   2. end:   tmp/<id>.env written (cdb_make); writeback of both files is
 *             started (sync_file_range WRITE, a hint, no durability).
 *   -- after the poll round, for every message whose `end` came in it
 *      (commit_group):
 *   3.        fdatasync(tmp/<id>.env), fdatasync(tmp/<id>) of EVERY message
 *             of the group: all files' data are durable.
 *   4.        for each: renameat tmp/<id>.env -> env/<id>, then
 *             renameat tmp/<id> -> new/<id>      <- THE COMMIT POINT
 *   5.        fsync(env/), fsync(new/) once for the whole group: the
 *             renames are durable (group commit).
 *   6.        only now the caller sends `250 2.0.0 Ok: queued as <id>`.
 * Why this order: a message is never in new/ without its envelope (4:
 * env before msg), and never renamed before its bytes are durable (3
 * before 4), so after a crash new/ never holds half a message; a crash
 * before 5 may lose the renames, but then no 250 was sent, and recovery
 * (recover.c) removes a message without an envelope and an envelope
 * without a message.  A crash after 5 leaves a complete, durable message.
 *
 * WHY NOT THREADS OR syncfs (DESIGN §5 asks for the two fdatasyncs to run
 * "concurrently, so the journal can merge them").  We aim for the merge
 * without concurrency: step 2 starts the writeback of every file of the
 * group (ext4 allocates blocks then), so the first fdatasync of step 3
 * should commit one journal transaction holding the metadata of all of
 * them and the later ones find their data written and their transaction
 * committed (expected from ext4's design; the VM exposes no jbd2 counters
 * to prove it, and the measured gain below is small).  On an ext4 without
 * a journal (the CI VM's root filesystem, perf: ext4_fsync_nojournal)
 * there is nothing to merge: each fdatasync/fsync writes its own data, inode
 * and directory blocks serially, ~0.55 ms for the four on a quiet disk
 * (bench/README.md "Profile: one session (S1) and 20 sessions (S2)");
 * sync_file_range still lets the two data writes overlap.  A helper thread
 * pool would need clone and futex in queued's seccomp list for no measured
 * gain; syncfs flushes the whole filesystem (everything anyone wrote), which
 * only pays when the queue has its own.
 * Measured on the CI VM (ext4 on virtio, 2 cores) with a throwaway C
 * loop doing exactly these steps for a 4 KiB message and a 1 KiB
 * envelope per message, 3 runs of 150 rounds each (noisy: other builds
 * were running):
 *     group of 1:  sequential 456-629 msg/s, sync_file_range+sequential
 *                  475-710, one thread per fdatasync 434-647
 *     group of 8:  sequential 464-531 msg/s, sync_file_range+sequential
 *                  605-661, one thread per fdatasync 536-649
 * and end to end through queued, see the queue section of INSTALL.md.
 *
 * THE syncfs MODE (queue_sync = syncfs, DESIGN §5 "or one syncfs per
 * group when the queue has its own filesystem"): step 3 is one
 * syncfs(2) for the whole group instead of two fdatasyncs per message,
 * and step 5 one syncfs instead of the two directory fsyncs.  syncfs
 * writes back every dirty inode and block of the file system and flushes
 * the device cache, so each step is at least as durable as the calls it
 * replaces, and a group costs two flush rounds whatever its size; the
 * device sees all of a round's writes at once instead of one after the
 * other (on the journal-less ext4 of the CI VM each fsync is its own
 * serial device write).  Since Linux 5.8 syncfs reports writeback errors
 * of the file system, and any error fails the whole group.  It flushes
 * whatever anyone else wrote on that file system too, hence: only for a
 * queue on a file system of its own.
 *
 * Test builds: -DQUEUE_TEST_SKIP_DIRSYNC leaves step 5 out,
 * -DQUEUE_TEST_SKIP_DATASYNC leaves out the message's fdatasync in step 3,
 * (in syncfs mode: the first and the second syncfs), so the
 * syscall-order tests (tests/integration/test_queue_order.py,
 * test_queue_syncfs.py) can show they catch each.
 *
 * Failure policy: a failed step of one message fails that message only
 * (c->err); a failed directory fsync fails every message of the group.
 * The caller removes a failed message (commit_undo: message first — the
 * commit point of "gone" — then envelope) and answers 452 4.3.1 (disk
 * full) or 451 4.3.0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"

/* queue_sync = syncfs (see the header); set once at start. */
static int use_syncfs;

/* Choose the sync mode (see commit.h). */
void commit_use_syncfs(int on)
{
	use_syncfs = on;
}

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
	c->envfd = -1;
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

/* Close c's descriptors; -1 (with c->err) if a close reported an error. */
static int close_files(struct commit *c)
{
	int rc = 0;

	if (c->envfd >= 0 && close(c->envfd) != 0)
		rc = fail(c, errno);
	if (c->msgfd >= 0 && close(c->msgfd) != 0 && rc == 0)
		rc = fail(c, errno);
	c->envfd = c->msgfd = -1;
	return rc;
}

/* Write the envelope, start the writeback of both files. */
int commit_prepare(struct commit *c, const struct qdir *q, const struct envelope_in *e)
{
	char name[QDIR_NAME_MAX];

	if (c->stage != CS_WRITING || c->err)
		return fail(c, EIO);
	env_tmp_name(c, name);
	c->envfd = openat(q->d[QD_TMP], name,
	                  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c->envfd < 0)
		return fail(c, errno);
	c->stage = CS_WRITTEN;
	errno = 0;
	if (envelope_write(c->envfd, e) != 0)
		return fail(c, errno);
	/* A hint (see the header): errors show up in fdatasync. */
	(void)sync_file_range(c->envfd, 0, 0, SYNC_FILE_RANGE_WRITE);
	(void)sync_file_range(c->msgfd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

/* Step 3 for one message: both files durable, then closed. */
static int commit_sync(struct commit *c)
{
	if (c->stage != CS_WRITTEN || c->err)
		return fail(c, EIO);
	if (fdatasync(c->envfd) != 0)
		return fail(c, errno);
#ifndef QUEUE_TEST_SKIP_DATASYNC
	if (fdatasync(c->msgfd) != 0)
		return fail(c, errno);
#endif
	if (close_files(c) != 0)
		return -1;
	c->stage = CS_PREPARED;
	return 0;
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
	if (use_syncfs)
		return syncfs(q->d[QD_NEW]);
	if (qdir_sync(q, QD_ENV) != 0 || qdir_sync(q, QD_NEW) != 0)
		return -1;
	return 0;
#endif
}

/* Step 3 in syncfs mode: one syncfs for every file of the group, then
 * each message's files are closed. */
static void group_syncfs(struct commit *const *cs, size_t n, const struct qdir *q)
{
#ifdef QUEUE_TEST_SKIP_DATASYNC
	int rc = 0, e = 0;
	(void)q;
#else
	int rc = syncfs(q->d[QD_TMP]), e = errno;
#endif

	for (size_t i = 0; i < n; i++) {
		struct commit *c = cs[i];

		if (c->stage != CS_WRITTEN || c->err) {
			(void)fail(c, EIO);
			continue;
		}
		if (rc != 0) {
			(void)fail(c, e);
			continue;
		}
		if (close_files(c) == 0)
			c->stage = CS_PREPARED;
	}
}

/* Steps 3-5 for a group (see commit.h). */
void commit_group(struct commit *const *cs, size_t n, const struct qdir *q)
{
	size_t placed = 0;
	int e;

	if (use_syncfs) {
		group_syncfs(cs, n, q);
	} else {
		for (size_t i = 0; i < n; i++)
			(void)commit_sync(cs[i]);
	}
	for (size_t i = 0; i < n; i++)
		if (cs[i]->stage == CS_PREPARED && cs[i]->err == 0 && commit_place(cs[i], q) == 0)
			placed++;
	if (placed == 0 || commit_dirsync(q) == 0)
		return;
	e = errno;
	for (size_t i = 0; i < n; i++)
		if (cs[i]->stage == CS_PLACED)
			(void)fail(cs[i], e);
}

/* Placed and durable: the message may be acknowledged. */
int commit_ok(const struct commit *c)
{
	return c->stage == CS_PLACED && c->err == 0;
}

/* Remove whatever c left; the message first. */
void commit_undo(struct commit *c, const struct qdir *q)
{
	char name[QDIR_NAME_MAX];

	if (c->msgfd >= 0)
		close(c->msgfd);
	if (c->envfd >= 0)
		close(c->envfd);
	c->msgfd = c->envfd = -1;
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
	(void)close_files(c);
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
