/*
 * route.h — postern-deliver's reading of a job's route (the `route` field
 * of lib/jobchan.h, a routes.cdb value as queued sends it), checked
 * after the shared job parser by the one routes grammar, lib/routespec.h
 * (the same code postern-table and the master use), of which this worker
 * takes only
 *
 *   "mx" | "relay:HOST:PORT" [" tls=opportunistic|required|verify"]
 *                            [" auth=NAME"]   (a key of relay-secrets.cdb)
 *
 * Anything else (whatever routespec refuses, and postern-maildir's
 * "maildir:") is not for this worker: the job's recipients are deferred
 * (temp 451 4.3.5) and the worker goes on with the next job.  Pure code.
 */
#ifndef POSTERN_DELIVER_ROUTE_H
#define POSTERN_DELIVER_ROUTE_H

#include <stddef.h>

#include "jobchan.h"
#include "routespec.h"

#define JOB_AUTHNAME_MAX ROUTESPEC_AUTH_MAX

enum tls_policy { TLS_OPPORTUNISTIC = 0, TLS_REQUIRED, TLS_VERIFY };

struct route {
	int relay;			/* 0: MX of the domain; 1: HOST:PORT */
	char host[JOB_HOST_MAX + 1];	/* relay: without [] */
	unsigned port;			/* relay; 25 for mx */
	enum tls_policy tls;
	char auth[JOB_AUTHNAME_MAX + 1];	/* "" = no AUTH */
};

/* Parse a route string (routespec_parse, then only mx and relay).
 * 0 or -1. */
int route_parse(struct route *r, const unsigned char *s, size_t n);

/* The SMTP worker's checks of a parsed job: its route (into r) and a
 * helo that is a host name (or empty).  0, or -1 (the route is not
 * usable; the destination domain is checked per job by dns.h). */
int route_of_job(struct route *r, const struct job *j);

#endif
