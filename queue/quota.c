/*
 * quota.c — per-login quotas (quota.h).  postern-queued, in the sandbox.
 * The counter table is a small linear array (QUOTA_USERS_MAX logins);
 * entries whose day window is over are reused first.
 */
#include <stdlib.h>
#include <string.h>

#include "quota.h"

/* Allocate the counters. */
int quota_init(struct quota_table *q)
{
	q->v = calloc(QUOTA_USERS_MAX, sizeof *q->v);
	q->n = 0;
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

/* The entry for login, windows rolled to now; NULL if the table is full. */
static struct quota_entry *entry(struct quota_table *q, const char *login, uint64_t now)
{
	struct quota_entry *e = NULL;
	uint64_t hour = now / 3600, day = now / 86400;

	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->v[i].login, login) == 0) {
			e = &q->v[i];
			break;
		}
	}
	if (e == NULL) {
		if (strlen(login) > QUOTA_LOGIN_MAX)
			return NULL;
		for (size_t i = 0; i < q->n && e == NULL; i++)
			if (q->v[i].day != day)
				e = &q->v[i];	/* stale: reuse */
		if (e == NULL && q->n < QUOTA_USERS_MAX)
			e = &q->v[q->n++];
		if (e == NULL)
			return NULL;
		memset(e, 0, sizeof *e);
		memcpy(e->login, login, strlen(login) + 1);
		e->hour = hour;
		e->day = day;
	}
	if (e->hour != hour) {
		e->hour = hour;
		e->msg_h = e->rcpt_h = 0;
	}
	if (e->day != day) {
		e->day = day;
		e->msg_d = e->rcpt_d = 0;
	}
	return e;
}

/* 1 if used + add goes over limit (0 = unlimited). */
static int over(uint64_t limit, uint64_t used, uint64_t add)
{
	return limit != 0 && used + add > limit;
}

/* May login start a message? */
int quota_check_message(struct quota_table *q, struct cdbfd *t, const char *login,
                        uint64_t now)
{
	struct quota_limits l;
	struct quota_entry *e;

	if (quota_limits_for(t, login, &l) < 0)
		return -1;
	e = entry(q, login, now);
	if (e == NULL)
		return 1;
	return over(l.msg_hour, e->msg_h, 1) || over(l.msg_day, e->msg_d, 1);
}

/* May login add a recipient? */
int quota_check_rcpt(struct quota_table *q, struct cdbfd *t, const char *login,
                     uint64_t pending, uint64_t now)
{
	struct quota_limits l;
	struct quota_entry *e;

	if (quota_limits_for(t, login, &l) < 0)
		return -1;
	e = entry(q, login, now);
	if (e == NULL)
		return 1;
	return over(l.rcpt_hour, e->rcpt_h, pending + 1) ||
	       over(l.rcpt_day, e->rcpt_d, pending + 1);
}

/* Count a committed message. */
void quota_charge(struct quota_table *q, const char *login, uint64_t nrcpt, uint64_t now)
{
	struct quota_entry *e = entry(q, login, now);

	if (e == NULL)
		return;
	e->msg_h++;
	e->msg_d++;
	e->rcpt_h += nrcpt;
	e->rcpt_d += nrcpt;
}
