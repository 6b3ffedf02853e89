/*
 * quota.c — per-login quotas: limits, reservations and their release
 * (quota.h).  postern-queued, in the sandbox.  The counter table is a
 * small linear array (QUOTA_USERS_MAX logins); entries whose day window
 * is over are reused first.  The state file and the high-water marks'
 * reasoning are in quota_state.c.
 */
#include <stdlib.h>
#include <string.h>

#include "quota.h"

/* Allocate the counters. */
int quota_init(struct quota_table *q)
{
	q->v = calloc(QUOTA_USERS_MAX, sizeof *q->v);
	q->n = 0;
	q->dirfd = -1;
	q->dirty = q->save_failed = 0;
	q->saved_ms = 0;
	q->closed_day = QUOTA_NOT_CLOSED;
	return q->v ? 0 : -1;
}

/* Parse a decimal number from v[0..n); -1 if not one. */
static int parse_num(const unsigned char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 12)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* Set the limit named name[0..nn) to val; -1 for an unknown name. */
static int set_limit(struct quota_limits *l, const unsigned char *name, size_t nn,
                     uint64_t val)
{
	static const struct { const char *n; size_t off; } names[] = {
		{ "messages_per_hour", offsetof(struct quota_limits, msg_hour) },
		{ "messages_per_day", offsetof(struct quota_limits, msg_day) },
		{ "recipients_per_hour", offsetof(struct quota_limits, rcpt_hour) },
		{ "recipients_per_day", offsetof(struct quota_limits, rcpt_day) },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strlen(names[i].n) == nn && memcmp(names[i].n, name, nn) == 0) {
			*(uint64_t *)((char *)l + names[i].off) = val;
			return 0;
		}
	}
	return -1;
}

/* Parse one record (see quota.h). */
int quota_parse(const unsigned char *v, size_t n, struct quota_limits *l)
{
	size_t i = 0;

	while (i < n) {
		size_t s, eq;
		uint64_t val;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i == n)
			break;
		s = i;
		while (i < n && v[i] != ' ' && v[i] != '\t' && v[i] != ',')
			i++;
		for (eq = s; eq < i && v[eq] != '='; eq++)
			;
		if (eq == i || parse_num(v + eq + 1, i - eq - 1, &val) < 0 ||
		    set_limit(l, v + s, eq - s, val) < 0)
			return -1;
	}
	return 0;
}

/* Apply the record for key if there is one: 0, or -1. */
static int apply(struct cdbfd *t, const char *key, struct quota_limits *l)
{
	const unsigned char *v;
	size_t vn;
	int r;

	if (!t->ready)
		return 0;
	r = cdbfd_find(t, key, strlen(key), &v, &vn);
	if (r < 0)
		return -1;
	return r == 0 ? 0 : quota_parse(v, vn, l);
}

/* Limits for login (see quota.h). */
int quota_limits_for(struct cdbfd *t, const char *login, struct quota_limits *l)
{
	l->msg_hour = QUOTA_DEFAULT_MSG_HOUR;
	l->msg_day = QUOTA_DEFAULT_MSG_DAY;
	l->rcpt_hour = QUOTA_DEFAULT_RCPT_HOUR;
	l->rcpt_day = QUOTA_DEFAULT_RCPT_DAY;
	if (apply(t, "*", l) < 0)
		return -1;
	return apply(t, login, l);
}

/* 1 for the hourly counters. */
static int hourly(int i)
{
	return i == QC_MSG_H || i == QC_RCPT_H;
}

/* The window counter i of e counts in. */
static uint64_t window_of(const struct quota_entry *e, int i)
{
	return hourly(i) ? e->hour : e->day;
}

/* The limit for counter i. */
static uint64_t limit_of(const struct quota_limits *l, int i)
{
	static const size_t off[QC_N] = {
		[QC_MSG_H] = offsetof(struct quota_limits, msg_hour),
		[QC_MSG_D] = offsetof(struct quota_limits, msg_day),
		[QC_RCPT_H] = offsetof(struct quota_limits, rcpt_hour),
		[QC_RCPT_D] = offsetof(struct quota_limits, rcpt_day),
	};

	return *(const uint64_t *)((const char *)l + off[i]);
}

/* Move e to the windows of now; a new window starts at zero. */
static void roll(struct quota_entry *e, uint64_t now)
{
	uint64_t hour = now / 3600, day = now / 86400;

	for (int i = 0; i < QC_N; i++) {
		if (window_of(e, i) != (hourly(i) ? hour : day))
			e->c[i] = e->hwm[i] = e->blk[i] = 0;
	}
	e->hour = hour;
	e->day = day;
}

