/*
 * fuzz_deliver_dns.c — libFuzzer target for the DNS answer handling of
 * postern-deliver (deliver/dns.c), the bytes a resolver (and whatever it
 * relays) sends back: the MX answer parsed and ordered by preference
 * (dns_mx_answer: ns_initparse/ns_parserr/dn_expand, the null-MX rule of
 * RFC 7505, the sort with and without tie keys) and A/AAAA answers
 * (dns_parse_addrs).  Pure code: no resolver, no socket.
 *
 * Invariants checked (abort on violation): counts within their arrays;
 * every MX host a NUL-terminated valid host name; preferences in
 * non-decreasing order; the ordered hosts are a permutation of the hosts
 * in the answer (same multiset with either tie order); a null MX has no
 * host; an address target has the family of the queried type and the
 * caller's host name; parsing is deterministic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../deliver/dns.h"
#include "hostname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless mx is well-formed and sorted. */
static void check_mx(const struct dns_mx *mx)
{
	if (mx->n > DNS_MX_MAX || (mx->nullmx && mx->n != 0))
		abort();
	for (size_t i = 0; i < mx->n; i++) {
		size_t hl = strnlen(mx->host[i], JOB_HOST_MAX + 1);

		if (hl > JOB_HOST_MAX || !hostname_valid(mx->host[i], hl) || mx->pref[i] > 65535)
			abort();
		if (i > 0 && mx->pref[i] < mx->pref[i - 1])
			abort();
	}
}

/* 1 if a and b hold the same (preference, host) pairs, in any order. */
static int same_pairs(const struct dns_mx *a, const struct dns_mx *b)
{
	unsigned char used[DNS_MX_MAX] = { 0 };

	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		size_t j = 0;

		while (j < b->n && (used[j] || b->pref[j] != a->pref[i] ||
		                    strcmp(b->host[j], a->host[i]) != 0))
			j++;
		if (j == b->n)
			return 0;
		used[j] = 1;
	}
	return 1;
}

/* The input as an MX answer, ordered two ways and unordered. */
static void mx_answer(const uint8_t *data, size_t size)
{
	static struct dns_mx plain, keyed, again;
	static char hosts[DNS_MX_MAX][JOB_HOST_MAX + 1];
	unsigned prefs[DNS_MX_MAX];
	uint32_t key[DNS_MX_MAX];
	struct dns_mx raw;
	int nullmx, n, r1, r2, r3;

	for (size_t i = 0; i < DNS_MX_MAX; i++)
		key[i] = (uint32_t)(DNS_MX_MAX - i) * 2654435761u;
	r1 = dns_mx_answer(data, size, NULL, &plain);
	r2 = dns_mx_answer(data, size, key, &keyed);
	r3 = dns_mx_answer(data, size, NULL, &again);
	n = dns_parse_mx(data, size, hosts, prefs, DNS_MX_MAX, &nullmx);
	if (r1 != r2 || r1 != r3 || (r1 == 0) != (n >= 0))
		abort();
	if (r1 != 0)
		return;
	if ((size_t)n != plain.n || nullmx != plain.nullmx || keyed.nullmx != nullmx)
		abort();
	check_mx(&plain);
	check_mx(&keyed);
	if (memcmp(&plain, &again, sizeof(plain)) != 0 || !same_pairs(&plain, &keyed))
		abort();
	raw.n = (size_t)n;
	for (size_t i = 0; i < raw.n; i++) {
		raw.pref[i] = prefs[i];
		memcpy(raw.host[i], hosts[i], sizeof(raw.host[i]));
	}
	if (!same_pairs(&plain, &raw))
		abort();
}

/* The input as an A or AAAA answer. */
static void addr_answer(const uint8_t *data, size_t size, int type)
{
	static struct dns_result out;
	int n;

	out.ntargets = 0;
	n = dns_parse_addrs(data, size, type, "mx.example", &out);
	if (n > DNS_TARGET_MAX || out.ntargets > DNS_TARGET_MAX || (n >= 0 && (size_t)n != out.ntargets))
		abort();
	for (size_t i = 0; i < out.ntargets; i++) {
		if (out.t[i].family != (type == 1 ? AF_INET : AF_INET6) ||
		    strcmp(out.t[i].host, "mx.example") != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mx_answer(data, size);
	addr_answer(data, size, 1);
	addr_answer(data, size, 28);
	return 0;
}
