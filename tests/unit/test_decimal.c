/*
 * test_decimal.c — unit tests of lib/decimal.c: 0, powers of ten, the
 * largest value, and a buffer one byte too small (nothing written).
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
