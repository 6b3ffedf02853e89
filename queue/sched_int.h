/*
 * sched_int.h — the scheduler's internal state, shared by queue/sched*.c
 * only (the rest of queued sees sched.h).  postern-queued, single-threaded.
 */
#ifndef POSTERN_QUEUE_SCHED_INT_H
#define POSTERN_QUEUE_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "sched.h"
#include "sched_route.h"
#include "sched_state.h"

/* Most messages being delivered at once (each holds two descriptors and
 * its envelope mapped); beyond it due messages wait in the index. */
#define SCHED_ACTIVE_EXTRA 16
/* Seconds after start during which nothing is taken while no worker has
 * arrived yet: the master sends its `worker` frames right after `ready`. */
#define SCHED_GRACE_S 10
/* A job unanswered this long closes its worker (its recipients are then
 * retried): the worker's own timeouts end every SMTP dialogue well before,
 * so this only catches a stuck worker. */
#define SCHED_JOB_DEADLINE_S 3600
/* When every active slot is taken and more messages are due, a message
 * taken this long ago whose jobs all still wait (its destination at -P,
 * or no idle worker of its kind) is put back for this long, so one busy
 * destination cannot hold every slot while others could be served. */
#define SCHED_PARK_S 2
/* A job whose kind of worker does not exist at all (the master is
 * replacing recycled workers, or a maildir route has none) waits this
 * long before its recipients are deferred with 4.3.0. */
#define SCHED_NO_WORKER_S 30
/* Messages taken per sched_run call (bounds one poll round's work). */
#define SCHED_TAKE_BURST 64

/* One message of the index. */
struct sentry {
	char id[RANDID_LEN + 1];
	unsigned char where;	/* QD_NEW or QD_CUR */
	unsigned char active;	/* being delivered (not in the heap) */
	unsigned char forced;	/* flushed: ignore the state's next try */
	int64_t due;		/* epoch seconds */
	size_t pos;		/* index in the heap while waiting */
};

struct sindex {
	struct sentry **heap;	/* min-heap on due */
	size_t n, cap;
};

enum sgroup_state { SG_WAITING, SG_INFLIGHT, SG_DONE };

/* One job's worth of recipients of an active message. */
struct sgroup {
	struct sroute route;
	size_t *idx;		/* recipient indices into the message */
	size_t n;
	enum sgroup_state state;
	uint64_t job_id;
	int64_t sent;		/* when the job went out (SCHED_JOB_DEADLINE_S) */
	struct sworker *w;
	size_t answered;
};

/* The envelope fields of one recipient (inside the mapping). */
struct srcpt_env {
	struct env_field addr, notify, orcpt;
};

/* A message being delivered: one attempt round. */
struct smsg {
	struct sentry *e;
	int envfd, msgfd;
	struct envelope env;
	struct sstate st;
	struct srcpt_env *re;
	unsigned char *cls;		/* this round: 0 unanswered, o/t/p */
	struct sgroup *g;
	size_t ng, groups_left;
	int64_t taken;		/* when the round began */
	unsigned char removing;	/* complete: waits in the active list (so
				 * sched_busy refuses hold/delete) for the
				 * round's grouped removal */
	struct smsg *next;
};

enum sworker_kind { SW_SMTP, SW_MAILDIR };

struct sworker {
	int fd;
	enum sworker_kind kind;
	char route[SROUTE_VALUE_MAX + 1];
	struct sgroup *job;	/* the job it works on, or NULL */
	struct smsg *job_msg;
};

struct sched {
	struct queued *d;
	struct sindex ix;
	struct smsg *active;		/* activation order */
	size_t nactive;
	struct sworker w[SCHED_WORKERS_MAX];
	size_t nw;
	int ever_worker;
	int64_t started;
	uint64_t next_job;
	size_t inflight;
};

/* sched_index.c */
int six_push(struct sindex *ix, struct sentry *e);
struct sentry *six_top(const struct sindex *ix);
struct sentry *six_pop(struct sindex *ix);
void six_remove(struct sindex *ix, struct sentry *e);
void six_update(struct sindex *ix, struct sentry *e);
struct sentry *six_new(const char *id, int where, int64_t due);

/* sched_worker.c */
int sw_send_job(struct sched *s, struct sworker *w, struct smsg *m, struct sgroup *g);
void sw_readable(struct sched *s, struct sworker *w);
void sw_close(struct sched *s, struct sworker *w, const char *why);

/* sched_msg.c */
int smsg_take(struct sched *s, struct sentry *e, int64_t now);
void smsg_answer(struct sched *s, struct smsg *m, size_t i, char cls, unsigned code,
                 const char *status, const char *text);
void smsg_group_end(struct sched *s, struct smsg *m, struct sgroup *g, const char *why);
/* Group g of m went to a worker that left without reading it: it waits
 * for the next idle worker again (no answer recorded, no attempt). */
void smsg_group_return(struct sched *s, struct smsg *m, struct sgroup *g);
void smsg_dispatch(struct sched *s, int64_t now);
size_t smsg_park_blocked(struct sched *s, int64_t now, size_t max);
/* Remove every complete message of this round together (sched_msg.c):
 * all cur/<id> unlinked, one fsync of cur/, then every env/<id> and
 * state/<id>, one fsync each of env/ and state/.  The count removed. */
size_t smsg_flush_removals(struct sched *s);

#endif
