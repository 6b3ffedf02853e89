/*
 * queued.h — the state of postern-queued shared by its modules: the
 * configuration from its arguments, the queue descriptors, the auth MAC
 * key, the tables, the quota counters and the sessions.
 *
 * Process: postern-queued (uid postern-queue, chroot = the queue
 * directory, seccomp allow-list queue/sandbox_rules.c); single-threaded.
 */
#ifndef POSTERN_QUEUE_QUEUED_H
#define POSTERN_QUEUE_QUEUED_H

#include <stddef.h>
#include <stdint.h>

#include "cdbfd.h"
#include "qdir.h"
#include "quota.h"
#include "ticket.h"

#define QUEUED_HOSTNAME_MAX 253

struct queued_conf {
	char hostname[QUEUED_HOSTNAME_MAX + 1];
	uint64_t size_max;		/* -z: message_size_max */
	uint64_t rcpt_max;		/* -n: recipients_max */
	uint64_t minfree;		/* -f: queue_minfree bytes (0 = off) */
	uint64_t idle_s;		/* -t: a session silent this long is closed */
	uint64_t sessions_max;		/* -c: concurrent sessions */
	int header_check;		/* -H 0|1: check From:/Sender: */
	int received_ip;		/* -I 0|1: client IP in Received: */
	int syncfs;			/* -S 0|1: queue_sync = syncfs (commit.c) */
	/* The scheduler (sched.h); defaults in args.c, meaning in INSTALL.md. */
	char helo[QUEUED_HOSTNAME_MAX + 1];	/* -O: outbound HELO (default -h) */
	uint64_t retry_min_s;		/* -R: first retry delay */
	uint64_t retry_max_s;		/* -X: longest retry delay */
	uint64_t lifetime_s;		/* -L: bounce after this long from arrival */
	uint64_t delay_notice_s;	/* -D: one delay DSN after this long (0 off) */
	uint64_t concurrency;		/* -W: jobs in flight in total */
	uint64_t per_destination;	/* -P: jobs in flight per destination */
};

struct sched;

struct queued {
	struct queued_conf conf;
	struct sched *sched;		/* the scheduler (sched.h); NULL in unit tests */
	struct qdir q;
	unsigned char key[TICKET_KEY_LEN];
	int have_key;
	struct cdbfd senders, quotas, routes;
	struct quota_table quota;
	uint64_t committed, rejected, sessions_total;
};

/* Free bytes for an unprivileged writer on the queue's file system are at
 * least conf.minfree plus need: 1 yes, 0 no (also when fstatvfs fails). */
int queued_space_ok(const struct queued *d, uint64_t need);

#endif
