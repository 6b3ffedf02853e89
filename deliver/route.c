/*
 * route.c — postern-deliver's reading of a job's route (route.h), applied
 * to the route field of a job after the shared parser (lib/jobchan.c).  The route
 * comes from routes.cdb through queued; it is still parsed by the strict
 * routes grammar (lib/routespec.c), since a host or option read wrongly
 * would send mail to the wrong place or without the TLS the operator
 * asked for.  Fail closed: whatever routespec refuses, and every route
 * kind but mx and relay, is a route this worker cannot use (its
 * recipients are deferred, the worker goes on).
 */
#include <string.h>

#include "hostname.h"
#include "route.h"
#include "routespec.h"

_Static_assert(JOB_HOST_MAX == ROUTESPEC_HOST_MAX, "a routespec host fits a route host");
_Static_assert(JOB_AUTHNAME_MAX == ROUTESPEC_AUTH_MAX, "a routespec auth fits a route auth");

/* routespec's TLS policy as the worker's. */
static enum tls_policy tls_of(enum routespec_tls t)
{
	return t == ROUTE_TLS_VERIFY ? TLS_VERIFY :
	       t == ROUTE_TLS_REQUIRED ? TLS_REQUIRED : TLS_OPPORTUNISTIC;
}

/* Parse a route string (see route.h). */
int route_parse(struct route *r, const unsigned char *s, size_t n)
{
	struct routespec rs;
	const char *why;

	memset(r, 0, sizeof(*r));
	if (routespec_parse((const char *)s, n, &rs, &why) != 0 ||
	    (rs.kind != ROUTE_MX && rs.kind != ROUTE_RELAY))
		return -1;
	r->relay = rs.kind == ROUTE_RELAY;
	r->port = r->relay ? rs.port : 25;
	r->tls = tls_of(rs.tls);
	memcpy(r->host, rs.host, sizeof(r->host));
	memcpy(r->auth, rs.auth, sizeof(r->auth));
	return 0;
}

/* 1 if s is empty or a valid host name. */
static int host_or_empty(const char *s)
{
	size_t n = strlen(s);

	return n == 0 || hostname_valid(s, n);
}

/* The SMTP worker's checks of a parsed job (see route.h). */
int route_of_job(struct route *r, const struct job *j)
{
	if (route_parse(r, j->route.p, j->route.n) != 0)
		return -1;
	return host_or_empty(j->helo) ? 0 : -1;
}
