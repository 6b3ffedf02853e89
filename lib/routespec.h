/*
 * routespec.h — the grammar of one routes.cdb entry (INSTALL.md
 * "Routes"), checked in one place: by `postern-table build
 * routes` (so a bad route is refused with FILE:LINE and the reason before
 * it reaches a running service) and by the master when it derives the
 * postern-maildir workers from the table.
 *
 *   key   = recipient domain (lower-case host name, no trailing dot) | "*"
 *   value = "mx"
 *         | "relay:HOST:PORT" [" tls=opportunistic|required|verify"]
 *                             [" auth=NAME"]
 *         | "maildir:/absolute/path"
 *   HOST  = a host name, an IPv4 literal, or "[IPv6]"; PORT 1..65535;
 *   NAME  = 1..128 printable ASCII bytes without blanks (a key of
 *           relay-secrets.cdb); each option at most once, separated by
 *           single spaces.
 *   path  = absolute, at most ROUTESPEC_PATH_MAX bytes, printable ASCII
 *           without blanks, no empty, "." or ".." component, not "/".
 *
 * postern-deliver checks the route of every job with it too
 * (deliver/route.c), so the worker accepts nothing the table builder
 * would refuse.  Pure: no allocation, no I/O.
 */
#ifndef POSTERN_ROUTESPEC_H
#define POSTERN_ROUTESPEC_H

#include <stddef.h>

#define ROUTESPEC_VALUE_MAX 400	/* sched.md §1: a maildir route in a frame */
#define ROUTESPEC_PATH_MAX (ROUTESPEC_VALUE_MAX - 8)
#define ROUTESPEC_HOST_MAX 255
#define ROUTESPEC_AUTH_MAX 128

enum routespec_kind { ROUTE_MX, ROUTE_RELAY, ROUTE_MAILDIR };
enum routespec_tls { ROUTE_TLS_OPPORTUNISTIC, ROUTE_TLS_REQUIRED, ROUTE_TLS_VERIFY };

struct routespec {
	enum routespec_kind kind;
	char host[ROUTESPEC_HOST_MAX + 1];	/* relay: without [] */
	unsigned port;				/* relay */
	enum routespec_tls tls;			/* relay */
	char auth[ROUTESPEC_AUTH_MAX + 1];	/* relay: "" = no AUTH */
	char path[ROUTESPEC_PATH_MAX + 1];	/* maildir */
};

/* Parse the value v[0..n).  0, or -1 with a constant reason in *why. */
int routespec_parse(const char *v, size_t n, struct routespec *r, const char **why);

/* Check a key k[0..n): "*" or a lower-case domain.  0, or -1 with *why. */
int routespec_key_ok(const char *k, size_t n, const char **why);

#endif
