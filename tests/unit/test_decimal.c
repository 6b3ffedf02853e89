/*
 * test_decimal.c — unit tests of lib/decimal.c: 0, powers of ten, the
 * largest value, and a buffer one byte too small (nothing written); and
 * reading numbers back (range, leading zeros, signs, blanks, 19 digits).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "decimal.h"

/* v formats to want exactly, and nothing past it is touched. */
static void expect(uint64_t v, const char *want)
{
	char out[U64_DEC_MAX + 2];
	size_t n = strlen(want);

	memset(out, 'X', sizeof out);
	assert_int_equal(u64_to_dec(out, sizeof out, v), n);
	assert_memory_equal(out, want, n);
	assert_int_equal(out[n], 'X');
}

/* Edge values. */
static void test_values(void **state)
{
	expect(0, "0");
	expect(7, "7");
	expect(10, "10");
	expect(999, "999");
	expect(1000, "1000");
	expect(25 * 1024 * 1024, "26214400");
	expect(UINT64_MAX, "18446744073709551615");
}

/* A buffer exactly as long as the digits fits; one shorter gets nothing. */
static void test_capacity(void **state)
{
	char out[U64_DEC_MAX];

	assert_int_equal(u64_to_dec(out, 3, 123), 3);
	assert_memory_equal(out, "123", 3);
	memset(out, 'X', sizeof out);
	assert_int_equal(u64_to_dec(out, 2, 123), 0);
	assert_int_equal(out[0], 'X');
	assert_int_equal(u64_to_dec(out, 0, 0), 0);
	assert_int_equal(u64_to_dec(out, sizeof out, UINT64_MAX), U64_DEC_MAX);
	assert_int_equal(u64_to_dec(out, sizeof out - 1, UINT64_MAX), 0);
}

/* Reading: one spelling per number, range checked, *out kept on failure. */
static void test_from_dec(void **state)
{
	uint64_t v = 42;

	assert_int_equal(u64_from_dec("0", 0, 10, &v), 0);
	assert_true(v == 0);
	assert_int_equal(u64_from_dec("65535", 0, 65535, &v), 0);
	assert_true(v == 65535);
	assert_int_equal(u64_from_dec("9999999999999999999", 0, UINT64_MAX, &v), 0);
	assert_true(v == 9999999999999999999ULL);
	v = 42;
	assert_int_equal(u64_from_dec("65536", 0, 65535, &v), -1);
	assert_int_equal(u64_from_dec("0", 1, 10, &v), -1);
	assert_int_equal(u64_from_dec("", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec("07", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec("00", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec("+7", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec("-7", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec(" 7", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec("7 ", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec("0x7", 0, 10, &v), -1);
	assert_int_equal(u64_from_dec("10000000000000000000", 0, UINT64_MAX, &v), -1);
	assert_int_equal(u64_from_dec("18446744073709551616", 0, UINT64_MAX, &v), -1);
	assert_true(v == 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_from_dec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
