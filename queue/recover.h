/*
 * recover.h — start-up recovery of the queue (DESIGN §5): postern-queued,
 * before its sandbox and before it accepts any session.
 */
#ifndef POSTERN_QUEUE_RECOVER_H
#define POSTERN_QUEUE_RECOVER_H

#include <stddef.h>

#include "qdir.h"

struct recover_stats {
	size_t tmp_removed;	/* stale files in tmp/ */
	size_t msg_removed;	/* message without envelope */
	size_t env_removed;	/* envelope without message */
	size_t state_removed;	/* state without envelope */
	size_t kept;		/* complete messages */
	size_t unknown;		/* names that are not queue ids (left alone) */
};

/* Remove orphans, log each removal (event=recover-removed), then fsync the
 * directories.  0, or -1 if a directory could not be read. */
int recover_queue(const struct qdir *q, struct recover_stats *st);

#endif
