/*
 * route.c — postern-deliver's route grammar (route.h), applied to the
 * route field of a job after the shared parser (job.c).  The route comes
 * from routes.cdb through queued; it is still parsed strictly, since a
 * host or option read wrongly would send mail to the wrong place or
 * without the TLS the operator asked for.
 */
#include <string.h>

#include "decimal.h"
#include "hostname.h"
#include "route.h"

/* 1 if s[0..n) is exactly the word w. */
static int word_is(const unsigned char *s, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(s, w, n) == 0;
}

/* "tls=..." or "auth=..." option of a route. */
static int route_option(struct route *r, const unsigned char *s, size_t n)
{
	if (word_is(s, n, "tls=opportunistic"))
		r->tls = TLS_OPPORTUNISTIC;
	else if (word_is(s, n, "tls=required"))
		r->tls = TLS_REQUIRED;
	else if (word_is(s, n, "tls=verify"))
		r->tls = TLS_VERIFY;
	else if (n > 5 && n - 5 <= JOB_AUTHNAME_MAX && memcmp(s, "auth=", 5) == 0) {
		for (size_t i = 5; i < n; i++) {
			if (s[i] <= 0x20 || s[i] >= 0x7f)
				return -1;
		}
		memcpy(r->auth, s + 5, n - 5);
		r->auth[n - 5] = '\0';
	} else
		return -1;
	return 0;
}

/* "HOST:PORT" or "[v6]:PORT" of a relay route. */
static int route_hostport(struct route *r, const unsigned char *s, size_t n)
{
	const unsigned char *colon, *h = s;
	size_t hn;
	char port[8];
	uint64_t v;

	if (n > 0 && s[0] == '[') {
		const unsigned char *close = memchr(s, ']', n);

		if (close == NULL || (size_t)(close - s) + 1 >= n || close[1] != ':')
			return -1;
		h = s + 1;
		hn = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = memchr(s, ':', n);
		if (colon == NULL)
			return -1;
		hn = (size_t)(colon - s);
	}
	if (hn == 0 || hn > JOB_HOST_MAX)
		return -1;
	for (size_t i = 0; i < hn; i++) {
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' || h[i] == ':'))
			return -1;
	}
	memcpy(r->host, h, hn);
	r->host[hn] = '\0';
	n -= (size_t)(colon + 1 - s);
	if (n == 0 || n >= sizeof(port))
		return -1;
	memcpy(port, colon + 1, n);
	port[n] = '\0';
	if (u64_from_dec(port, 1, 65535, &v) != 0)
		return -1;
	r->port = (unsigned)v;
	return 0;
}

/* Parse a route string (see route.h). */
int route_parse(struct route *r, const unsigned char *s, size_t n)
{
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	r->port = 25;
	while (i < n && s[i] != ' ')
		i++;
	if (i == 2 && memcmp(s, "mx", 2) == 0)
		r->relay = 0;
	else if (i > 6 && memcmp(s, "relay:", 6) == 0) {
		r->relay = 1;
		if (route_hostport(r, s + 6, i - 6) != 0)
			return -1;
	} else
		return -1;
	while (i < n) {
		size_t j = ++i;

		while (j < n && s[j] != ' ')
			j++;
		if (j == i || route_option(r, s + i, j - i) != 0)
			return -1;
		i = j;
	}
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
	if (!host_or_empty(j->domain) || !host_or_empty(j->helo))
		return -1;
	if (!r->relay && j->domain[0] == '\0')
		return -1;
	return 0;
}
