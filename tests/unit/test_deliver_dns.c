/*
 * test_deliver_dns.c — cmocka units for postern-deliver's DNS answer
 * handling (deliver/dns.c), on answers built byte by byte here: MX hosts
 * ordered by preference (ties in answer order or by the caller's keys),
 * the null MX "0 ." of RFC 7505 (alone, and not when other MX records
 * come with it), CNAME records in an answer skipped (only records of the
 * asked type count), every truncation of a valid answer refused, and a
 * compression pointer loop (in record data and in an owner name) refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../deliver/dns.h"

/* T_A, T_CNAME, T_MX, T_AAAA come from <arpa/nameser_compat.h> via resolv.h. */


/* A DNS message under construction. */
struct msg {
	unsigned char b[1024];
	size_t n;
};

/* Append raw bytes. */
static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Append a 16-bit big-endian value. */
static void put16(struct msg *m, unsigned v)
{
	unsigned char x[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(m, x, 2);
}

/* Append a name as labels ("" is the root), uncompressed. */
static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		unsigned char c = (unsigned char)l;

		put(m, &c, 1);
		put(m, name, l);
		name += l + (dot != NULL);
	}
	put(m, "", 1);
}

/* Header (a response, no error) and the question for qname/qtype. */
static void begin(struct msg *m, unsigned ancount, const char *qname, unsigned qtype)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

/* Record header: owner as a pointer to the question name (offset 12)
 * when owner is NULL, type, class IN, TTL 60, rdlength. */
static void rr(struct msg *m, const char *owner, unsigned type, unsigned rdlen)
{
	if (owner == NULL)
		put16(m, 0xc000 | 12);
	else
		put_name(m, owner);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 60);
	put16(m, rdlen);
}

/* An MX record for the question name. */
static void mx(struct msg *m, unsigned pref, const char *host)
{
	struct msg t = { .n = 0 };

	put_name(&t, host);
	rr(m, NULL, T_MX, (unsigned)t.n + 2);
	put16(m, pref);
	put(m, t.b, t.n);
}

static void test_mx_order(void **state)
{
	static struct dns_mx out;
	struct msg m;
	uint32_t key[DNS_MX_MAX] = { 0, 9, 0, 1 };

	(void)state;
	begin(&m, 4, "dest.test", T_MX);
	mx(&m, 20, "b.dest.test");
	mx(&m, 10, "a.dest.test");
	mx(&m, 30, "c.dest.test");
	mx(&m, 10, "d.dest.test");
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), 0);
	assert_int_equal(out.nullmx, 0);
	assert_int_equal(out.n, 4);
	assert_string_equal(out.host[0], "a.dest.test");
	assert_string_equal(out.host[1], "d.dest.test");
	assert_string_equal(out.host[2], "b.dest.test");
	assert_string_equal(out.host[3], "c.dest.test");
	assert_int_equal(out.pref[0], 10);
	assert_int_equal(out.pref[3], 30);
	/* the tie between a (key 9) and d (key 1) goes by key */
	assert_int_equal(dns_mx_answer(m.b, m.n, key, &out), 0);
	assert_string_equal(out.host[0], "d.dest.test");
	assert_string_equal(out.host[1], "a.dest.test");
	assert_string_equal(out.host[2], "b.dest.test");
}

static void test_null_mx(void **state)
{
	static struct dns_mx out;
	struct msg m;

	(void)state;
	begin(&m, 1, "n.test", T_MX);
	mx(&m, 0, "");
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), 0);
	assert_int_equal(out.nullmx, 1);
	assert_int_equal(out.n, 0);
	/* "0 ." next to a real MX is not a null MX (RFC 7505 §3): the root
	 * is skipped and the other host is used */
	begin(&m, 2, "n.test", T_MX);
	mx(&m, 0, "");
	mx(&m, 10, "mx.n.test");
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), 0);
	assert_int_equal(out.nullmx, 0);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.host[0], "mx.n.test");
	/* "10 ." alone is no null MX either (preference must be 0) */
	begin(&m, 1, "n.test", T_MX);
	mx(&m, 10, "");
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), 0);
	assert_int_equal(out.nullmx, 0);
	assert_int_equal(out.n, 0);
}

