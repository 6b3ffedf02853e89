/*
 * test_deliver_idna.c — unit tests of deliver/idna.c: a U-label domain's
 * A-labels for the MX lookup (IDNA2008 with libidn2), an ASCII name kept,
 * and a name IDNA refuses (or one whose A-labels are no host name) -1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "idna.h"

static void test_u_labels_to_a_labels(void **state)
{
	char out[HOSTNAME_MAX + 1];

	(void)state;
	assert_int_equal(idna_to_host("b\xc3\xbc" "cher.example", out), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(idna_to_host("caf\xc3\xa9.test", out), 0);
	assert_string_equal(out, "xn--caf-dma.test");
	assert_int_equal(idna_to_host("mail.example.net", out), 0);
	assert_string_equal(out, "mail.example.net");
}

static void test_refused(void **state)
{
	char out[HOSTNAME_MAX + 1], big[200];

	(void)state;
	/* U+2764 HEAVY BLACK HEART is not valid in IDNA2008 */
	assert_int_equal(idna_to_host("\xe2\x9d\xa4.example", out), -1);
	/* 60 two-octet letters: an A-label over 63 octets */
	for (int i = 0; i < 60; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	memcpy(big + 120, ".example", 9);
	assert_int_equal(idna_to_host(big, out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u_labels_to_a_labels),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
