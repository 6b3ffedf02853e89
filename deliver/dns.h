/*
 * dns.h — where a job's mail goes: the MX hosts of the recipient domain
 * (RFC 5321 §5.1) or a relay's host, each turned into its IPv4/IPv6
 * addresses, in the order they are to be tried.
 *
 * Uses glibc's stub resolver with an explicit state: dns_init (res_ninit,
 * which reads /etc/resolv.conf) runs BEFORE the sandbox; lookups
 * (res_nquery: a UDP socket to the resolver, connect, sendto/send, poll,
 * recvfrom, close; TCP on a truncated answer) run inside it.  Not
 * getaddrinfo, which opens /etc/hosts, nsswitch.conf and NSS modules.
 * Answers are parsed with ns_initparse/ns_parserr/dn_expand (libresolv)
 * and every name read from them is checked with hostname_valid.
 *
 * Policy:
 *  - an mx route to an address literal ("[192.0.2.1]", "[IPv6:...]")
 *    connects to that address;
 *  - MX hosts in preference order, equal preferences shuffled; every
 *    address of each (A first, then AAAA); at most DNS_MX_MAX hosts and
 *    DNS_TARGET_MAX addresses;
 *  - no MX record (NODATA): the domain's own A/AAAA (implicit MX);
 *  - null MX (RFC 7505: one MX "0 ."): permanent, 556 5.1.10;
 *  - NXDOMAIN: permanent, 550 5.1.2; a domain without MX and address:
 *    permanent 550 5.1.2; MX hosts none of which has an address:
 *    permanent 550 5.4.4;
 *  - resolver timeouts/SERVFAIL (TRY_AGAIN) with no address found: temp
 *    451 4.4.3.
 */
#ifndef POSTERN_DELIVER_DNS_H
#define POSTERN_DELIVER_DNS_H

#include <netinet/in.h>
#include <resolv.h>
#include <stddef.h>
#include <stdint.h>

#include "jobchan.h"
#include "route.h"

#define DNS_MX_MAX 10
#define DNS_TARGET_MAX 20

struct target {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	char host[JOB_HOST_MAX + 1];	/* name for TLS (SNI, verify) and logs */
};

struct dns_result {
	int ok;				/* 1: targets to try */
	int code;			/* when !ok: the reply code for every rcpt */
	const char *status, *text;	/* when !ok: constants */
	size_t ntargets;
	struct target t[DNS_TARGET_MAX];
};

/* Before the sandbox: initialise the resolver state; resolver (may be
 * NULL) replaces the configured name servers.  0 or -1. */
int dns_init(struct __res_state *st, const struct sockaddr_in *resolver, unsigned timeout_s);

/* Targets of route r: for mx, the job's domain (lib/mailbox.h): an
 * address literal is the one target (no DNS), a U-label domain is looked
 * up by its A-labels (idna.h; refused by IDNA: 550 5.1.2), a host name by
 * its MX; for a relay, r->host. */
void dns_targets(struct __res_state *st, const struct route *r, const char *domain,
                 struct dns_result *out);

/* Parse an MX answer: hosts (at most max, each JOB_HOST_MAX+1 bytes) in
 * answer order with preferences.  Returns the count, or -1 if the answer
 * is malformed; *nullmx = 1 for RFC 7505's "0 .".  Pure (fuzzed). */
int dns_parse_mx(const unsigned char *ans, size_t len, char (*hosts)[JOB_HOST_MAX + 1],
                 unsigned *prefs, size_t max, int *nullmx);

/* An MX answer parsed and put in the order its hosts are tried. */
struct dns_mx {
	int nullmx;			/* RFC 7505 "0 ." was the only MX */
	size_t n;
	unsigned pref[DNS_MX_MAX];
	char host[DNS_MX_MAX][JOB_HOST_MAX + 1];
};

/* Parse an MX answer (dns_parse_mx) and sort its hosts by preference,
 * lowest first (RFC 5321 §5.1); equal preferences in ascending order of
 * tiekey[i] (i = the host's place in the answer; the caller passes random
 * keys), or in answer order when tiekey is NULL.  0, or -1 if the answer
 * is malformed.  Pure (fuzz/fuzz_deliver_dns.c, tests/unit/test_deliver_dns.c). */
int dns_mx_answer(const unsigned char *ans, size_t len, const uint32_t *tiekey,
                  struct dns_mx *out);

/* Parse an A (type 1) or AAAA (type 28) answer: adds addresses to out
 * with host name host.  Returns the number added, -1 if malformed. */
int dns_parse_addrs(const unsigned char *ans, size_t len, int type, const char *host,
                    struct dns_result *out);

#endif
