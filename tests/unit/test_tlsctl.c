/*
 * test_tlsctl.c — unit tests of the TLS channels' grammars: the smtpd <->
 * tlsd control frames (smtpd/tlsctl.c), the master <-> tlsd facts and
 * keys frames (lib/tlsfacts.c), and postern-tlsd's argument parser
 * (smtpd/tlsd_args.c).  Every rejection case is one a hostile or buggy
 * peer could send.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "netstring.h"
#include "tlsfacts.h"
#include "../../smtpd/tlsctl.h"
#include "../../smtpd/tlsd_args.h"

static unsigned char frame_buf[FRAME_MAX];

/* The payload of a frame with the NULL-terminated string fields. */
static const unsigned char *fields(size_t *n, const char *first, ...)
{
	struct frame_writer w;
	const unsigned char *fr, *p;
	const char *f;
	size_t fn, used;
	va_list ap;

	fw_init(&w, frame_buf, sizeof frame_buf);
	va_start(ap, first);
	for (f = first; f != NULL; f = va_arg(ap, const char *))
		fw_str(&w, f);
	va_end(ap);
	fr = fw_finish(&w, &fn);
	assert_non_null(fr);
	assert_int_equal(netstring_parse(fr, fn, FRAME_MAX, &p, n, &used), NS_OK);
	return p;
}

static void test_request(void **state)
{
	char text[TLSCTL_TEXT_MAX + 1];
	size_t n;
	const unsigned char *p = fields(&n, "starttls", "2.0.0 Ready to start TLS", NULL);

	assert_int_equal(tlsctl_parse_request(p, n, text, sizeof text), 0);
	assert_string_equal(text, "2.0.0 Ready to start TLS");
	/* CRLF inside the text would forge a second reply line. */
	p = fields(&n, "starttls", "a\r\n250 x", NULL);
	assert_int_equal(tlsctl_parse_request(p, n, text, sizeof text), -1);
	assert_string_equal(text, "");
	p = fields(&n, "starttls", "", NULL);
	assert_int_equal(tlsctl_parse_request(p, n, text, sizeof text), -1);
	p = fields(&n, "starttls", "x", "y", NULL);
	assert_int_equal(tlsctl_parse_request(p, n, text, sizeof text), -1);
	p = fields(&n, "ok", "x", NULL);
	assert_int_equal(tlsctl_parse_request(p, n, text, sizeof text), -1);
}

