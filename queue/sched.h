/*
 * sched.h — the scheduler of postern-queued (DESIGN §2 step 7, §5;
 * behaviour in INSTALL.md "Delivery scheduling").  Single-threaded, inside
 * queued's sandbox, driven by server.c's poll loop.
 *
 * Descriptors: the job channels of the delivery workers, one per
 * `worker` control frame from the master (SOCK_SEQPACKET, grammar
 * lib/jobchan.h); per message being delivered, env/<id> and an O_RDONLY
 * cur/<id> (the latter is what each `job` frame carries).
 *
 * The index (sched_index.c) is in memory: the ids of new/ and cur/ from
 * one directory scan at start (no envelope is read then), plus every
 * message committed later (sched_add from the commit path).  A message's
 * envelope and state/<id> are read only when it comes due.
 *
 * Failure policy: nothing is ever removed before the recipients' fate is
 * durable (bounces committed first, then cur/<id>, then env/ and state/);
 * an unreadable envelope or state file puts the message on hold/ (logged),
 * never delivers it twice or drops it; a worker that breaks the grammar is
 * closed (only that worker) and its unfinished recipients are retried.
 */
#ifndef POSTERN_QUEUE_SCHED_H
#define POSTERN_QUEUE_SCHED_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "queued.h"

/* Most job channels queued keeps (the master sends deliver_workers plus
 * one per maildir route). */
#define SCHED_WORKERS_MAX 256
/* Longest route in a `worker` frame (lib/ctlchan.h: <= 400). */
#define SCHED_ROUTE_ARG_MAX 400

/* Create the scheduler for d (d->sched is set).  NULL if out of memory. */
struct sched *sched_new(struct queued *d);

/* Fill the index from new/ and cur/.  The number of messages, or -1. */
long sched_scan(struct sched *s);

/* A message just committed into new/ (the commit hook). */
void sched_add(struct sched *s, const char *id);

/* The `worker` control frame: adopt fd (always taken: closed on refusal).
 * kind "smtp" (route "") or "maildir" (route = the routes.cdb value). */
void sched_worker_add(struct sched *s, const char *kind, const char *route, int fd);

/* Poll entries for the workers into pfd[cap]; the count. */
size_t sched_pollfds(struct sched *s, struct pollfd *pfd, size_t cap);

/* Handle the revents of the entries sched_pollfds filled. */
void sched_events(struct sched *s, const struct pollfd *pfd, size_t n);

/* Take due messages and hand out jobs; the poll timeout (ms) until the
 * next due message, at most 1000. */
int sched_run(struct sched *s);

/* Make one message (id) or all (id NULL) due now; how many. */
size_t sched_flush(struct sched *s, const char *id);

/* 1 if message id is being delivered right now (taken for an attempt
 * round: a job may be out), so it must stay where it is; else 0. */
int sched_busy(const struct sched *s, const char *id);

/* Drop id from the index (it was moved to hold/ by the admin): a later
 * `release` adds it again with sched_add.  1 if it was there, else 0. */
int sched_forget(struct sched *s, const char *id);

#endif
