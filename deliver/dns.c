/*
 * dns.c — MX and address lookups of postern-deliver (policy in dns.h).
 * Runs inside the sandbox except dns_init.  Answers come from the network
 * (the resolver and whatever it relays): every count is capped, every
 * record parsed by libresolv's bounds-checked parser, every name checked.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <sodium.h>
#include <string.h>

#include "dns.h"
#include "hostname.h"
#include "idna.h"
#include "mailbox.h"

#define ANSWER_MAX 65536

/* Initialise the resolver state before the sandbox (see dns.h). */
int dns_init(struct __res_state *st, const struct sockaddr_in *resolver, unsigned timeout_s)
{
	memset(st, 0, sizeof(*st));
	if (res_ninit(st) != 0)
		return -1;
	if (resolver != NULL) {
		/* glibc honours an application's own nsaddr_list (the state no
		 * longer matches its cached resolv.conf, so it is used as is). */
		st->nscount = 1;
		st->nsaddr_list[0] = *resolver;
		for (int i = 0; i < MAXNS; i++)
			st->_u._ext.nsaddrs[i] = NULL;
	}
	/* No reloading of resolv.conf inside the chroot; no search list. */
	st->options |= RES_NORELOAD;
	st->options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	st->retrans = (int)(timeout_s > 0 ? timeout_s : 5);
	st->retry = 2;
	return 0;
}

/* Parse an MX answer (see dns.h). */
int dns_parse_mx(const unsigned char *ans, size_t len, char (*hosts)[JOB_HOST_MAX + 1],
                 unsigned *prefs, size_t max, int *nullmx)
{
	ns_msg msg;
	ns_rr rr;
	int count, n = 0, seen = 0, zero_root = 0;
	char name[NS_MAXDNAME];

	*nullmx = 0;
	if (len > ANSWER_MAX || ns_initparse(ans, (int)len, &msg) != 0)
		return -1;
	count = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < count && i < 256; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0)
			return -1;
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_rdlen(rr) < 3)
			return -1;
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2,
		              name, sizeof(name)) < 0)
			return -1;
		seen++;
		if (name[0] == '\0' || strcmp(name, ".") == 0) {
			zero_root += ns_get16(ns_rr_rdata(rr)) == 0;
			continue;
		}
		if ((size_t)n >= max || !hostname_valid(name, strlen(name)))
			continue;
		memcpy(hosts[n], name, strlen(name) + 1);
		prefs[n] = ns_get16(ns_rr_rdata(rr));
		n++;
	}
	/* RFC 7505 §3: a null MX is the only MX record of the domain. */
	if (seen == 1 && zero_root == 1)
		*nullmx = 1;
	return n;
}

/* Parse an A/AAAA answer (see dns.h). */
int dns_parse_addrs(const unsigned char *ans, size_t len, int type, const char *host,
                    struct dns_result *out)
{
	ns_msg msg;
	ns_rr rr;
	int count, added = 0;
	size_t alen = type == ns_t_a ? 4 : 16;

	if (len > ANSWER_MAX || ns_initparse(ans, (int)len, &msg) != 0)
		return -1;
	count = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < count && i < 256; i++) {
		struct target *t;

		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0)
			return -1;
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_rdlen(rr) != alen)
			return -1;
		if (out->ntargets >= DNS_TARGET_MAX)
			break;
		t = &out->t[out->ntargets++];
		t->family = type == ns_t_a ? AF_INET : AF_INET6;
		memcpy(t->addr, ns_rr_rdata(rr), alen);
		memcpy(t->host, host, strnlen(host, JOB_HOST_MAX) + 1);
		added++;
	}
	return added;
}

/* Insertion sort of out's hosts by (preference, key); at most DNS_MX_MAX
 * entries, so quadratic is fine and stable for equal keys. */
static void order_mx(struct dns_mx *out, uint32_t *key)
{
	for (size_t i = 1; i < out->n; i++) {
		for (size_t j = i; j > 0 && (out->pref[j] < out->pref[j - 1] ||
		     (out->pref[j] == out->pref[j - 1] && key[j] < key[j - 1])); j--) {
			char h[JOB_HOST_MAX + 1];
			unsigned p = out->pref[j];
			uint32_t k = key[j];

			memcpy(h, out->host[j], sizeof(h));
			memcpy(out->host[j], out->host[j - 1], sizeof(h));
			memcpy(out->host[j - 1], h, sizeof(h));
			out->pref[j] = out->pref[j - 1];
			out->pref[j - 1] = p;
			key[j] = key[j - 1];
			key[j - 1] = k;
		}
	}
}

/* Parse and order an MX answer (see dns.h). */
int dns_mx_answer(const unsigned char *ans, size_t len, const uint32_t *tiekey,
                  struct dns_mx *out)
{
	uint32_t key[DNS_MX_MAX];
	int n = dns_parse_mx(ans, len, out->host, out->pref, DNS_MX_MAX, &out->nullmx);

	out->n = 0;
	if (n < 0)
		return -1;
	out->n = (size_t)n;
	for (size_t i = 0; i < out->n; i++)
		key[i] = tiekey != NULL ? tiekey[i] : (uint32_t)i;
	order_mx(out, key);
	return 0;
}

/* res_nquery with a static buffer: length, or -1 and *herr. */
static int query(struct __res_state *st, const char *name, int type,
                 const unsigned char **ans, int *herr)
{
	static unsigned char buf[ANSWER_MAX];
	int n = res_nquery(st, name, ns_c_in, type, buf, sizeof(buf));

	*ans = buf;
	if (n < 0) {
		*herr = st->res_h_errno;
		return -1;
	}
	if (n > (int)sizeof(buf))
		n = (int)sizeof(buf);	/* truncated answer: parse what fits */
	return n;
}