static void test_cname_skipped(void **state)
{
	static struct dns_mx out;
	static struct dns_result res;
	struct msg m, t = { .n = 0 };

	(void)state;
	/* MX query for an alias: CNAME, then the target's MX */
	put_name(&t, "real.test");
	begin(&m, 2, "alias.test", T_MX);
	rr(&m, NULL, T_CNAME, (unsigned)t.n);
	put(&m, t.b, t.n);
	rr(&m, "real.test", T_MX, 2 + 14);
	put16(&m, 5);
	put_name(&m, "mx.real.test");
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), 0);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.host[0], "mx.real.test");
	assert_int_equal(out.pref[0], 5);
	/* A query through a CNAME: only the A record becomes a target */
	begin(&m, 2, "w.test", T_A);
	rr(&m, NULL, T_CNAME, (unsigned)t.n);
	put(&m, t.b, t.n);
	rr(&m, "real.test", T_A, 4);
	put(&m, "\x7f\x00\x00\x05", 4);
	res.ntargets = 0;
	assert_int_equal(dns_parse_addrs(m.b, m.n, T_A, "w.test", &res), 1);
	assert_int_equal(res.ntargets, 1);
	assert_int_equal(res.t[0].family, AF_INET);
	assert_memory_equal(res.t[0].addr, "\x7f\x00\x00\x05", 4);
	assert_string_equal(res.t[0].host, "w.test");
	/* the same answer read as AAAA: nothing of that type */
	res.ntargets = 0;
	assert_int_equal(dns_parse_addrs(m.b, m.n, T_AAAA, "w.test", &res), 0);
	assert_int_equal(res.ntargets, 0);
}

static void test_truncated_refused(void **state)
{
	static struct dns_mx out;
	static struct dns_result res;
	struct msg m;

	(void)state;
	begin(&m, 2, "dest.test", T_MX);
	mx(&m, 10, "a.dest.test");
	mx(&m, 20, "b.dest.test");
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), 0);
	assert_int_equal(out.n, 2);
	for (size_t len = 0; len < m.n; len++) {
		if (dns_mx_answer(m.b, len, NULL, &out) != -1)
			fail_msg("MX answer cut at %zu of %zu accepted", len, m.n);
	}
	begin(&m, 1, "h.test", T_AAAA);
	rr(&m, NULL, T_AAAA, 16);
	put(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	res.ntargets = 0;
	assert_int_equal(dns_parse_addrs(m.b, m.n, T_AAAA, "h.test", &res), 1);
	for (size_t len = 0; len < m.n; len++) {
		res.ntargets = 0;
		if (dns_parse_addrs(m.b, len, T_AAAA, "h.test", &res) != -1)
			fail_msg("AAAA answer cut at %zu of %zu accepted", len, m.n);
	}
	/* an address record of the wrong length */
	begin(&m, 1, "h.test", T_A);
	rr(&m, NULL, T_A, 3);
	put(&m, "\x7f\0\0", 3);
	res.ntargets = 0;
	assert_int_equal(dns_parse_addrs(m.b, m.n, T_A, "h.test", &res), -1);
}

static void test_compression_loop_refused(void **state)
{
	static struct dns_mx out;
	static struct dns_result res;
	struct msg m;
	size_t at;

	(void)state;
	/* MX target: a pointer to itself */
	begin(&m, 1, "l.test", T_MX);
	rr(&m, NULL, T_MX, 4);
	put16(&m, 10);
	at = m.n;
	put16(&m, 0xc000 | (unsigned)at);
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), -1);
	/* two pointers to each other: a label, then a pointer back */
	begin(&m, 1, "l.test", T_MX);
	rr(&m, NULL, T_MX, 2 + 2 + 2);
	put16(&m, 10);
	at = m.n;
	put(&m, "\x01x", 2);
	put16(&m, 0xc000 | (unsigned)at);
	assert_int_equal(dns_mx_answer(m.b, m.n, NULL, &out), -1);
	/* owner name of an A record: a pointer to itself */
	begin(&m, 1, "l.test", T_A);
	at = m.n;
	put16(&m, 0xc000 | (unsigned)at);
	put16(&m, T_A);
	put16(&m, 1);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 4);
	put(&m, "\x7f\0\0\x01", 4);
	res.ntargets = 0;
	assert_int_equal(dns_parse_addrs(m.b, m.n, T_A, "l.test", &res), -1);
	assert_int_equal(res.ntargets, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_order),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_cname_skipped),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_compression_loop_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
