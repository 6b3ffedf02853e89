/*
 * test_sasl.c — unit tests of smtpd/sasl.c: strict base64 (padding, no
 * whitespace, no trailing bytes, zero pad bits), the "=" empty response,
 * the PLAIN triple with every malformation, LOGIN fields and wiping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "../../smtpd/sasl.h"

/* base64 of raw[0..n) into b64 (ORIGINAL variant); returns its length. */
static size_t enc(char *b64, size_t cap, const void *raw, size_t n)
{
	assert_true(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) <= cap);
	sodium_bin2base64(b64, cap, raw, n, sodium_base64_VARIANT_ORIGINAL);
	return strlen(b64);
}

/* PLAIN decode of raw bytes (encoded first). */
static int plain_raw(const void *raw, size_t n, struct sasl_creds *c)
{
	char b64[2048];
	size_t len = enc(b64, sizeof b64, raw, n);
	return sasl_plain_decode(b64, len, c);
}

/* PLAIN decode of a C string. */
static int plain_str(const char *b64, struct sasl_creds *c)
{
	return sasl_plain_decode(b64, strlen(b64), c);
}

static void test_b64_strict(void **st)
{
	unsigned char out[64];

	assert_int_equal(sasl_b64_decode("YWJj", 4, out, sizeof out), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(sasl_b64_decode("YWI=", 4, out, sizeof out), 2);
	assert_int_equal(sasl_b64_decode("YQ==", 4, out, sizeof out), 1);
	assert_int_equal(sasl_b64_decode("=", 1, out, sizeof out), 0);
	assert_int_equal(sasl_b64_decode("", 0, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YQ", 2, out, sizeof out), -1);	/* no padding */
	assert_int_equal(sasl_b64_decode("YQ=", 3, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YQ===", 5, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YR==", 4, out, sizeof out), -1);	/* pad bits */
	assert_int_equal(sasl_b64_decode("YWJj ", 5, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode(" YWJj", 5, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YW Jj", 5, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YWJj\r\n", 6, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YWJjx", 5, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YWJj=", 5, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YW-j", 4, out, sizeof out), -1);	/* URL-safe */
	assert_int_equal(sasl_b64_decode("YW_j", 4, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("==", 2, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("*", 1, out, sizeof out), -1);
	const char nul[] = "YW\0j";
	assert_int_equal(sasl_b64_decode(nul, 4, out, sizeof out), -1);
	/* High-bit bytes (libsodium 1.0.18 maps some of them to digits). */
	assert_int_equal(sasl_b64_decode("YWRtaW4AUdB2LnkAcCB\xa8", 20, out, sizeof out), -1);
	assert_int_equal(sasl_b64_decode("YWJ\xe1", 4, out, sizeof out), -1);
	/* Does not fit. */
	assert_int_equal(sasl_b64_decode("YWJj", 4, out, 2), -1);
}

static void test_plain_ok(void **st)
{
	struct sasl_creds c;

	/* "\0user\0pass" */
	assert_int_equal(plain_str("AHVzZXIAcGFzcw==", &c), 0);
	assert_string_equal(c.authzid, "");
	assert_string_equal(c.login, "user");
	assert_string_equal(c.password, "pass");
	assert_int_equal(plain_raw("admin\0u@x.y\0p w\x01", 16, &c), 0);
	assert_string_equal(c.authzid, "admin");
	assert_string_equal(c.login, "u@x.y");
	assert_string_equal(c.password, "p w\x01");
}

static void test_plain_bad(void **st)
{
	struct sasl_creds c;

	assert_int_equal(plain_str("=", &c), -1);
	assert_int_equal(plain_str("", &c), -1);
	assert_int_equal(plain_str("AHVzZXIAcGFzcw== ", &c), -1);
	assert_int_equal(plain_str("AHVzZXIAcGFzcw", &c), -1);
	assert_int_equal(plain_raw("userpass", 8, &c), -1);	/* no NUL */
	assert_int_equal(plain_raw("user\0pass", 9, &c), -1);	/* one NUL */
	assert_int_equal(plain_raw("\0user\0pa\0ss", 11, &c), -1);	/* three */
	assert_int_equal(plain_raw("a\0\0pass", 7, &c), -1);	/* empty login */
	assert_int_equal(plain_raw("a\0user\0", 7, &c), -1);	/* empty password */
	assert_int_equal(plain_raw("\0\0", 2, &c), -1);
	assert_int_equal(plain_raw("\0us\rer\0pass", 11, &c), -1);
	assert_int_equal(plain_raw("\0user\0pa\nss", 11, &c), -1);
	assert_int_equal(plain_raw("a\rb\0user\0pass", 13, &c), -1);
	/* Failure leaves nothing behind. */
	assert_string_equal(c.login, "");
	assert_string_equal(c.password, "");
}

/* Fields of SASL_FIELD_MAX octets pass, one more does not. */
static void test_plain_lengths(void **st)
{
	unsigned char raw[3 * SASL_FIELD_MAX + 10];
	struct sasl_creds c;
	size_t m = SASL_FIELD_MAX;

	memset(raw, 'z', sizeof raw);
	raw[m] = '\0';
	raw[2 * m + 1] = '\0';
	assert_int_equal(plain_raw(raw, 3 * m + 2, &c), 0);
	assert_int_equal(strlen(c.authzid), m);
	assert_int_equal(strlen(c.login), m);
	assert_int_equal(strlen(c.password), m);
	assert_int_equal(plain_raw(raw, 3 * m + 3, &c), -1);	/* password + 1 */

	memset(raw, 'z', sizeof raw);
	raw[1] = '\0';
	raw[m + 3] = '\0';	/* login of m + 1 */
	assert_int_equal(plain_raw(raw, m + 6, &c), -1);
	memset(raw, 'z', sizeof raw);
	raw[m + 1] = '\0';	/* authzid of m + 1 */
	raw[m + 3] = '\0';
	assert_int_equal(plain_raw(raw, m + 6, &c), -1);
}

static void test_login(void **st)
{
	char out[SASL_FIELD_MAX + 1];
	char b64[600];
	unsigned char raw[SASL_FIELD_MAX + 1];

	assert_int_equal(sasl_login_decode("dXNlckB4Lnk=", 12, out), 0);
	assert_string_equal(out, "user@x.y");
	assert_int_equal(sasl_login_decode("=", 1, out), -1);
	assert_int_equal(sasl_login_decode("", 0, out), -1);
	assert_int_equal(sasl_login_decode("dXNl\n", 5, out), -1);
	assert_int_equal(sasl_login_decode(b64, enc(b64, sizeof b64, "a\0b", 3), out), -1);
	assert_int_equal(sasl_login_decode(b64, enc(b64, sizeof b64, "a\rb", 3), out), -1);
	memset(raw, 'q', sizeof raw);
	assert_int_equal(sasl_login_decode(b64, enc(b64, sizeof b64, raw, SASL_FIELD_MAX), out), 0);
	assert_int_equal(strlen(out), SASL_FIELD_MAX);
	assert_int_equal(sasl_login_decode(b64, enc(b64, sizeof b64, raw, SASL_FIELD_MAX + 1), out), -1);
	assert_string_equal(out, "");
}

static void test_wipe(void **st)
{
	struct sasl_creds c;
	static const struct sasl_creds zero;

	assert_int_equal(plain_str("AHVzZXIAcGFzcw==", &c), 0);
	sasl_creds_wipe(&c);
	assert_memory_equal(&c, &zero, sizeof c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_strict),
		cmocka_unit_test(test_plain_ok),
		cmocka_unit_test(test_plain_bad),
		cmocka_unit_test(test_plain_lengths),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
