/*
 * sasl.h — decoding AUTH PLAIN and AUTH LOGIN client responses (RFC 4616,
 * RFC 4954).  Pure functions: base64 (libsodium, strict, no whitespace) to
 * the authzid/authcid/password triple.  '*' (cancel) is the caller's job.
 */
#ifndef POSTERN_SMTPD_SASL_H
#define POSTERN_SMTPD_SASL_H

#include <stddef.h>

#define SASL_FIELD_MAX 256

struct sasl_creds {
	char authzid[SASL_FIELD_MAX + 1];
	char login[SASL_FIELD_MAX + 1];
	char password[SASL_FIELD_MAX + 1];
};

/* Decode one base64 response into out[cap]; returns the decoded length or
 * -1 for bad base64 / too long. */
long sasl_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap);
/* PLAIN: base64 of authzid NUL authcid NUL password.  0 ok, -1 malformed
 * (bad base64, wrong NUL count, empty login or password, a field too long,
 * or a NUL/CR/LF inside a field). */
int sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out);
/* LOGIN: one base64 response (user name or password) into out, NUL
 * terminated.  0 ok, -1 malformed (bad base64, empty, longer than
 * SASL_FIELD_MAX, or a NUL/CR/LF inside). */
int sasl_login_decode(const char *b64, size_t len, char out[SASL_FIELD_MAX + 1]);
/* Zero the password (sodium_memzero) when done. */
void sasl_creds_wipe(struct sasl_creds *c);

#endif