static void test_result(void **state)
{
	struct tlsctl_result r;
	unsigned char buf[TLSCTL_FRAME_MAX];
	const unsigned char *fr, *p;
	size_t n, pn, used;

	p = fields(&n, "ok", "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL);
	assert_int_equal(tlsctl_parse_result(p, n, &r), 0);
	assert_int_equal(r.ok, 1);
	assert_string_equal(r.facts.cipher, "TLS_AES_256_GCM_SHA384");
	p = fields(&n, "fail", "timeout", NULL);
	assert_int_equal(tlsctl_parse_result(p, n, &r), 0);
	assert_int_equal(r.ok, 0);
	assert_string_equal(r.reason, "timeout");
	/* Versions below 1.2, odd cipher names, bad reasons: refused. */
	p = fields(&n, "ok", "SSLv3", "RC4-SHA", NULL);
	assert_int_equal(tlsctl_parse_result(p, n, &r), -1);
	p = fields(&n, "ok", "TLSv1.0", "AES", NULL);
	assert_int_equal(tlsctl_parse_result(p, n, &r), -1);
	p = fields(&n, "fail", "BAD!", NULL);
	assert_int_equal(tlsctl_parse_result(p, n, &r), -1);
	assert_int_equal(tlsctl_build_result(buf, sizeof buf, NULL, "Bad Reason", &n) == NULL, 1);
	fr = tlsctl_build_result(buf, sizeof buf, NULL, "handshake", &n);
	assert_non_null(fr);
	assert_int_equal(netstring_parse(fr, n, sizeof buf, &p, &pn, &used), NS_OK);
	assert_int_equal(tlsctl_parse_result(p, pn, &r), 0);
	assert_string_equal(r.reason, "handshake");
}

static void test_facts_and_keys(void **state)
{
	struct tls_facts f = { "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256" }, g;
	struct tls_ticket_keys k, k2;
	unsigned char buf[TLSFACTS_FRAME_MAX];
	const unsigned char *fr, *p;
	size_t n, pn, used;

	fr = tlsfacts_build(buf, sizeof buf, &f, &n);
	assert_non_null(fr);
	assert_int_equal(netstring_parse(fr, n, sizeof buf, &p, &pn, &used), NS_OK);
	assert_int_equal(tlsfacts_parse(p, pn, &g), 0);
	assert_string_equal(g.cipher, f.cipher);
	p = fields(&n, "tls", "TLSv1.3", "A ", NULL);
	assert_int_equal(tlsfacts_parse(p, n, &g), -1);

	memset(&k, 0, sizeof k);
	k.n = 2;
	memset(k.key[0], 1, TLS_TICKET_KEY_LEN);
	memset(k.key[1], 2, TLS_TICKET_KEY_LEN);
	fr = tlskeys_build(buf, sizeof buf, &k, &n);
	assert_non_null(fr);
	assert_int_equal(netstring_parse(fr, n, sizeof buf, &p, &pn, &used), NS_OK);
	assert_int_equal(tlskeys_parse(p, pn, &k2), 0);
	assert_memory_equal(&k, &k2, sizeof k);
	p = fields(&n, "keys", NULL);
	assert_int_equal(tlskeys_parse(p, n, &k2), 0);
	assert_int_equal(k2.n, 0);
	/* A short key is refused and nothing is left behind. */
	p = fields(&n, "keys", "ab", NULL);
	assert_int_equal(tlskeys_parse(p, n, &k2), -1);
	assert_int_equal(k2.n, 0);
}

/* The master's `ack`: exactly one field, nothing more. */
static void test_ack(void **state)
{
	unsigned char buf[TLSFACTS_FRAME_MAX];
	const unsigned char *fr, *p;
	size_t n, pn, used;

	fr = tlsack_build(buf, sizeof buf, &n);
	assert_non_null(fr);
	assert_int_equal(netstring_parse(fr, n, sizeof buf, &p, &pn, &used), NS_OK);
	assert_int_equal(tlsack_parse(p, pn), 0);
	p = fields(&n, "ack", "x", NULL);
	assert_int_equal(tlsack_parse(p, n), -1);
	p = fields(&n, "tls", NULL);
	assert_int_equal(tlsack_parse(p, n), -1);
	p = fields(&n, "acks", NULL);
	assert_int_equal(tlsack_parse(p, n), -1);
}

static void test_tlsd_args(void **state)
{
	struct tlsd_args a;
	const char *why = "";
	char *ok[] = { "postern-tlsd", "-m", "tls", "-c", "/c1", "-k", "/k1", "-c", "/c2",
	               "-k", "/k2", "-V", "1.2", "-H", "30", "-T", "600", "-u", "100",
	               "-g", "100", "-r", "/var/empty" };
	char *unpaired[] = { "postern-tlsd", "-m", "tls", "-c", "/c1", "-k", "/k1", "-c", "/c2",
	                     "-V", "1.2", "-H", "30", "-T", "600", "-u", "100",
	                     "-g", "100", "-r", "/var/empty" };
	char *rootuid[] = { "postern-tlsd", "-m", "tls", "-c", "/c1", "-k", "/k1",
	                    "-V", "1.1", "-H", "30", "-T", "600", "-u", "0",
	                    "-g", "100", "-r", "/var/empty" };

	assert_int_equal(tlsd_args_parse(23, ok, &a, &why), 0);
	assert_int_equal(a.implicit, 1);
	assert_int_equal(a.ncert, 2);
	assert_string_equal(a.key[1], "/k2");
	assert_int_equal(tlsd_args_parse(21, unpaired, &a, &why), -1);
	assert_int_equal(tlsd_args_parse(19, rootuid, &a, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_facts_and_keys),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_tlsd_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