/* Addresses of host into out: 1 found some, 0 none, -1 temporary failure. */
static int host_addrs(struct __res_state *st, const char *host, struct dns_result *out)
{
	static const int types[2] = { ns_t_a, ns_t_aaaa };
	int found = 0, temp = 0;

	for (int k = 0; k < 2; k++) {
		const unsigned char *ans;
		int herr = 0, n = query(st, host, types[k], &ans, &herr);

		if (n < 0) {
			temp |= herr == TRY_AGAIN;
			continue;
		}
		if (dns_parse_addrs(ans, (size_t)n, types[k], host, out) > 0)
			found = 1;
	}
	return found ? 1 : temp ? -1 : 0;
}

/* Set a failure result. */
static void fail(struct dns_result *out, int code, const char *status, const char *text)
{
	out->ok = 0;
	out->code = code;
	out->status = status;
	out->text = text;
}

/* A relay given as an IP literal needs no DNS. */
static int literal(const char *host, struct dns_result *out)
{
	struct target *t = &out->t[0];

	if (inet_pton(AF_INET, host, t->addr) == 1)
		t->family = AF_INET;
	else if (inet_pton(AF_INET6, host, t->addr) == 1)
		t->family = AF_INET6;
	else
		return 0;
	memcpy(t->host, host, strnlen(host, JOB_HOST_MAX) + 1);
	out->ntargets = 1;
	out->ok = 1;
	return 1;
}

/* The MX route of domain. */
static void mx_targets(struct __res_state *st, const char *domain, struct dns_result *out)
{
	static struct dns_mx mx;
	uint32_t tiekey[DNS_MX_MAX];
	const unsigned char *ans;
	int herr = 0, temp = 0, n = query(st, domain, ns_t_mx, &ans, &herr);

	if (n < 0 && herr == HOST_NOT_FOUND)
		return fail(out, 550, "5.1.2", "domain does not exist (NXDOMAIN)");
	if (n < 0 && herr != NO_DATA)
		return fail(out, 451, "4.4.3", "DNS lookup of MX failed temporarily");
	if (n < 0) {
		/* RFC 5321 §5.1: no MX, the domain itself is the implicit MX. */
		int r = host_addrs(st, domain, out);

		if (r < 0)
			return fail(out, 451, "4.4.3", "DNS lookup of address failed temporarily");
		if (r == 0)
			return fail(out, 550, "5.1.2", "domain has no MX and no address");
		out->ok = 1;
		return;
	}
	/* RFC 5321 §5.1: equal preferences are tried in random order. */
	for (size_t i = 0; i < DNS_MX_MAX; i++)
		tiekey[i] = randombytes_uniform(1u << 16);
	n = dns_mx_answer(ans, (size_t)n, tiekey, &mx);
	if (n == 0 && mx.nullmx)
		return fail(out, 556, "5.1.10", "domain accepts no mail (null MX, RFC 7505)");
	if (n < 0)
		return fail(out, 451, "4.4.3", "malformed MX answer");
	if (mx.n == 0)
		return fail(out, 550, "5.4.4", "no valid MX host");
	for (size_t i = 0; i < mx.n && out->ntargets < DNS_TARGET_MAX; i++)
		temp |= host_addrs(st, mx.host[i], out) < 0;
	if (out->ntargets > 0)
		out->ok = 1;
	else if (temp)
		fail(out, 451, "4.4.3", "DNS lookup of MX host failed temporarily");
	else
		fail(out, 550, "5.4.4", "no MX host has an address");
}

/* The mx destination of a job: an address literal is its own target
 * (RFC 5321 §5.1 does not apply to it), a U-label domain is looked up
 * by its A-labels, a host name as it is. */
static void mx_destination(struct __res_state *st, const char *domain, struct dns_result *out)
{
	struct mailbox_domain d;
	char host[HOSTNAME_MAX + 1];
	size_t n = strlen(domain), skip;

	if (n == 0 || mailbox_domain_parse((const unsigned char *)domain, n, &d) != MAILBOX_OK)
		return fail(out, 550, "5.1.2", "destination domain cannot be used");
	if (d.kind != MAILBOX_DNS) {
		/* "[a.b.c.d]" or "[IPv6:...]": the address between. */
		skip = d.kind == MAILBOX_IPV6 ? 6 : 1;
		if (n - skip - 1 >= sizeof host)
			return fail(out, 550, "5.1.2", "destination domain cannot be used");
		memcpy(host, domain + skip, n - skip - 1);
		host[n - skip - 1] = '\0';
		if (!literal(host, out))
			fail(out, 550, "5.1.2", "destination domain cannot be used");
		return;
	}
	if (!d.utf8)
		return mx_targets(st, domain, out);
	if (idna_to_host(domain, host) != 0)
		return fail(out, 550, "5.1.2", "international domain name refused by IDNA");
	mx_targets(st, host, out);
}

/* Targets of a route (see dns.h). */
void dns_targets(struct __res_state *st, const struct route *r, const char *domain,
                 struct dns_result *out)
{
	out->ok = 0;
	out->ntargets = 0;
	if (!r->relay)
		return mx_destination(st, domain, out);
	if (literal(r->host, out))
		return;
	if (!hostname_valid(r->host, strlen(r->host)))
		return fail(out, 451, "4.3.5", "relay host name is invalid");
	switch (host_addrs(st, r->host, out)) {
	case 1:
		out->ok = 1;
		return;
	case 0:
		return fail(out, 451, "4.4.3", "relay host has no address");
	default:
		return fail(out, 451, "4.4.3", "DNS lookup of relay failed temporarily");
	}
}
