/*
 * test_crlfcheck.c — lib/crlfcheck.c: bare CR, bare LF, NUL and a last
 * line without CRLF are found wherever they are (header or body), and
 * the answer is the same whether the bytes come whole, byte by byte, or
 * split at every point in two (a CRLF across two pieces is clean, a CR
 * ending one piece is bare unless the next starts with LF).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crlfcheck.h"

/* crlf_finish of s fed whole; asserts the same for every other split. */
static unsigned flags_of(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct crlfcheck c;
	unsigned whole;

	crlf_init(&c);
	crlf_feed(&c, p, n);
	whole = crlf_finish(&c);
	crlf_init(&c);
	for (size_t i = 0; i < n; i++)
		crlf_feed(&c, p + i, 1);
	assert_int_equal(crlf_finish(&c), whole);
	for (size_t cut = 0; cut <= n; cut++) {
		crlf_init(&c);
		crlf_feed(&c, p, cut);
		crlf_feed(&c, p + cut, 0);
		crlf_feed(&c, p + cut, n - cut);
		assert_int_equal(crlf_finish(&c), whole);
	}
	return whole;
}

#define FLAGS(lit) flags_of(lit, sizeof lit - 1)

static void test_clean(void **state)
{
	(void)state;
	assert_int_equal(FLAGS(""), 0);	/* the empty message (".\r\n" at once) */
	assert_int_equal(FLAGS("\r\n"), 0);
	assert_int_equal(FLAGS("From: a@b\r\nSubject: x\r\n\r\nbody\r\n"), 0);
	assert_int_equal(FLAGS("\r\n\r\n.\r\n..\r\n"), 0);
}

/* Anywhere in the message, the body too. */
static void test_bare(void **state)
{
	(void)state;
	assert_int_equal(FLAGS("Subject: x\nFrom: victim@example.org\r\n\r\nx\r\n"), CRLF_BARE);
	assert_int_equal(FLAGS("Subject: x\rFrom: victim@example.org\r\n\r\nx\r\n"), CRLF_BARE);
	assert_int_equal(FLAGS("\nFrom: a@b\r\n\r\n"), CRLF_BARE);
	assert_int_equal(FLAGS("From: a@b\r\r\n\r\n"), CRLF_BARE);
	assert_int_equal(FLAGS("From: a@b\r\n\r\nbody\r\n\r.\r\nmore\r\n"), CRLF_BARE);
	assert_int_equal(FLAGS("From: a@b\r\n\r\nbody\r\n\n.\n"), CRLF_BARE);
	assert_int_equal(FLAGS("From: a@b\r\n\r\nbody\r\n.\n\r\n"), CRLF_BARE);
	assert_int_equal(FLAGS("From: a@b\r\n\r\nb\rody\r\n"), CRLF_BARE);
	/* a CR at the very end: bare (nothing can follow it) */
	assert_int_equal(FLAGS("From: a@b\r\n\r\nbody\r"), CRLF_BARE);
	assert_int_equal(FLAGS("\r"), CRLF_BARE);
	assert_int_equal(FLAGS("\n"), CRLF_BARE);
}

static void test_nul(void **state)
{
	(void)state;
	assert_int_equal(FLAGS("Subject: x\0y\r\n\r\n"), CRLF_NUL);
	assert_int_equal(FLAGS("From: a@b\r\n\r\nb\0dy\r\n"), CRLF_NUL);
	assert_int_equal(FLAGS("a\0\nb\r\n"), CRLF_NUL | CRLF_BARE);
}

/* smtpd always sends an empty message or one ending in CRLF. */
static void test_unended(void **state)
{
	(void)state;
	assert_int_equal(FLAGS("From: a@b\r\n\r\nno newline"), CRLF_UNENDED);
	assert_int_equal(FLAGS("x"), CRLF_UNENDED);
	assert_int_equal(FLAGS("x\n"), CRLF_BARE);
}

/* The pieces as queued gets them: the state goes across. */
static void test_split_pieces(void **state)
{
	struct crlfcheck c;

	(void)state;
	crlf_init(&c);
	crlf_feed(&c, (const unsigned char *)"a\r", 2);
	crlf_feed(&c, (const unsigned char *)"\nb\r\n", 4);
	assert_int_equal(crlf_finish(&c), 0);
	crlf_init(&c);
	crlf_feed(&c, (const unsigned char *)"a\r", 2);
	assert_int_equal(crlf_finish(&c), CRLF_BARE);	/* so far */
	crlf_feed(&c, (const unsigned char *)".\r\n", 3);
	assert_int_equal(crlf_finish(&c), CRLF_BARE);
	crlf_init(&c);
	crlf_feed(&c, (const unsigned char *)"a\r\n", 3);
	crlf_feed(&c, (const unsigned char *)"\n", 1);
	assert_int_equal(crlf_finish(&c), CRLF_BARE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_bare),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_unended),
		cmocka_unit_test(test_split_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
