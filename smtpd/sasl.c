/*
 * sasl.c — decoding AUTH PLAIN and AUTH LOGIN client responses
 * (RFC 4954 §4 responses, RFC 4616 PLAIN).
 *
 * Process: postern-smtpd (also unit and fuzz tests).
 * Descriptors: none.  Pure: no I/O, no allocation; decoded secrets live
 * only in the caller's struct and in a stack buffer wiped before return.
 *
 * Grammar: a response is base64 (RFC 4648 §4 alphabet, padding required,
 * no whitespace, no trailing bytes, unused bits zero: libsodium's strict
 * decoder), or "=" alone for an empty response (RFC 4954 §4).
 * PLAIN: message = [authzid] NUL authcid NUL passwd (RFC 4616 §2), i.e.
 * exactly two NULs; authzid may be empty, authcid and passwd may not.
 *
 * Failure policy: anything else is malformed (-1) and the output is wiped;
 * the engine answers 501 5.5.2 and authd never sees it.  Fields holding
 * CR or LF are refused too, so they can never split a log line or frame.
 */
#include "sasl.h"

#include <sodium.h>
#include <string.h>

/* Decoded PLAIN message: three fields and two separators. */
#define PLAIN_MAX (3 * SASL_FIELD_MAX + 2)

/* Whether every byte of in[0..n) is in the base64 alphabet or '='. */
static int b64_alphabet(const char *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

/* Decode one base64 response into out[cap]; the length, or -1. */
long sasl_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap)
{
	size_t binlen = 0;
	const char *end = NULL;

	if (inlen == 1 && in[0] == '=')
		return 0;	/* RFC 4954 §4: "=" is the empty response */
	/* libsodium 1.0.18 reads the input as (signed) char and takes some
	 * bytes >= 0x80 for base64 digits (found by fuzz/fuzz_sasl.c), so
	 * the alphabet is checked here first. */
	if (inlen == 0 || !b64_alphabet(in, inlen))
		return -1;
	if (sodium_base642bin(out, cap, in, inlen, NULL, &binlen, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	if (end != in + inlen || binlen > cap)
		return -1;	/* trailing garbage */
	return (long)binlen;
}

/* Whether a field of n bytes fits and holds no NUL, CR or LF. */
static int field_ok(const unsigned char *f, size_t n)
{
	if (n > SASL_FIELD_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (f[i] == '\0' || f[i] == '\r' || f[i] == '\n')
			return 0;
	return 1;
}

/* Copy a checked field into a NUL-terminated buffer. */
static void field_copy(char dst[SASL_FIELD_MAX + 1], const unsigned char *f, size_t n)
{
	memcpy(dst, f, n);
	dst[n] = '\0';
}

/* Split buf[0..n) at its two NULs into out; 0 ok, -1 malformed. */
static int plain_split(const unsigned char *buf, size_t n, struct sasl_creds *out)
{
	const unsigned char *z1 = memchr(buf, '\0', n);
	if (z1 == NULL)
		return -1;
	size_t a = (size_t)(z1 - buf);
	const unsigned char *z2 = memchr(z1 + 1, '\0', n - a - 1);
	if (z2 == NULL)
		return -1;
	size_t l = (size_t)(z2 - z1 - 1);
	size_t p = n - a - l - 2;
	const unsigned char *login = z1 + 1, *pass = z2 + 1;

	if (l == 0 || p == 0)
		return -1;
	/* field_ok also refuses a third NUL inside the password. */
	if (!field_ok(buf, a) || !field_ok(login, l) || !field_ok(pass, p))
		return -1;
	field_copy(out->authzid, buf, a);
	field_copy(out->login, login, l);
	field_copy(out->password, pass, p);
	return 0;
}

/* PLAIN: base64 of authzid NUL authcid NUL password. */
int sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out)
{
	unsigned char buf[PLAIN_MAX];
	int rc = -1;

	memset(out, 0, sizeof *out);
	long n = sasl_b64_decode(b64, len, buf, sizeof buf);
	if (n > 0)
		rc = plain_split(buf, (size_t)n, out);
	sodium_memzero(buf, sizeof buf);
	if (rc != 0)
		sasl_creds_wipe(out);
	return rc;
}

/* LOGIN: one base64 response, user name or password. */
int sasl_login_decode(const char *b64, size_t len, char out[SASL_FIELD_MAX + 1])
{
	unsigned char buf[SASL_FIELD_MAX];
	int rc = -1;

	long n = sasl_b64_decode(b64, len, buf, sizeof buf);
	if (n > 0 && field_ok(buf, (size_t)n)) {
		field_copy(out, buf, (size_t)n);
		rc = 0;
	} else {
		sodium_memzero(out, SASL_FIELD_MAX + 1);
	}
	sodium_memzero(buf, sizeof buf);
	return rc;
}

/* Zero all three fields (the password matters; the rest costs nothing). */
void sasl_creds_wipe(struct sasl_creds *c)
{
	sodium_memzero(c, sizeof *c);
}
