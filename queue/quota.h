/*
 * quota.h — per-login sending quotas: messages and recipients per hour and
 * per day (fixed windows aligned to the clock hour and the UTC day).
 * postern-queued, in the sandbox.
 *
 * Limits come from the `quotas` table (cdb, passed by the master): key =
 * the login, or "*" for the defaults; value = blank- or comma-separated
 * "name=N" with names messages_per_hour, messages_per_day,
 * recipients_per_hour, recipients_per_day (0 = unlimited; a name left out
 * keeps the default).  Without a table or a "*" record the built-in
 * defaults below apply.  Over a limit: 450 4.7.1 (at MAIL for messages,
 * at RCPT for recipients); only that login is affected.
 *
 * Reservations: `mail` reserves one message and each `rcpt` one
 * recipient at once, so a parallel session of the same login sees them;
 * the counters hold what was committed plus what is reserved.  A session
 * keeps its reservation in a struct quota_resv, released when the
 * transaction ends without a queued message (rset, refused or failed
 * data/end, abort, the session closed) and kept as the charge at commit.
 * A reservation remembers the window each of its units was counted in,
 * and a release only takes back units from that same window: a
 * reservation made in one hour and released in the next leaves the new
 * hour alone (its units went with the old window), so no counter can
 * underflow or be lowered by units it never held.  A message is counted
 * in the window of its MAIL, a recipient in the window of its RCPT.
 *
 * Persistence (quota_state.c): the counters survive a restart of queued,
 * kill -9 included, through the state file `quota` in the queue
 * directory; see quota_state.c for the format and the argument that a
 * crash never lets a login go over a limit.
 *
 * Failure policy: a malformed quotas record, a full counter table or a
 * state file that cannot be written when a reservation needs it fails
 * closed (the caller answers 450 4.7.1 / 451 4.3.0).  A corrupt state
 * file at start closes every limit until the end of that UTC day
 * (quota_state.c says why).
 */
#ifndef POSTERN_QUEUE_QUOTA_H
#define POSTERN_QUEUE_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "cdbfd.h"

#define QUOTA_DEFAULT_MSG_HOUR 200
#define QUOTA_DEFAULT_MSG_DAY 1000
#define QUOTA_DEFAULT_RCPT_HOUR 1000
#define QUOTA_DEFAULT_RCPT_DAY 5000
#define QUOTA_USERS_MAX 4096
#define QUOTA_LOGIN_MAX 256
/* Charge-ahead block: a high-water mark is raised by limit / QUOTA_BLOCK_DIV
 * (at least 1) at a time, so at most that many units are lost by a crash. */
#define QUOTA_BLOCK_DIV 16
/* The state file is rewritten at most this often when only dirty. */
#define QUOTA_SAVE_INTERVAL_MS 1000

#define QUOTA_NOT_CLOSED UINT64_MAX

/* The four counters of an entry. */
enum quota_counter { QC_MSG_H, QC_MSG_D, QC_RCPT_H, QC_RCPT_D, QC_N };

struct quota_limits {
	uint64_t msg_hour, msg_day, rcpt_hour, rcpt_day;
};

struct quota_entry {
	char login[QUOTA_LOGIN_MAX + 1];
	uint64_t hour, day;		/* window numbers */
	uint64_t c[QC_N];		/* committed + reserved, this window */
	/* High-water mark: what the state file holds (or a write in progress
	 * will), never below c[] for a limited counter (quota_state.c). */
	uint64_t hwm[QC_N];
	uint64_t blk[QC_N];		/* the block of the last raise */
};

struct quota_table {
	struct quota_entry *v;		/* QUOTA_USERS_MAX, calloc'd */
	size_t n;
	int dirfd;			/* queue directory for the state file; -1: none */
	int dirty;			/* counters changed since the last save */
	int save_failed;		/* the last save failed (logged once) */
	int64_t saved_ms;		/* clock_ms() of the last save attempt */
	/* A corrupt state file closes every limit for this UTC day
	 * (QUOTA_NOT_CLOSED: none). */
	uint64_t closed_day;
};

/* One session's reservation: per counter, the window its units were
 * counted in and how many. */
struct quota_resv {
	uint64_t win[QC_N];
	uint64_t n[QC_N];
};

int quota_init(struct quota_table *q);
/* The limits for login: 0, or -1 if the table is corrupt or a record
 * malformed. */
int quota_limits_for(struct cdbfd *t, const char *login, struct quota_limits *l);
/* Reserve one message for login at time now (seconds): 0 reserved (r
 * records it), 1 over a limit, -1 table or state file error (nothing
 * reserved). */
int quota_reserve_message(struct quota_table *q, struct cdbfd *t, const char *login,
                          struct quota_resv *r, uint64_t now);
/* Reserve one recipient; as quota_reserve_message. */
int quota_reserve_rcpt(struct quota_table *q, struct cdbfd *t, const char *login,
                       struct quota_resv *r, uint64_t now);
/* Give back what r holds (only units of windows still current); r is
 * emptied. */
void quota_release(struct quota_table *q, const char *login, struct quota_resv *r,
                   uint64_t now);
/* The message was committed: r's units stay counted as the charge; r is
 * emptied. */
void quota_settle(struct quota_resv *r);

/* Parse one record value into l (fields not named keep their value). */
int quota_parse(const unsigned char *v, size_t n, struct quota_limits *l);

/* quota_state.c: the state file. */
/* Read the state file from dirfd (before the sandbox) and keep dirfd for
 * later saves.  0 loaded (or no file yet), 1 corrupt (logged; every
 * limit closed until the end of the UTC day of now). */
int quota_load(struct quota_table *q, int dirfd, uint64_t now);
/* Parse a state file image into q (entries of windows other than now's
 * dropped): 0, or -1 with a reason in *why and q left empty. */
int quota_state_parse(struct quota_table *q, const unsigned char *b, size_t n, uint64_t now,
                      const char **why);
/* Encode q into a malloc'd image; NULL when out of memory. */
unsigned char *quota_state_encode(const struct quota_table *q, size_t *len);
/* Write the state file durably now (tmp, fsync, rename, directory fsync);
 * exact: high-water marks drop to the counters first (clean shutdown).
 * 0, or -1 (the old file, or the new one, stays: both are safe). */
int quota_save(struct quota_table *q, int exact);
/* Save if dirty and QUOTA_SAVE_INTERVAL_MS have passed since the last
 * attempt (now_ms on the clock_ms() clock). */
void quota_tick(struct quota_table *q, int64_t now_ms);

#endif
