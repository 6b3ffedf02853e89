/*
 * test_envgrammar.c — unit tests of the shared envelope grammar,
 * lib/mailbox.c and lib/dsnparam.c: what it accepts and what it reports
 * (kind, address, UTF-8), its limits to the octet, the stored-form checks
 * queued and the workers make, and that every address and parameter
 * smtpd accepts (smtpd/mailarg.c) passes those checks too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dsnparam.h"
#include "mailbox.h"
#include "../../smtpd/mailarg.h"

/* mailbox_parse on a C string. */
static enum mailbox_status parse(const char *s, struct mailbox *m)
{
	return mailbox_parse((const unsigned char *)s, strlen(s), m);
}

/* s repeated to n octets into buf (NUL-terminated). */
static char *fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_mailbox_forms(void **state)
{
	struct mailbox m;

	(void)state;
	assert_int_equal(parse("a@example.net", &m), MAILBOX_OK);
	assert_int_equal(m.at, 1);
	assert_int_equal(m.domain.kind, MAILBOX_DNS);
	assert_false(m.utf8);
	/* A quoted local part with spaces and an '@' (RFC 5321 §4.1.2). */
	assert_int_equal(parse("\"a b@c\"@example.net", &m), MAILBOX_OK);
	assert_int_equal(m.at, 7);
	assert_int_equal(parse("\"a\\\"b\"@x.y", &m), MAILBOX_OK);
	assert_int_equal(parse("\"a\tb\"@x.y", &m), MAILBOX_BAD);
	assert_int_equal(parse("a b@x.y", &m), MAILBOX_BAD);
	assert_int_equal(parse("a@x.y.", &m), MAILBOX_BAD);
	assert_int_equal(parse("a@", &m), MAILBOX_BAD);
	assert_int_equal(parse("@x.y", &m), MAILBOX_BAD);
	assert_int_equal(parse("", &m), MAILBOX_BAD);
	assert_int_equal(mailbox_parse((const unsigned char *)"a@x\0y", 5, &m), MAILBOX_BAD);
}

