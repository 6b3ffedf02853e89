/*
 * workers.h — the master's pool of delivery workers (INSTALL.md "The
 * workers"; DESIGN §1): `deliver_workers` postern-deliver processes and
 * one postern-maildir per distinct `maildir:/path` value of routes.cdb, each
 * serving ONE postern-queued instance through a SOCK_SEQPACKET job
 * channel whose other end the master hands queued in a `worker` frame
 * (daemon.h control grammar).
 *
 * A worker is spawned only while queued is up and ready and routes.cdb
 * exists (without it queued schedules nothing); when that
 * instance goes away its workers are sent SIGTERM (they would see EOF on
 * their channel anyway) and fresh ones are spawned for the next instance.
 * Respawn: at once after exit 0 (`bye` after a batch, or EOF) or after a
 * SIGTERM the master sent, yet at most one start per slot every 250 ms (no
 * fork loop if queued refuses a worker); after a failure after 1 s
 * doubling to 60 s (reset after a minute of running).  A SIGSYS
 * death is logged as event=sandbox-violation role=deliver|maildir.
 *
 * The pool is workers.c; the maildir slots are derived from routes.cdb,
 * and each maildir root checked before a spawn, by maildirs.c
 * (maildirs.h).
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_WORKERS_H
#define POSTERN_MASTER_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "logrelay.h"
#include "routespec.h"

struct master;

/* Most maildir routes served (distinct values); more are logged. */
#define WORKERS_MAILDIR_MAX 32
#define WORKERS_MAX (CONF_DELIVER_WORKERS_MAX + WORKERS_MAILDIR_MAX)

enum worker_kind { WORKER_SMTP, WORKER_MAILDIR };

/* One slot: a worker the pool wants, and its current process. */
struct worker {
	int used;			/* slot in use */
	int retire;			/* its route is gone: freed when reaped */
	int termed;			/* the master sent it SIGTERM */
	int stale;			/* during a re-derivation: not seen yet */
	enum worker_kind kind;
	char route[ROUTESPEC_VALUE_MAX + 1];	/* maildir: the value; smtp: "" */
	pid_t pid;			/* 0 while down */
	int logfd;			/* read end of its log pipe, or -1 */
	struct logrelay relay;
	uint64_t queued_gen;		/* the queued instance it serves */
	uint64_t started_ms;
	uint64_t backoff_ms;		/* last delay; 0 before any failure */
	uint64_t restart_at_ms;		/* not spawned before */
};

struct worker_pool {
	struct worker v[WORKERS_MAX];
	int prog_deliver, prog_maildir;	/* progfd.h, or -1 when missing */
};

/* Slots for deliver_workers postern-deliver (before anything else). */
void workers_init(struct master *m);

/* Put the free slot w in use (cleared) for kind and route. */
void workers_slot_take(struct worker *w, enum worker_kind kind, const char *route);

/* Open postern-deliver and postern-maildir once (progfd.h).  A missing
 * program is logged (no such worker runs); one failing the ownership
 * checks is an error: -1 with the reason in err. */
int workers_open_programs(struct master *m, char *err, size_t errcap);

/* Every loop round: end the workers of a queued instance that is gone,
 * spawn the due ones while queued is ready. */
void workers_step(struct master *m);

/* pid was reaped with status: if it is a worker, log, schedule, return 1. */
int workers_reaped(struct master *m, pid_t pid, int status);

/* Once a second: the log relays' rate windows. */
void workers_tick(struct master *m);

/* The poll loop: one entry (log pipe, -1 when absent) per slot; returns
 * WORKERS_MAX. */
size_t workers_pollfds(const struct master *m, int *fds, short *events);
/* Entry k of workers_pollfds had revents. */
void workers_on_ready(struct master *m, size_t k, short revents);

/* Send sig to every running worker; the number signalled. */
size_t workers_signal_all(struct master *m, int sig);

/* 1 if any worker is still running. */
int workers_running(const struct master *m);

#endif
