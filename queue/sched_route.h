/*
 * sched_route.h — the pure decisions of the scheduler (sched_route.c):
 * the routes.cdb lookup (grammar in lib/routespec.h), the destination a
 * recipient is grouped by, the grouping of a message's recipients into jobs
 * and the retry backoff.  No descriptor, no clock: unit-tested alone
 * (tests/unit/test_queue_sched.c).
 *
 * routes.cdb: key = recipient domain, lower-case ASCII (A-labels for an
 * international one), no trailing dot,
 * or "*"; value = "mx" | "relay:HOST:PORT[ options]" | "maildir:/path"
 * (<= SROUTE_VALUE_MAX printable bytes).  Lookup: exact domain, else "*".
 */
#ifndef POSTERN_QUEUE_SCHED_ROUTE_H
#define POSTERN_QUEUE_SCHED_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "cdbfd.h"

#define SROUTE_VALUE_MAX 400
#define SROUTE_DOMAIN_MAX 255

struct sroute {
	int maildir;				/* 1: a maildir: route */
	char value[SROUTE_VALUE_MAX + 1];	/* as stored in routes.cdb */
	char domain[SROUTE_DOMAIN_MAX + 1];	/* the recipient's, lower-cased, A-labels */
	char dest[SROUTE_VALUE_MAX + 8];	/* grouping key: "mx:DOMAIN" or the value */
};

/* The recipient's domain (after the last '@', ASCII lower-cased, one
 * trailing dot dropped; a U-label domain as its A-labels, lib/idna.h)
 * into out.  0, or -1 (none, empty, too long, a byte that cannot be a
 * key: control, space, '/', or U-labels IDNA2008 refuses). */
int sroute_domain(const unsigned char *addr, size_t n, char out[SROUTE_DOMAIN_MAX + 1]);

/* Look the recipient up in t: 1 found (r filled), 0 no route for it (no
 * key, or a value that is not of the grammar), -1 no table attached. */
int sroute_lookup(struct cdbfd *t, const unsigned char *addr, size_t n, struct sroute *r);

/* Seconds to wait after the attempts-th failed attempt (>= 1): min
 * doubling each time, never above max. */
uint64_t sched_backoff(uint64_t attempts, uint64_t min, uint64_t max);

/* Assign each of n recipients a job number in group_of[]: recipients with
 * the same dest share a job, in first-seen order, but a job is split when
 * its recipients' bytes[] would pass budget or max_rcpt.  The number of
 * jobs. */
size_t sched_group(const char *const *dest, const size_t *bytes, size_t n, size_t budget,
                   size_t max_rcpt, size_t *group_of);

#endif
