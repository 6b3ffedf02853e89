/*
 * dsn_notify.c — RFC 3461 §4.1 NOTIFY semantics for the scheduler
 * (bounce.h: dsn_notify_wants).  postern-queued, in its sandbox; pure.
 *
 * NOTIFY = "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ), keywords
 * case-insensitive.  Absent (""): RFC 3461 §4.1 lets the MTA choose; we
 * report FAILURE and DELAY, as that section suggests.  smtpd checked the
 * syntax already; a value that still does not parse (a corrupted or
 * hostile envelope) is read as the default, so a failure is never
 * silently swallowed and NEVER is honoured only when written exactly.
 */
#include <strings.h>

#include "bounce.h"

/* The bit of one action in a NOTIFY mask. */
static unsigned action_bit(enum dsn_action a)
{
	switch (a) {
	case DSN_FAILED: return 1u;
	case DSN_DELAYED: return 2u;
	default: return 4u;
	}
}

/* The keyword p[0..n) as a mask bit, 0 if unknown. */
static unsigned keyword_bit(const unsigned char *p, size_t n)
{
	if (n == 7 && strncasecmp((const char *)p, "FAILURE", 7) == 0)
		return 1u;
	if (n == 5 && strncasecmp((const char *)p, "DELAY", 5) == 0)
		return 2u;
	if (n == 7 && strncasecmp((const char *)p, "SUCCESS", 7) == 0)
		return 4u;
	return 0;
}

/* The mask a NOTIFY value asks for; the default when it does not parse. */
static unsigned notify_mask(const unsigned char *v, size_t n)
{
	const unsigned deflt = 1u | 2u;
	unsigned got = 0;
	size_t start = 0;

	if (v == NULL || n == 0)
		return deflt;
	if (n == 5 && strncasecmp((const char *)v, "NEVER", 5) == 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned bit;

		if (i < n && v[i] != ',')
			continue;
		bit = keyword_bit(v + start, i - start);
		if (bit == 0)
			return deflt;
		got |= bit;
		start = i + 1;
	}
	return got;
}

/* 1 if this NOTIFY value wants a report for action a (see bounce.h). */
int dsn_notify_wants(const unsigned char *notify, size_t n, enum dsn_action a)
{
	return (notify_mask(notify, n) & action_bit(a)) != 0;
}