/* The entry of login, or NULL. */
static struct quota_entry *find(struct quota_table *q, const char *login)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->v[i].login, login) == 0)
			return &q->v[i];
	return NULL;
}

/* The entry for login, windows rolled to now; NULL if the table is full. */
static struct quota_entry *entry(struct quota_table *q, const char *login, uint64_t now)
{
	struct quota_entry *e = find(q, login);
	uint64_t day = now / 86400;
	size_t len = strlen(login);

	if (e == NULL) {
		if (len > QUOTA_LOGIN_MAX || len == 0)
			return NULL;
		for (size_t i = 0; i < q->n && e == NULL; i++)
			if (q->v[i].day != day)
				e = &q->v[i];	/* stale: reuse */
		if (e == NULL && q->n < QUOTA_USERS_MAX)
			e = &q->v[q->n++];
		if (e == NULL)
			return NULL;
		memset(e, 0, sizeof *e);
		memcpy(e->login, login, len + 1);
		e->hour = now / 3600;
		e->day = day;
	}
	roll(e, now);
	return e;
}

/* 1 if counter i of e may not take one more unit under l. */
static int over(const struct quota_table *q, const struct quota_entry *e,
                const struct quota_limits *l, int i)
{
	uint64_t limit = limit_of(l, i);

	if (limit == 0)
		return 0;	/* unlimited */
	return q->closed_day == e->day || e->c[i] >= limit;
}

/* Count one unit on counter i; 1 if its high-water mark had to rise
 * (the state file must be written before the unit may be used). */
static int count(struct quota_entry *e, const struct quota_limits *l, int i)
{
	uint64_t limit = limit_of(l, i), blk;

	e->c[i]++;
	if (limit == 0 || e->c[i] <= e->hwm[i])
		return 0;
	blk = limit / QUOTA_BLOCK_DIV;
	if (blk == 0)
		blk = 1;
	/* e->c[i] <= limit (over() said so), hence hwm >= c. */
	e->hwm[i] = e->c[i] + blk - 1 < limit ? e->c[i] + blk - 1 : limit;
	e->blk[i] = blk;
	return 1;
}

/* Reserve one unit on the hourly counter h and the daily counter d. */
static int reserve(struct quota_table *q, struct cdbfd *t, const char *login,
                   struct quota_resv *r, uint64_t now, int h, int d)
{
	struct quota_limits l;
	struct quota_entry *e, saved;
	int raise;

	if (quota_limits_for(t, login, &l) < 0)
		return -1;
	e = entry(q, login, now);
	if (e == NULL)
		return 1;
	if (over(q, e, &l, h) || over(q, e, &l, d))
		return 1;
	saved = *e;
	raise = count(e, &l, h);
	raise |= count(e, &l, d);
	q->dirty = 1;
	if (raise && q->dirfd >= 0 && quota_save(q, 0) < 0) {
		/* Whichever file the failed save left is at least saved's
		 * marks (quota_state.c), so going back to them is safe. */
		*e = saved;
		return -1;
	}
	for (int k = 0; k < 2; k++) {
		int i = k == 0 ? h : d;

		if (r->win[i] != window_of(e, i) || r->n[i] == 0) {
			r->win[i] = window_of(e, i);
			r->n[i] = 0;	/* units of an older window need no release */
		}
		r->n[i]++;
	}
	return 0;
}

/* Reserve a message (see quota.h). */
int quota_reserve_message(struct quota_table *q, struct cdbfd *t, const char *login,
                          struct quota_resv *r, uint64_t now)
{
	return reserve(q, t, login, r, now, QC_MSG_H, QC_MSG_D);
}

/* Reserve a recipient (see quota.h). */
int quota_reserve_rcpt(struct quota_table *q, struct cdbfd *t, const char *login,
                       struct quota_resv *r, uint64_t now)
{
	return reserve(q, t, login, r, now, QC_RCPT_H, QC_RCPT_D);
}

/* Give a reservation back (see quota.h). */
void quota_release(struct quota_table *q, const char *login, struct quota_resv *r,
                   uint64_t now)
{
	struct quota_entry *e = find(q, login);

	if (e != NULL) {
		roll(e, now);
		for (int i = 0; i < QC_N; i++) {
			if (r->n[i] == 0 || window_of(e, i) != r->win[i])
				continue;
			/* Saturating: never below zero, whatever r claims. */
			e->c[i] -= r->n[i] < e->c[i] ? r->n[i] : e->c[i];
			q->dirty = 1;
		}
	}
	memset(r, 0, sizeof *r);
}

/* The reservation is now the charge (see quota.h). */
void quota_settle(struct quota_resv *r)
{
	memset(r, 0, sizeof *r);
}
