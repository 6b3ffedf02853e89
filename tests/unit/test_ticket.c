/*
 * test_ticket.c — session tickets: a ticket verifies only for the session
 * and login it was made for, under the key it was made with (invariant 4:
 * identity comes from authd).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "ticket.h"

static unsigned char key[TICKET_KEY_LEN];
static const char sid_a[RANDID_LEN + 1] = "aaaaaaaaaaaaaaaaaaaa";
static const char sid_b[RANDID_LEN + 1] = "aaaaaaaaaaaaaaaaaaab";

static int setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_auth_keygen(key);
	return 0;
}

static size_t make(unsigned char *t, const char *sid, const char *login)
{
	return ticket_make(t, TICKET_MAX, key, sid, login, strlen(login));
}

static void test_roundtrip(void **state)
{
	unsigned char t[TICKET_MAX];
	char login[TICKET_LOGIN_MAX + 1];
	size_t n = make(t, sid_a, "alice@example.org");

	(void)state;
	assert_int_equal(n, TICKET_TAG_LEN + strlen("alice@example.org"));
	assert_int_equal(ticket_verify(t, n, key, sid_a, login, sizeof login), 0);
	assert_string_equal(login, "alice@example.org");
}

static void test_other_session_refused(void **state)
{
	unsigned char t[TICKET_MAX];
	char login[TICKET_LOGIN_MAX + 1];
	size_t n = make(t, sid_a, "alice@example.org");

	(void)state;
	assert_int_equal(ticket_verify(t, n, key, sid_b, login, sizeof login), -1);
}

static void test_modified_login_refused(void **state)
{
	unsigned char t[TICKET_MAX];
	char login[TICKET_LOGIN_MAX + 1];
	size_t n = make(t, sid_a, "alice@example.org");

	(void)state;
	t[TICKET_TAG_LEN] = 'm';	/* "mlice@example.org" */
	assert_int_equal(ticket_verify(t, n, key, sid_a, login, sizeof login), -1);
	/* Truncating the login, or appending to it, breaks the tag too. */
	t[TICKET_TAG_LEN] = 'a';
	assert_int_equal(ticket_verify(t, n - 1, key, sid_a, login, sizeof login), -1);
	t[n] = 'x';
	assert_int_equal(ticket_verify(t, n + 1, key, sid_a, login, sizeof login), -1);
}

static void test_modified_tag_refused(void **state)
{
	unsigned char t[TICKET_MAX];
	char login[TICKET_LOGIN_MAX + 1];
	size_t n = make(t, sid_a, "bob@example.org");
	size_t i;

	(void)state;
	for (i = 0; i < TICKET_TAG_LEN; i++) {
		t[i] ^= 0x01;
		assert_int_equal(ticket_verify(t, n, key, sid_a, login, sizeof login), -1);
		t[i] ^= 0x01;
	}
	assert_int_equal(ticket_verify(t, n, key, sid_a, login, sizeof login), 0);
}

static void test_other_key_refused(void **state)
{
	unsigned char t[TICKET_MAX], other[TICKET_KEY_LEN];
	char login[TICKET_LOGIN_MAX + 1];
	size_t n = make(t, sid_a, "bob@example.org");

	(void)state;
	crypto_auth_keygen(other);
	assert_int_equal(ticket_verify(t, n, other, sid_a, login, sizeof login), -1);
}

static void test_bad_shapes(void **state)
{
	unsigned char t[TICKET_MAX + 8];
	char login[TICKET_LOGIN_MAX + 1], small[4];
	char longname[TICKET_LOGIN_MAX + 2];
	size_t n;

	(void)state;
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(make(t, sid_a, ""), 0);
	assert_int_equal(make(t, sid_a, longname), 0);
	assert_int_equal(ticket_make(t, 10, key, sid_a, "a@b", 3), 0);
	assert_int_equal(ticket_make(t, TICKET_MAX, key, sid_a, "a\0b", 3), 0);
	/* Only a tag, no login; empty input. */
	n = make(t, sid_a, "a@b");
	assert_int_equal(ticket_verify(t, TICKET_TAG_LEN, key, sid_a, login, sizeof login), -1);
	assert_int_equal(ticket_verify(t, 0, key, sid_a, login, sizeof login), -1);
	/* A login that does not fit the caller's buffer is refused, not cut. */
	assert_int_equal(ticket_verify(t, n, key, sid_a, small, 3), -1);
	assert_int_equal(ticket_verify(t, n, key, sid_a, small, sizeof small), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_other_session_refused),
		cmocka_unit_test(test_modified_login_refused),
		cmocka_unit_test(test_modified_tag_refused),
		cmocka_unit_test(test_other_key_refused),
		cmocka_unit_test(test_bad_shapes),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
