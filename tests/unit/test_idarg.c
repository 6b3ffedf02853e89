/*
 * test_idarg.c — unit tests of lib/idarg.c: the range 1..2^32-2 (never
 * root, never "no id"), one spelling per number, and -u/-g going to the
 * right field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "idarg.h"

/* The accepted range and its edges. */
static void test_range(void **state)
{
	unsigned id = 7;

	assert_int_equal(idarg_parse("1", &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(idarg_parse("65534", &id), 0);
	assert_int_equal(id, 65534);
	assert_int_equal(idarg_parse("4294967294", &id), 0);
	assert_int_equal(id, 4294967294u);
	id = 7;
	assert_int_equal(idarg_parse("0", &id), -1);
	assert_int_equal(idarg_parse("4294967295", &id), -1);
	assert_int_equal(idarg_parse("18446744073709551617", &id), -1);
	assert_int_equal(id, 7);
	(void)state;
}

/* One text per number: no sign, blank, leading zero or other byte. */
static void test_spelling(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "01", "007", "1x", "0x10", "1e3", "\xd9\xa1",
	};
	unsigned id = 7;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (idarg_parse(bad[i], &id) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(idarg_parse(NULL, &id), -1);
	assert_int_equal(id, 7);
	(void)state;
}

/* -u sets the uid only, -g the gid only; other letters are refused. */
static void test_apply(void **state)
{
	uid_t uid = 5;
	gid_t gid = 6;

	assert_int_equal(idarg_apply('u', "1000", &uid, &gid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 6);
	assert_int_equal(idarg_apply('g', "2000", &uid, &gid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 2000);
	assert_int_equal(idarg_apply('u', "0", &uid, &gid), -1);
	assert_int_equal(idarg_apply('x', "10", &uid, &gid), -1);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 2000);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_spelling),
		cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
