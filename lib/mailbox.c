/*
 * mailbox.c — the envelope address grammar (mailbox.h), shared by
 * postern-smtpd, postern-queued and the delivery workers.  Pure: no I/O,
 * no allocation, no global state; every byte is untrusted.
 */
#include "mailbox.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

/* Letter or digit (ASCII). */
static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Length of a valid non-ASCII UTF-8 sequence at s[0..n) (RFC 3629 §4:
 * no overlongs, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;	/* range of the 2nd byte */

	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (c == 0xed)
		hi = 0x9f;	/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;	/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/* RFC 5322 atext. */
static int is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Dot-string s[0..n) (whole).  0 ok, -1 bad. */
static int dot_string(const unsigned char *s, size_t n, int *utf8)
{
	int atom_empty = 1;

	for (size_t i = 0; i < n;) {
		size_t k = 1;

		if (s[i] == '.') {
			if (atom_empty)
				return -1;	/* leading or double dot */
			atom_empty = 1;
			i++;
			continue;
		}
		if (s[i] >= 0x80) {
			k = utf8_len(s + i, n - i);
			if (k == 0)
				return -1;
			*utf8 = 1;
		} else if (!is_atext(s[i])) {
			return -1;
		}
		atom_empty = 0;
		i += k;
	}
	return atom_empty ? -1 : 0;	/* empty or trailing dot */
}

/* Quoted-string starting at s[0] == '"' within s[0..n); *end is set past
 * the closing quote.  0 ok, -1 bad. */
static int quoted_string(const unsigned char *s, size_t n, size_t *end, int *utf8)
{
	for (size_t i = 1; i < n;) {
		unsigned char c = s[i];

		if (c == '"') {
			*end = i + 1;
			return 0;
		}
		if (c == '\\') {	/* quoted-pairSMTP: %d92 %d32-126 */
			if (i + 1 >= n || s[i + 1] < 32 || s[i + 1] > 126)
				return -1;
			i += 2;
		} else if (c >= 0x80) {
			size_t k = utf8_len(s + i, n - i);
			if (k == 0)
				return -1;
			*utf8 = 1;
			i += k;
		} else if (c >= 32 && c <= 126) {
			i++;
		} else {
			return -1;
		}
	}
	return -1;	/* unterminated */
}

/* One label s[0..n).  0 ok, -1 bad. */
static int label(const unsigned char *s, size_t n, int *utf8)
{
	if (n == 0 || n > MAILBOX_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return -1;
	for (size_t i = 0; i < n;) {
		if (s[i] >= 0x80) {
			size_t k = utf8_len(s + i, n - i);
			if (k == 0)
				return -1;
			*utf8 = 1;
			i += k;
		} else if (is_alnum(s[i]) || s[i] == '-') {
			i++;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Domain s[0..n).  0 ok, -1 bad. */
static int dns_domain(const unsigned char *s, size_t n, int *utf8)
{
	size_t start = 0;

	if (n == 0 || n > MAILBOX_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (label(s + start, i - start, utf8) < 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* General-address-literal content "tag:dcontent" s[0..n) (RFC 5321
 * §4.1.3: Standardized-tag = Ldh-str; dcontent = %d33-90 / %d94-126). */
static int general_literal(const unsigned char *s, size_t n)
{
	const unsigned char *colon = memchr(s, ':', n);
	size_t t = colon ? (size_t)(colon - s) : 0;

	if (t == 0 || t + 1 >= n || !is_alnum(s[0]) || !is_alnum(s[t - 1]))
		return -1;
	for (size_t i = 0; i < t; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return -1;
	for (size_t i = t + 1; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || (s[i] >= 91 && s[i] <= 93))
			return -1;
	return 0;
}

/* address-literal s[0..n), s[0] == '['. */
static enum mailbox_status literal(const unsigned char *s, size_t n, struct mailbox_domain *d)
{
	char buf[64];
	int af = AF_INET;

	if (n < 3 || s[n - 1] != ']')
		return MAILBOX_BAD;
	s++;
	n -= 2;
	if (n >= 5 && strncasecmp((const char *)s, "IPv6:", 5) == 0) {
		af = AF_INET6;
		s += 5;
		n -= 5;
	} else if (memchr(s, ':', n) != NULL) {
		return general_literal(s, n) == 0 ? MAILBOX_LITERAL_TAG : MAILBOX_BAD;
	}
	if (n == 0 || n >= sizeof buf || memchr(s, '\0', n) != NULL)
		return MAILBOX_BAD;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(af, buf, d->ip) != 1)
		return MAILBOX_BAD;
	d->kind = af == AF_INET ? MAILBOX_IPV4 : MAILBOX_IPV6;
	return MAILBOX_OK;
}

/* A domain or address literal (see mailbox.h). */
enum mailbox_status mailbox_domain_parse(const unsigned char *s, size_t n,
                                         struct mailbox_domain *d)
{
	memset(d, 0, sizeof *d);
	if (n > 0 && s[0] == '[')
		return literal(s, n, d);
	d->kind = MAILBOX_DNS;
	return dns_domain(s, n, &d->utf8) == 0 ? MAILBOX_OK : MAILBOX_BAD;
}

/* Parse a mailbox (see mailbox.h). */
enum mailbox_status mailbox_parse(const unsigned char *s, size_t n, struct mailbox *m)
{
	enum mailbox_status st;
	size_t at = 0;
	int utf8 = 0;

	memset(m, 0, sizeof *m);
	if (n == 0)
		return MAILBOX_BAD;
	if (s[0] == '"') {
		if (quoted_string(s, n, &at, &utf8) < 0)
			return MAILBOX_BAD;
	} else {
		const unsigned char *a = memchr(s, '@', n);
		if (a == NULL)
			return MAILBOX_BAD;
		at = (size_t)(a - s);
		if (dot_string(s, at, &utf8) < 0)
			return MAILBOX_BAD;
	}
	if (at >= n || s[at] != '@' || at + 1 >= n)
		return MAILBOX_BAD;
	if (at > MAILBOX_LOCAL_MAX)
		return MAILBOX_LOCAL_LONG;
	st = mailbox_domain_parse(s + at + 1, n - at - 1, &m->domain);
	if (st != MAILBOX_OK)
		return st;
	if (n > MAILBOX_MAX)
		return MAILBOX_LONG;
	m->at = at;
	m->utf8 = utf8 || m->domain.utf8;
	return MAILBOX_OK;
}

/* "postmaster" in any case. */
int mailbox_is_postmaster(const unsigned char *s, size_t n)
{
	return n == 10 && strncasecmp((const char *)s, "postmaster", 10) == 0;
}

/* A mailbox, UTF-8 only if allowed. */
static int stored_mailbox_ok(const unsigned char *s, size_t n, int utf8_ok)
{
	struct mailbox m;

	return mailbox_parse(s, n, &m) == MAILBOX_OK && (utf8_ok || !m.utf8);
}

/* A stored sender (see mailbox.h). */
int mailbox_sender_ok(const unsigned char *s, size_t n, int utf8_ok)
{
	return n == 0 || stored_mailbox_ok(s, n, utf8_ok);
}

/* A stored recipient (see mailbox.h). */
int mailbox_rcpt_ok(const unsigned char *s, size_t n, int utf8_ok)
{
	return mailbox_is_postmaster(s, n) || stored_mailbox_ok(s, n, utf8_ok);
}

/* Any byte >= 0x80. */
int mailbox_has_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] & 0x80)
			return 1;
	return 0;
}
