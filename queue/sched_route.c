/*
 * sched_route.c — routes lookup, destinations, grouping and backoff
 * (sched_route.h).  Pure functions over bytes from the envelope (which
 * came from a client: hostile) and from routes.cdb (the operator's, still
 * checked against the grammar so a bad value never reaches a worker).
 */
#include <string.h>

#include "idna.h"
#include "sched_route.h"

/* A U-label domain in out replaced by its A-labels (lib/idna.h), so
 * routes.cdb keys and the grouping see one form.  0, or -1. */
static int a_labels(char out[SROUTE_DOMAIN_MAX + 1])
{
	char host[HOSTNAME_MAX + 1];

	_Static_assert(SROUTE_DOMAIN_MAX >= HOSTNAME_MAX, "a host name fits");
	if (idna_to_host(out, host) != 0)
		return -1;
	memcpy(out, host, strlen(host) + 1);
	return 0;
}

/* Domain of a recipient (see the header). */
int sroute_domain(const unsigned char *addr, size_t n, char out[SROUTE_DOMAIN_MAX + 1])
{
	const unsigned char *at = NULL;
	size_t dn;
	int utf8 = 0;

	for (size_t i = 0; i < n; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (at == NULL)
		return -1;
	dn = n - (size_t)(at + 1 - addr);
	if (dn > 0 && at[dn] == '.')
		dn--;
	if (dn == 0 || dn > SROUTE_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < dn; i++) {
		unsigned char c = at[1 + i];

		if (c <= 0x20 || c == 0x7f || c == '/')
			return -1;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		utf8 |= c >= 0x80;
	}
	out[dn] = '\0';
	return utf8 ? a_labels(out) : 0;
}

/* 1 if v[0..n) is a route value of the grammar. */
static int value_ok(const unsigned char *v, size_t n)
{
	if (n == 0 || n > SROUTE_VALUE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return 0;
	if (n == 2 && memcmp(v, "mx", 2) == 0)
		return 1;
	if (n > 6 && memcmp(v, "relay:", 6) == 0)
		return 1;
	return n > 9 && memcmp(v, "maildir:/", 9) == 0;
}

/* The lookup (see the header). */
int sroute_lookup(struct cdbfd *t, const unsigned char *addr, size_t n, struct sroute *r)
{
	const unsigned char *v;
	size_t vn;
	int f;

	if (t->fd < 0 || !t->ready)
		return -1;
	memset(r, 0, sizeof *r);
	if (sroute_domain(addr, n, r->domain) < 0)
		return 0;
	f = cdbfd_find(t, r->domain, strlen(r->domain), &v, &vn);
	if (f == 0)
		f = cdbfd_find(t, "*", 1, &v, &vn);
	if (f < 0)
		return -1;
	if (f == 0 || !value_ok(v, vn))
		return 0;
	memcpy(r->value, v, vn);
	r->value[vn] = '\0';
	r->maildir = vn > 8 && memcmp(v, "maildir:", 8) == 0;
	if (vn == 2 && memcmp(v, "mx", 2) == 0) {
		memcpy(r->dest, "mx:", 3);
		memcpy(r->dest + 3, r->domain, strlen(r->domain) + 1);
	} else {
		memcpy(r->dest, r->value, vn + 1);
	}
	return 1;
}

/* Backoff (see the header). */
uint64_t sched_backoff(uint64_t attempts, uint64_t min, uint64_t max)
{
	uint64_t d = min;

	for (uint64_t i = 1; i < attempts && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	return d < max ? d : max;
}

/* Grouping (see the header). */
size_t sched_group(const char *const *dest, const size_t *bytes, size_t n, size_t budget,
                   size_t max_rcpt, size_t *group_of)
{
	size_t ngroups = 0;

	for (size_t i = 0; i < n; i++) {
		size_t g = ngroups;

		/* The open job of the same dest is the last one that has it. */
		for (size_t j = i; j-- > 0;) {
			if (strcmp(dest[j], dest[i]) == 0) {
				g = group_of[j];
				break;
			}
		}
		if (g != ngroups) {
			size_t used = bytes[i], count = 1;

			for (size_t j = 0; j < i; j++) {
				if (group_of[j] == g) {
					used += bytes[j];
					count++;
				}
			}
			if (used > budget || count > max_rcpt)
				g = ngroups;
		}
		if (g == ngroups)
			ngroups++;
		group_of[i] = g;
	}
	return ngroups;
}
