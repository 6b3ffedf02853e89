/*
 * listenaddr.c — parsing one "listen = ADDR:PORT MODE" value into a socket
 * address (grammar and policy in listenaddr.h).
 *
 * Process: postern (master), while reading postern.conf; pure (no I/O).
 * Failure policy: any deviation from the grammar is an error with a
 * reason; nothing is guessed (no host names, no default port or mode).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "listenaddr.h"

#define ADDR_TEXT_MAX 64

/* Write a reason into err[errcap]. */
static void set_err(char *err, size_t errcap, const char *reason)
{
	if (errcap > 0)
		snprintf(err, errcap, "%s", reason);
}

/* 1 for the blanks that separate the address from the mode. */
static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse a decimal port 1..65535 from s; -1 if it is not one. */
static int parse_port(const char *s)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	return v == 0 ? -1 : (int)v;
}

/* Split "ADDR:PORT" (addrport) into a sockaddr in out. */
static int parse_addrport(const char *addrport, struct listen_spec *out,
                          char *err, size_t errcap)
{
	char host[ADDR_TEXT_MAX];
	const char *portstr;
	size_t hlen;
	int port, v6 = addrport[0] == '[';

	if (v6) {
		const char *close = strchr(addrport, ']');

		if (close == NULL || close[1] != ':') {
			set_err(err, errcap, "expected [IPv6]:PORT");
			return -1;
		}
		hlen = (size_t)(close - addrport - 1);
		memcpy(host, addrport + 1, hlen < sizeof(host) ? hlen : 0);
		portstr = close + 2;
	} else {
		const char *colon = strrchr(addrport, ':');

		if (colon == NULL) {
			set_err(err, errcap, "expected ADDR:PORT (IPv4) or [ADDR]:PORT (IPv6)");
			return -1;
		}
		hlen = (size_t)(colon - addrport);
		memcpy(host, addrport, hlen < sizeof(host) ? hlen : 0);
		portstr = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		set_err(err, errcap, "missing or over-long address");
		return -1;
	}
	host[hlen] = '\0';
	port = parse_port(portstr);
	if (port < 0) {
		set_err(err, errcap, "port must be a number from 1 to 65535");
		return -1;
	}
	memset(&out->addr, 0, sizeof(out->addr));
	if (v6) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&out->addr;

		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sa->sin6_addr) != 1) {
			set_err(err, errcap, "not a numeric IPv6 address");
			return -1;
		}
		out->addrlen = sizeof(*sa);
		snprintf(out->text, sizeof(out->text), "[%s]:%d", host, port);
	} else {
		struct sockaddr_in *sa = (struct sockaddr_in *)&out->addr;

		sa->sin_family = AF_INET;
		sa->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
			set_err(err, errcap, "not a numeric IPv4 address (IPv6 goes in brackets)");
			return -1;
		}
		out->addrlen = sizeof(*sa);
		snprintf(out->text, sizeof(out->text), "%s:%d", host, port);
	}
	return 0;
}

/* 1 if the listener's address is loopback (127.0.0.0/8 or ::1). */
static int is_loopback(const struct listen_spec *l)
{
	if (l->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)&l->addr;

		return (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&l->addr)->sin6_addr);
}

/* Parse the mode word into out->mode; -1 with a reason if refused. */
static int parse_mode(const char *mode, struct listen_spec *out,
                      char *err, size_t errcap)
{
	if (strcmp(mode, "plain") == 0) {
		out->mode = LISTEN_PLAIN;
		if (!is_loopback(out)) {
			snprintf(err, errcap, "plain listener on non-loopback address %s "
			         "refused: it would carry passwords in clear "
			         "(plain is for 127.0.0.1 or [::1] only)", out->text);
			return -1;
		}
		return 0;
	}
	if (strcmp(mode, "starttls") == 0) {
		out->mode = LISTEN_STARTTLS;
		return 0;
	}
	if (strcmp(mode, "tls") == 0) {
		out->mode = LISTEN_TLS;
		return 0;
	}
	set_err(err, errcap, "mode must be plain, starttls or tls");
	return -1;
}

/* Parse "ADDR:PORT MODE" (see listenaddr.h). */
int listenaddr_parse(const char *value, struct listen_spec *out,
                     char *err, size_t errcap)
{
	char addrport[ADDR_TEXT_MAX];
	size_t n = 0;
	const char *mode;

	while (value[n] != '\0' && !is_blank(value[n]))
		n++;
	if (value[n] == '\0') {
		set_err(err, errcap, "expected ADDR:PORT MODE (mode plain, starttls or tls)");
		return -1;
	}
	if (n >= sizeof(addrport)) {
		set_err(err, errcap, "address too long");
		return -1;
	}
	memcpy(addrport, value, n);
	addrport[n] = '\0';
	mode = value + n;
	while (is_blank(*mode))
		mode++;
	if (parse_addrport(addrport, out, err, errcap) != 0)
		return -1;
	return parse_mode(mode, out, err, errcap);
}

/* 1 if a and b name the same address and port. */
int listenaddr_same(const struct listen_spec *a, const struct listen_spec *b)
{
	return a->addrlen == b->addrlen &&
	       memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}
