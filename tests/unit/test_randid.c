/*
 * test_randid.c — unit tests of lib/randid.c: length, alphabet, and that
 * ids do not repeat and use every character.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "randid.h"

/* Length, terminator and alphabet. */
static void test_shape(void **state)
{
	char id[RANDID_LEN + 2];

	memset(id, 'X', sizeof(id));
	randid_make(id);
	assert_int_equal(strlen(id), RANDID_LEN);
	assert_int_equal(id[RANDID_LEN + 1], 'X');	/* nothing past the NUL */
	for (size_t i = 0; i < RANDID_LEN; i++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", id[i]));
}

/* 2000 ids: all distinct, all 32 characters seen, no others. */
static void test_distinct(void **state)
{
	static char ids[2000][RANDID_LEN + 1];
	int seen[256] = { 0 };
	int kinds = 0;

	for (int i = 0; i < 2000; i++) {
		randid_make(ids[i]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
		for (int k = 0; k < RANDID_LEN; k++)
			seen[(unsigned char)ids[i][k]]++;
	}
	for (int c = 0; c < 256; c++)
		if (seen[c])
			kinds++;
	assert_int_equal(kinds, 32);
	assert_int_equal(seen['1'] + seen['0'] + seen['8'] + seen['9'], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_distinct),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
