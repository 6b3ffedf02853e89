/*
 * dsnparam.c — the DSN parameter grammar (dsnparam.h), shared by
 * postern-smtpd, postern-queued and postern-deliver.  Pure; every byte is
 * untrusted.
 */
#include "dsnparam.h"

#include <string.h>
#include <strings.h>

/* Whether v[0..n) equals word in any case. */
static int word_is(const unsigned char *v, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp((const char *)v, word, n) == 0;
}

/* Decoded length of xtext (see dsnparam.h). */
long dsn_xtext_len(const unsigned char *v, size_t n)
{
	long out = 0;

	for (size_t i = 0; i < n; out++) {
		if (v[i] == '+') {
			if (n - i < 3)
				return -1;
			for (size_t k = 1; k <= 2; k++) {
				unsigned char h = v[i + k];
				if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F')))
					return -1;
			}
			i += 3;
		} else if (v[i] >= 33 && v[i] <= 126 && v[i] != '=') {
			i++;
		} else {
			return -1;
		}
	}
	return out;
}

/* ENVID (see dsnparam.h). */
int dsn_envid_ok(const unsigned char *v, size_t n)
{
	long d;

	if (n == 0 || n > DSN_ENVID_MAX)
		return 0;
	d = dsn_xtext_len(v, n);
	return d > 0 && d <= DSN_ENVID_DECODED_MAX;
}

/* ORCPT (see dsnparam.h). */
int dsn_orcpt_ok(const unsigned char *v, size_t n)
{
	const unsigned char *semi;
	size_t t;

	if (n == 0 || n > DSN_ORCPT_MAX)
		return 0;
	semi = memchr(v, ';', n);
	t = semi ? (size_t)(semi - v) : 0;
	if (semi == NULL || t == 0 || t + 1 == n)
		return 0;
	for (size_t i = 0; i < t; i++) {
		unsigned char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
	}
	return dsn_xtext_len(v + t + 1, n - t - 1) >= 0;
}

/* NOTIFY (see dsnparam.h). */
int dsn_notify_parse(const unsigned char *v, size_t n, unsigned *bits)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	unsigned got = 0;
	size_t start = 0;

	*bits = 0;
	if (word_is(v, n, "NEVER")) {
		*bits = DSN_NOTIFY_NEVER;
		return 0;
	}
	if (n == 0 || n > DSN_NOTIFY_MAX)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		unsigned bit = 0;

		if (i < n && v[i] != ',')
			continue;
		for (unsigned w = 0; w < 3; w++)
			if (word_is(v + start, i - start, words[w]))
				bit = 1u << w;
		if (bit == 0 || (got & bit))
			return -1;
		got |= bit;
		start = i + 1;
	}
	*bits = got;
	return 0;
}

/* RET (see dsnparam.h). */
const char *dsn_ret_word(const unsigned char *v, size_t n)
{
	if (word_is(v, n, "FULL"))
		return "full";
	if (word_is(v, n, "HDRS"))
		return "hdrs";
	return NULL;
}

/* Stored forms (see dsnparam.h). */
int dsn_stored_envid_ok(const unsigned char *v, size_t n)
{
	return n == 0 || dsn_envid_ok(v, n);
}

int dsn_stored_orcpt_ok(const unsigned char *v, size_t n)
{
	return n == 0 || dsn_orcpt_ok(v, n);
}

int dsn_stored_notify_ok(const unsigned char *v, size_t n)
{
	unsigned bits;

	return n == 0 || dsn_notify_parse(v, n, &bits) == 0;
}

int dsn_stored_ret_ok(const unsigned char *v, size_t n)
{
	return n == 0 || (n == 4 && (memcmp(v, "full", 4) == 0 || memcmp(v, "hdrs", 4) == 0));
}
