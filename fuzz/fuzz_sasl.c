/*
 * fuzz_sasl.c — libFuzzer target for smtpd/sasl.c.
 *
 * The input is one client response.  Aborts unless:
 *  - whatever sasl_b64_decode accepts (but "=") is canonical: encoding
 *    the result again gives back exactly the input (strictness);
 *  - an accepted PLAIN triple has a login and a password, fields of at
 *    most SASL_FIELD_MAX octets without CR/LF, and joined with two NULs
 *    equals the decoded bytes; a refused one leaves the struct zeroed;
 *  - an accepted LOGIN field equals the decoded bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "../smtpd/sasl.h"

#define MAXDEC 1024

/* Abort unless cond. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* A field's invariants. */
static void check_field(const char *f, size_t cap)
{
	const char *z = memchr(f, '\0', cap);
	check(z != NULL);
	check(strchr(f, '\r') == NULL && strchr(f, '\n') == NULL);
}

/* PLAIN must match the raw decoding dec[0..n). */
static void check_plain(const char *in, size_t len, const unsigned char *dec, long n)
{
	static struct sasl_creds c;
	static const struct sasl_creds zero;
	unsigned char join[3 * SASL_FIELD_MAX + 2];

	if (sasl_plain_decode(in, len, &c) != 0) {
		check(memcmp(&c, &zero, sizeof c) == 0);
		return;
	}
	check(n > 0);
	check_field(c.authzid, sizeof c.authzid);
	check_field(c.login, sizeof c.login);
	check_field(c.password, sizeof c.password);
	size_t a = strlen(c.authzid), l = strlen(c.login), p = strlen(c.password);
	check(l > 0 && p > 0);
	memcpy(join, c.authzid, a);
	join[a] = '\0';
	memcpy(join + a + 1, c.login, l);
	join[a + 1 + l] = '\0';
	memcpy(join + a + l + 2, c.password, p);
	check((size_t)n == a + l + p + 2 && memcmp(join, dec, (size_t)n) == 0);
	sasl_creds_wipe(&c);
	check(memcmp(&c, &zero, sizeof c) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char dec[MAXDEC];
	static char again[2 * MAXDEC];
	char field[SASL_FIELD_MAX + 1];
	const char *in = (const char *)data;

	if (size > 1500)
		return 0;
	long n = sasl_b64_decode(in, size, dec, sizeof dec);
	check(n >= -1 && n <= MAXDEC);
	if (n > 0) {
		sodium_bin2base64(again, sizeof again, dec, (size_t)n,
		                  sodium_base64_VARIANT_ORIGINAL);
		check(strlen(again) == size && memcmp(again, in, size) == 0);
	} else if (n == 0) {
		check(size == 1 && in[0] == '=');
	}
	check_plain(in, size, dec, n);
	if (sasl_login_decode(in, size, field) == 0) {
		check(n > 0 && strlen(field) == (size_t)n);
		check(memcmp(field, dec, (size_t)n) == 0);
		check_field(field, sizeof field);
	}
	return 0;
}
