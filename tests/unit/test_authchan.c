/*
 * test_authchan.c — unit tests of lib/authchan.c, the smtpd <-> authd
 * grammar both ends link: each frame a writer makes reads back the same;
 * the writers refuse what the readers would refuse (so an end cannot send
 * what the other closes the channel over); a parse failure leaves nothing
 * behind, the password included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "authchan.h"
#include "netstring.h"

/* The payload of a finished frame. */
static void payload(const unsigned char *f, size_t n, const unsigned char **p, size_t *pl)
{
	size_t used;

	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, AUTHCHAN_FRAME_MAX, p, pl, &used), NS_OK);
	assert_int_equal(used, n);
}

static void test_request(void **state)
{
	unsigned char buf[AUTHCHAN_FRAME_MAX];
	struct authchan_request r;
	const unsigned char *f, *p;
	char big[AUTHCHAN_FIELD_MAX + 2];
	size_t n, pl;

	(void)state;
	f = authchan_write_request(buf, sizeof buf, &n, "plain", "", "a@x.y", "pw d");
	payload(f, n, &p, &pl);
	assert_int_equal(authchan_read_request(p, pl, &r), 0);
	assert_string_equal(r.mech, "plain");
	assert_string_equal(r.login, "a@x.y");
	assert_string_equal(r.password, "pw d");
	assert_int_equal(r.password_len, 4);
	assert_null(authchan_write_request(buf, sizeof buf, &n, "cram", "", "a", "p"));
	assert_null(authchan_write_request(buf, sizeof buf, &n, "login", "", "", "p"));
	assert_null(authchan_write_request(buf, sizeof buf, &n, "login", "", "a", ""));
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_null(authchan_write_request(buf, sizeof buf, &n, "login", "", "a", big));
	/* one byte short of the frame: nothing is left behind */
	assert_int_equal(authchan_read_request(p, pl - 1, &r), -1);
	assert_int_equal(r.password[0], 0);
	assert_int_equal(r.password_len, 0);
}

static void test_answers(void **state)
{
	unsigned char buf[AUTHCHAN_FRAME_MAX];
	static const unsigned char tk[3] = { 1, 0, 2 };
	struct authchan_answer a;
	const unsigned char *f, *p;
	size_t n, pl;

	(void)state;
	f = authchan_write_ok(buf, sizeof buf, &n, tk, sizeof tk);
	payload(f, n, &p, &pl);
	assert_int_equal(authchan_read_answer(p, pl, &a), 0);
	assert_int_equal(a.kind, AUTHCHAN_OK);
	assert_int_equal(a.ticket_len, 3);
	assert_memory_equal(a.ticket, tk, 3);
	f = authchan_write_no(buf, sizeof buf, &n, 535, "5.7.8 Authentication credentials invalid");
	payload(f, n, &p, &pl);
	assert_int_equal(authchan_read_answer(p, pl, &a), 0);
	assert_int_equal(a.kind, AUTHCHAN_NO);
	assert_int_equal(a.code, 535);
	assert_string_equal(a.text, "5.7.8 Authentication credentials invalid");
	assert_null(authchan_write_no(buf, sizeof buf, &n, 250, "2.0.0 no"));
	assert_null(authchan_write_no(buf, sizeof buf, &n, 535, "bad\r\ntext"));
	assert_null(authchan_write_no(buf, sizeof buf, &n, 535, ""));
	assert_null(authchan_write_ok(buf, sizeof buf, &n, tk, 0));
	assert_int_equal(authchan_read_answer((const unsigned char *)"2:ok,", 5, &a), -1);
	assert_int_equal(authchan_read_answer((const unsigned char *)"2:no,3:250,1:x,", 15, &a), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