static void test_mailbox_literals(void **state)
{
	static const unsigned char v4[4] = { 192, 0, 2, 1 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct mailbox m;

	(void)state;
	assert_int_equal(parse("a@[192.0.2.1]", &m), MAILBOX_OK);
	assert_int_equal(m.domain.kind, MAILBOX_IPV4);
	assert_memory_equal(m.domain.ip, v4, 4);
	assert_int_equal(parse("a@[IPv6:2001:db8::1]", &m), MAILBOX_OK);
	assert_int_equal(m.domain.kind, MAILBOX_IPV6);
	assert_memory_equal(m.domain.ip, v6, 16);
	assert_int_equal(parse("a@[ipv6:2001:db8::1]", &m), MAILBOX_OK);
	assert_int_equal(parse("a@[x-tag:content]", &m), MAILBOX_LITERAL_TAG);
	assert_int_equal(parse("a@[x-tag:con[tent]", &m), MAILBOX_BAD);
	assert_int_equal(parse("a@[192.0.2.256]", &m), MAILBOX_BAD);
	assert_int_equal(parse("a@[IPv6:192.0.2.1]", &m), MAILBOX_BAD);
	assert_int_equal(parse("a@[2001:db8::1]", &m), MAILBOX_LITERAL_TAG); /* tag "2001" */
	assert_int_equal(parse("a@[]", &m), MAILBOX_BAD);
	assert_int_equal(parse("a@192.0.2.1]", &m), MAILBOX_BAD);
}

static void test_mailbox_utf8(void **state)
{
	struct mailbox m;

	(void)state;
	assert_int_equal(parse("a@b\xc3\xbc" "cher.example", &m), MAILBOX_OK);
	assert_true(m.utf8);
	assert_true(m.domain.utf8);
	assert_int_equal(parse("\xc3\xa9@x.y", &m), MAILBOX_OK);
	assert_true(m.utf8);
	assert_false(m.domain.utf8);
	assert_int_equal(parse("\xc0\xa9@x.y", &m), MAILBOX_BAD);	/* overlong */
	assert_int_equal(parse("a@\xed\xa0\x80.y", &m), MAILBOX_BAD);	/* surrogate */
	assert_int_equal(parse("a@x\xc3", &m), MAILBOX_BAD);	/* truncated */
}

static void test_mailbox_limits(void **state)
{
	char buf[600], dom[300];
	struct mailbox m;

	(void)state;
	/* Local part: 64 octets, 65 too long. */
	fill(buf, 'l', 64);
	memcpy(buf + 64, "@x.y", 5);
	assert_int_equal(parse(buf, &m), MAILBOX_OK);
	fill(buf, 'l', 65);
	memcpy(buf + 65, "@x.y", 5);
	assert_int_equal(parse(buf, &m), MAILBOX_LOCAL_LONG);
	/* A 64-octet label is too long. */
	fill(dom, 'd', 64);
	memcpy(buf, "a@", 2);
	memcpy(buf + 2, dom, 65);
	assert_int_equal(parse(buf, &m), MAILBOX_BAD);
	/* Mailbox: 254 octets ok, 255 too long (a 252- and 253-octet domain). */
	for (size_t i = 0; i < 252; i++)
		dom[i] = i % 50 == 49 ? '.' : 'd';
	dom[252] = '\0';
	memcpy(buf, "a@", 2);
	memcpy(buf + 2, dom, 253);
	assert_int_equal(strlen(buf), 254);
	assert_int_equal(parse(buf, &m), MAILBOX_OK);
	memcpy(buf, "ab@", 3);
	memcpy(buf + 3, dom, 253);
	assert_int_equal(parse(buf, &m), MAILBOX_LONG);
}

static void test_stored_checks(void **state)
{
	const unsigned char *u = (const unsigned char *)"\xc3\xa9@x.y";

	(void)state;
	assert_true(mailbox_sender_ok((const unsigned char *)"", 0, 0));
	assert_false(mailbox_rcpt_ok((const unsigned char *)"", 0, 0));
	assert_true(mailbox_rcpt_ok((const unsigned char *)"PostMaster", 10, 0));
	assert_false(mailbox_sender_ok((const unsigned char *)"postmaster", 10, 0));
	assert_false(mailbox_rcpt_ok(u, 6, 0));
	assert_true(mailbox_rcpt_ok(u, 6, 1));
	assert_false(mailbox_rcpt_ok((const unsigned char *)"a@[x-tag:y]", 11, 1));
	assert_true(mailbox_rcpt_ok((const unsigned char *)"\"a b\"@x.y", 9, 0));
	assert_false(mailbox_rcpt_ok((const unsigned char *)"a@x.y>", 6, 0));
	assert_false(mailbox_rcpt_ok((const unsigned char *)"a@x.y\r\n", 7, 0));
}

static void test_dsn_params(void **state)
{
	char buf[600];
	unsigned bits;

	(void)state;
	/* ENVID: 100 decoded octets from 300 raw ones is fine, 101 is not. */
	buf[0] = '\0';
	for (int i = 0; i < 100; i++)
		memcpy(buf + 3 * i, "+2B", 4);
	assert_int_equal(strlen(buf), 300);
	assert_true(dsn_envid_ok((const unsigned char *)buf, 300));
	assert_false(dsn_envid_ok((const unsigned char *)fill(buf, 'e', 101), 101));
	assert_true(dsn_envid_ok((const unsigned char *)fill(buf, 'e', 100), 100));
	assert_false(dsn_envid_ok((const unsigned char *)"a+2b", 4));	/* lower-case hex */
	assert_false(dsn_envid_ok((const unsigned char *)"a=b", 3));
	assert_true(dsn_stored_envid_ok((const unsigned char *)"", 0));
	/* NOTIFY */
	assert_int_equal(dsn_notify_parse((const unsigned char *)"NEVER", 5, &bits), 0);
	assert_int_equal(bits, DSN_NOTIFY_NEVER);
	assert_int_equal(dsn_notify_parse((const unsigned char *)"delay,Success,FAILURE", 21,
	                                  &bits), 0);
	assert_int_equal(bits, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
	assert_int_equal(dsn_notify_parse((const unsigned char *)"NEVER,DELAY", 11, &bits), -1);
	assert_int_equal(dsn_notify_parse((const unsigned char *)"DELAY,DELAY", 11, &bits), -1);
	assert_false(dsn_stored_notify_ok((const unsigned char *)fill(buf, 'A', 65), 65));
	/* ORCPT: 500 octets in all, 501 too long. */
	memcpy(buf, "rfc822;", 7);
	fill(buf + 7, 'o', 493);
	assert_true(dsn_orcpt_ok((const unsigned char *)buf, 500));
	fill(buf + 7, 'o', 494);
	assert_false(dsn_orcpt_ok((const unsigned char *)buf, 501));
	assert_false(dsn_orcpt_ok((const unsigned char *)"rfc822", 6));
	assert_false(dsn_orcpt_ok((const unsigned char *)"rfc_822;a", 9));
	/* RET */
	assert_string_equal(dsn_ret_word((const unsigned char *)"Hdrs", 4), "hdrs");
	assert_null(dsn_ret_word((const unsigned char *)"FULLY", 5));
	assert_true(dsn_stored_ret_ok((const unsigned char *)"full", 4));
	assert_false(dsn_stored_ret_ok((const unsigned char *)"FULL", 4));
}

/* What smtpd accepts, queued's and the workers' checks accept. */
static void test_smtpd_acceptance_carries(void **state)
{
	static const char *const rcpts[] = {
		"<\"a b\"@example.net> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+20b@example.net",
		"<a@[192.0.2.1]>", "<a@[IPv6:2001:db8::1]>", "<postmaster>",
		"<@relay.example:a@example.net> NOTIFY=NEVER",
	};
	static const char u8[] = "<b@b\xc3\xbc" "cher.example>";
	struct mail_arg a;
	struct mailarg_error e;
	char envid[400];

	(void)state;
	for (size_t i = 0; i < sizeof rcpts / sizeof rcpts[0]; i++) {
		assert_int_equal(mailarg_parse_rcpt(rcpts[i], strlen(rcpts[i]), 0, &a, &e), 0);
		assert_true(mailbox_rcpt_ok((const unsigned char *)a.path, strlen(a.path), 0));
		assert_true(dsn_stored_notify_ok((const unsigned char *)a.notify, strlen(a.notify)));
		assert_true(dsn_stored_orcpt_ok((const unsigned char *)a.orcpt, strlen(a.orcpt)));
	}
	memcpy(envid, "<a@x.y> RET=HDRS ENVID=", 23);
	for (int i = 0; i < 100; i++)
		memcpy(envid + 23 + 3 * i, "+41", 4);
	assert_int_equal(mailarg_parse_mail(envid, strlen(envid), &a, &e), 0);
	assert_true(dsn_stored_envid_ok((const unsigned char *)a.envid, strlen(a.envid)));
	assert_true(dsn_stored_ret_ok((const unsigned char *)a.ret, strlen(a.ret)));
	assert_int_equal(mailarg_parse_rcpt(u8, strlen(u8), 1, &a, &e), 0);
	assert_true(mailbox_rcpt_ok((const unsigned char *)a.path, strlen(a.path), 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailbox_forms),
		cmocka_unit_test(test_mailbox_literals),
		cmocka_unit_test(test_mailbox_utf8),
		cmocka_unit_test(test_mailbox_limits),
		cmocka_unit_test(test_stored_checks),
		cmocka_unit_test(test_dsn_params),
		cmocka_unit_test(test_smtpd_acceptance_carries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
