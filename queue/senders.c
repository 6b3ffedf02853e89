/*
 * senders.c — the sender check against senders.cdb (senders.h).
 * postern-queued, in the sandbox.  The address comes from the client
 * (untrusted); the table from the operator.  Failure policy: a corrupt
 * table is a temporary failure (-1), never "allowed".
 */
#include <string.h>
#include <strings.h>

#include "senders.h"

/* 1 if a[0..an) equals b[0..bn) ignoring ASCII case. */
static int same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && strncasecmp(a, b, an) == 0;
}

/* The domain part of addr (after the last '@'), or NULL. */
static const char *domain_of(const char *addr, size_t n, size_t *dn)
{
	for (size_t i = n; i > 0; i--) {
		if (addr[i - 1] == '@') {
			*dn = n - i;
			return *dn > 0 && i > 1 ? addr + i : NULL;
		}
	}
	return NULL;
}

/* 1 if one entry (address or @domain) allows addr. */
static int entry_allows(const char *e, size_t en, const char *addr, size_t n)
{
	size_t dn;
	const char *d;

	if (en > 1 && e[0] == '@') {
		d = domain_of(addr, n, &dn);
		return d != NULL && same(e + 1, en - 1, d, dn);
	}
	return same(e, en, addr, n);
}

/* 1 if any entry of a record value allows addr. */
static int value_allows(const unsigned char *v, size_t vn, const char *addr, size_t n)
{
	size_t i = 0;

	while (i < vn) {
		size_t s;

		while (i < vn && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < vn && v[i] != ' ' && v[i] != '\t' && v[i] != ',')
			i++;
		if (i > s && entry_allows((const char *)v + s, i - s, addr, n))
			return 1;
	}
	return 0;
}

/* The check (see senders.h). */
int senders_allowed(struct cdbfd *t, const char *login, const char *addr, size_t n)
{
	struct cdb_find cf;
	size_t ln = strlen(login);
	int r;

	if (n == 0 || ln == 0)
		return 0;
	if (same(login, ln, addr, n))
		return 1;
	if (!t->ready)
		return 0;
	if (cdb_findinit(&cf, &t->cdb, login, (unsigned)ln) < 0)
		return -1;
	while ((r = cdb_findnext(&cf)) > 0) {
		unsigned vn = cdb_datalen(&t->cdb);
		const unsigned char *v = cdb_get(&t->cdb, vn, cdb_datapos(&t->cdb));

		if (v == NULL)
			return -1;
		if (value_allows(v, vn, addr, n))
			return 1;
	}
	return r < 0 ? -1 : 0;
}
