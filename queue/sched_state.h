/*
 * sched_state.h — queue/state/<id>: the per-recipient delivery state of a
 * message, written only after a partial or deferred attempt (DESIGN §5).
 * A CDB file (tinycdb cdb_make), written to tmp/<id>.st, fdatasync'd, and
 * renamed over state/<id>, then state/ fsync'd.  Keys (decimal ASCII):
 *
 *   version   "1"
 *   id        the queue id (must match the file's name)
 *   attempts  attempt rounds that ended with a deferral
 *   next      the next try, epoch seconds
 *   delay     "1" once the delay notice was committed, else "0"
 *   rcpt      one record per envelope recipient, in envelope order; the
 *             value is six netstrings: state (p pending, o delivered,
 *             f failed and reported or not reportable, b failed with its
 *             report still owed), attempts, last code, last status,
 *             last reply text (<= 512 printable bytes), last attempt time
 *
 * The reader (sstate_read) fails closed: a missing or repeated key, a bad
 * number or byte, a wrong count of recipients, another id or version
 * makes the whole file invalid (the scheduler then holds the message).
 */
#ifndef POSTERN_QUEUE_SCHED_STATE_H
#define POSTERN_QUEUE_SCHED_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "qdir.h"

#define SSTATE_VERSION "1"
#define SSTATE_TEXT_MAX 512
#define SSTATE_STATUS_MAX 15
#define SSTATE_TMP_SUFFIX ".st"

enum srs { RS_PENDING = 'p', RS_OK = 'o', RS_FAILED = 'f', RS_OWED = 'b' };

struct srstate {
	char st;				/* enum srs */
	uint64_t attempts;
	unsigned code;
	char status[SSTATE_STATUS_MAX + 1];
	char text[SSTATE_TEXT_MAX + 1];
	uint64_t last;
};

struct sstate {
	uint64_t attempts, next;
	int delay_sent;
	size_t n;
	struct srstate *r;
};

/* n recipients, all pending.  0 or -1 (out of memory). */
int sstate_alloc(struct sstate *st, size_t n);
void sstate_free(struct sstate *st);

/* Write st durably as state/<id> (see above).  0, or -1 with errno
 * (nothing half-written is ever visible under state/). */
int sstate_write(const struct qdir *q, const char *id, const struct sstate *st);

/* Read the CDB on fd into st (allocated by sstate_alloc with the
 * envelope's recipient count).  0, or -1 (invalid). */
int sstate_read(int fd, const char *id, struct sstate *st);

/* 1 if s is an enhanced status code "D.D{1,3}.D{1,3}" (RFC 3463). */
int sstate_status_ok(const char *s);

#endif
