/*
 * test_hostname.c — unit tests of lib/hostname.c: label and name length
 * limits, hyphens, dots, characters outside LDH, an embedded NUL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hostname.h"

/* hostname_valid on a C string. */
static int ok(const char *s)
{
	return hostname_valid(s, strlen(s));
}

/* Shapes that pass and fail. */
static void test_shapes(void **state)
{
	assert_true(ok("x"));
	assert_true(ok("a-b.example.org"));
	assert_true(ok("3com.example"));	/* RFC 1123 §2.1: leading digit */
	assert_true(ok("xn--bcher-kva.example"));
	assert_true(ok("MX.Example.ORG"));
	assert_false(ok(""));
	assert_false(ok(".a"));
	assert_false(ok("a."));			/* the trailing dot is EHLO's to strip */
	assert_false(ok("a..b"));
	assert_false(ok("-a.b"));
	assert_false(ok("a-.b"));
	assert_false(ok("a.-b"));
	assert_false(ok("a_b"));
	assert_false(ok("a b"));
	assert_false(ok("a\r\n250"));
	assert_false(ok("\xc3\xa9.example"));
	assert_false(hostname_valid("ab\0c", 4));
}

/* Labels of 63 pass, 64 fail; a name of 253 passes, 255 fails. */
static void test_lengths(void **state)
{
	char label[70], name[300];

	memset(label, 'a', sizeof label);
	assert_true(hostname_valid(label, 63));
	assert_false(hostname_valid(label, 64));
	for (int i = 0; i < 300; i++)
		name[i] = i % 2 ? '.' : 'a';
	assert_true(hostname_valid(name, 253));
	assert_false(hostname_valid(name, 255));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
