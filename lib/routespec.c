/*
 * routespec.c — parser of a routes.cdb key and value (grammar in
 * routespec.h).  Used by postern-table (the operator's shell), the
 * master, and postern-deliver on each job's route (which came through
 * queued, so it is read as hostile): every byte is checked and lengths are
 * explicit (a value is not NUL-terminated in a CDB or a frame).
 *
 * Failure policy: the first problem returns -1 with a constant reason.
 */
#include <arpa/inet.h>
#include <string.h>

#include "decimal.h"
#include "hostname.h"
#include "routespec.h"

/* 1 if s[0..n) equals the word w. */
static int is_word(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(s, w, n) == 0;
}

/* 1 if every byte of s[0..n) is printable ASCII other than a blank. */
static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

/* HOST of a relay: a host name, an IPv4 literal or "[IPv6]". */
static int parse_host(const char *h, size_t n, int bracketed, struct routespec *r,
                      const char **why)
{
	unsigned char addr[16];

	if (n == 0 || n > ROUTESPEC_HOST_MAX) {
		*why = "relay host is empty or too long";
		return -1;
	}
	memcpy(r->host, h, n);
	r->host[n] = '\0';
	if (bracketed) {
		if (inet_pton(AF_INET6, r->host, addr) != 1) {
			*why = "relay host in [] is not an IPv6 address";
			return -1;
		}
		return 0;
	}
	if (inet_pton(AF_INET, r->host, addr) == 1 || hostname_valid(r->host, n))
		return 0;
	*why = "relay host is not a host name, an IPv4 address or [IPv6]";
	return -1;
}

/* "HOST:PORT" or "[IPv6]:PORT" of a relay route. */
static int parse_hostport(const char *s, size_t n, struct routespec *r, const char **why)
{
	const char *colon;
	char port[8];
	uint64_t v;
	size_t pn;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL || (size_t)(close - s) + 1 >= n || close[1] != ':') {
			*why = "relay: expected [IPv6]:PORT";
			return -1;
		}
		if (parse_host(s + 1, (size_t)(close - s - 1), 1, r, why) != 0)
			return -1;
		colon = close + 1;
	} else {
		colon = memrchr(s, ':', n);
		if (colon == NULL) {
			*why = "relay: expected HOST:PORT";
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*why = "relay: an IPv6 address goes in [] ([::1]:25)";
			return -1;
		}
		if (parse_host(s, (size_t)(colon - s), 0, r, why) != 0)
			return -1;
	}
	pn = n - (size_t)(colon + 1 - s);
	if (pn == 0 || pn >= sizeof(port)) {
		*why = "relay port must be 1..65535";
		return -1;
	}
	memcpy(port, colon + 1, pn);
	port[pn] = '\0';
	if (u64_from_dec(port, 1, 65535, &v) != 0) {
		*why = "relay port must be 1..65535";
		return -1;
	}
	r->port = (unsigned)v;
	return 0;
}

/* One " tls=..." or " auth=..." option; seen is a bit per option. */
static int parse_option(const char *s, size_t n, struct routespec *r, unsigned *seen,
                        const char **why)
{
	unsigned bit = n >= 4 && memcmp(s, "tls=", 4) == 0 ? 1u :
	               n >= 5 && memcmp(s, "auth=", 5) == 0 ? 2u : 0u;

	if (bit == 0) {
		*why = "unknown relay option (tls=opportunistic|required|verify, auth=NAME)";
		return -1;
	}
	if (*seen & bit) {
		*why = "relay option given twice";
		return -1;
	}
	*seen |= bit;
	if (bit == 2) {
		if (n == 5 || n - 5 > ROUTESPEC_AUTH_MAX || !printable(s + 5, n - 5)) {
			*why = "auth=NAME: 1..128 printable bytes without blanks";
			return -1;
		}
		memcpy(r->auth, s + 5, n - 5);
		r->auth[n - 5] = '\0';
	} else if (is_word(s, n, "tls=opportunistic"))
		r->tls = ROUTE_TLS_OPPORTUNISTIC;
	else if (is_word(s, n, "tls=required"))
		r->tls = ROUTE_TLS_REQUIRED;
	else if (is_word(s, n, "tls=verify"))
		r->tls = ROUTE_TLS_VERIFY;
	else {
		*why = "tls= must be opportunistic, required or verify";
		return -1;
	}
	return 0;
}

/* "relay:HOST:PORT[ OPTION]..." after the "relay:" prefix. */
static int parse_relay(const char *s, size_t n, struct routespec *r, const char **why)
{
	const char *sp = memchr(s, ' ', n);
	size_t hp = sp == NULL ? n : (size_t)(sp - s);
	unsigned seen = 0;

	if (memchr(s, '\t', n) != NULL) {
		*why = "relay: options are separated by single spaces";
		return -1;
	}
	if (parse_hostport(s, hp, r, why) != 0)
		return -1;
	for (size_t i = hp; i < n;) {
		size_t j = ++i;

		while (j < n && s[j] != ' ')
			j++;
		if (j == i) {
			*why = "relay: options are separated by single spaces";
			return -1;
		}
		if (parse_option(s + i, j - i, r, &seen, why) != 0)
			return -1;
		i = j;
	}
	return 0;
}

/* "/absolute/path" of a maildir route. */
static int parse_maildir(const char *s, size_t n, struct routespec *r, const char **why)
{
	if (n < 2 || s[0] != '/') {
		*why = "maildir: needs an absolute path other than /";
		return -1;
	}
	if (n > ROUTESPEC_PATH_MAX || !printable(s, n)) {
		*why = "maildir: path too long or not printable ASCII without blanks";
		return -1;
	}
	for (size_t i = 1; i <= n; i++) {
		size_t j = i;

		while (j < n && s[j] != '/')
			j++;
		if (j == i || is_word(s + i, j - i, ".") || is_word(s + i, j - i, "..")) {
			*why = "maildir: path has an empty, \".\" or \"..\" component";
			return -1;
		}
		i = j;
	}
	memcpy(r->path, s, n);
	r->path[n] = '\0';
	return 0;
}

/* Parse a routes.cdb value (see routespec.h). */
int routespec_parse(const char *v, size_t n, struct routespec *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	if (n > ROUTESPEC_VALUE_MAX) {
		*why = "route longer than 400 bytes";
		return -1;
	}
	if (is_word(v, n, "mx")) {
		r->kind = ROUTE_MX;
		return 0;
	}
	if (n > 6 && memcmp(v, "relay:", 6) == 0) {
		r->kind = ROUTE_RELAY;
		return parse_relay(v + 6, n - 6, r, why);
	}
	if (n >= 8 && memcmp(v, "maildir:", 8) == 0) {
		r->kind = ROUTE_MAILDIR;
		return parse_maildir(v + 8, n - 8, r, why);
	}
	*why = "route must be mx, relay:HOST:PORT [tls=...] [auth=NAME] or maildir:/path";
	return -1;
}

/* Check a routes.cdb key (see routespec.h). */
int routespec_key_ok(const char *k, size_t n, const char **why)
{
	if (is_word(k, n, "*"))
		return 0;
	if (!hostname_valid(k, n)) {
		*why = "key must be * or a domain (letters, digits, '-', '.'; no trailing dot)";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (k[i] >= 'A' && k[i] <= 'Z') {
			*why = "domain keys are looked up in lower case: write the key in lower case";
			return -1;
		}
	}
	return 0;
}
