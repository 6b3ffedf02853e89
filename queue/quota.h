/*
 * quota.h — per-login sending quotas: messages and recipients per hour and
 * per day (fixed windows aligned to the clock hour and the UTC day).
 * postern-queued, in the sandbox.  Counters live in memory only and start
 * at zero when queued starts (documented in INSTALL.md).
 *
 * Limits come from the `quotas` table (cdb, passed by the master): key =
 * the login, or "*" for the defaults; value = blank- or comma-separated
 * "name=N" with names messages_per_hour, messages_per_day,
 * recipients_per_hour, recipients_per_day (0 = unlimited; a name left out
 * keeps the default).  Without a table or a "*" record the built-in
 * defaults below apply.  Over a limit: 450 4.7.1 (at MAIL for messages,
 * at RCPT for recipients); only that login is affected.
 *
 * Failure policy: a malformed quotas record or a full counter table fails
 * closed (the caller answers 450 4.7.1 / 451 4.3.0).
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

struct quota_limits {
	uint64_t msg_hour, msg_day, rcpt_hour, rcpt_day;
};

struct quota_entry {
	char login[QUOTA_LOGIN_MAX + 1];
	uint64_t hour, day;		/* window numbers */
	uint64_t msg_h, msg_d, rcpt_h, rcpt_d;
};

struct quota_table {
	struct quota_entry *v;		/* QUOTA_USERS_MAX, calloc'd */
	size_t n;
};

int quota_init(struct quota_table *q);
/* The limits for login: 0, or -1 if the table is corrupt or a record
 * malformed. */
int quota_limits_for(struct cdbfd *t, const char *login, struct quota_limits *l);
/* 0 if login may start one more message now; 1 over; -1 error. */
int quota_check_message(struct quota_table *q, struct cdbfd *t, const char *login,
                        uint64_t now);
/* 0 if login may add one more recipient, with pending recipients already in
 * the open transaction; 1 over; -1 error. */
int quota_check_rcpt(struct quota_table *q, struct cdbfd *t, const char *login,
                     uint64_t pending, uint64_t now);
/* Count one committed message with nrcpt recipients. */
void quota_charge(struct quota_table *q, const char *login, uint64_t nrcpt, uint64_t now);

/* Parse one record value into l (fields not named keep their value). */
int quota_parse(const unsigned char *v, size_t n, struct quota_limits *l);

#endif
