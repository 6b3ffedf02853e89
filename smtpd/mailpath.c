/*
 * mailpath.c — the path of MAIL FROM and RCPT TO: what stands between "<"
 * and ">" (RFC 5321 §4.1.2, extended by RFC 6531 §3.3).
 *
 * Process: postern-smtpd (also unit, golden and fuzz tests).
 * Descriptors: none.  Pure: no I/O, no allocation, no global state.
 *
 * Grammar:
 *   Path         = "<" [ A-d-l ":" ] Mailbox ">"    (A-d-l read, dropped)
 *   Mailbox      = Local-part "@" ( Domain / address-literal )
 *   Local-part   = Dot-string / Quoted-string       (UTF-8 with SMTPUTF8)
 *   Domain       = LDH labels of 1..63 octets, 255 in all (UTF-8 labels
 *                  with SMTPUTF8, taken as letters; no IDNA2008 check)
 *   address-literal = "[" IPv4 "]" / "[IPv6:" IPv6 "]" (inet_pton)
 * "<>" is the null reverse-path (MAIL only); RCPT TO:<postmaster> (any
 * case) is accepted (RFC 5321 §4.5.1).  UTF-8 must be well formed (RFC
 * 3629); whether it is allowed is decided by mailarg.c once the
 * parameters are known.
 *
 * Limits: a local part of at most 64 octets as sent, quotes and
 * backslashes included (RFC 5321 §4.5.3.1.1; octets, not characters,
 * with SMTPUTF8 too), labels of 63, a domain of 255; the whole path (256,
 * §4.5.3.1.3) is mailarg.c's.  §4.5.3.1 lets a server take more; postern
 * does not, so an address no relay must accept is refused now rather than
 * bounced after postern said 250.
 *
 * Failure policy: 501 5.1.7 (MAIL) / 501 5.1.3 (RCPT) with a fixed text,
 * never echoing client bytes: "Bad ... address syntax", or "... local
 * part too long".
 */
#include "mailparse.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define LOCAL_PART_MAX 64	/* RFC 5321 §4.5.3.1.1, octets as sent */
#define LABEL_MAX 63
#define DOMAIN_MAX 255

/* The local part is over LOCAL_PART_MAX octets. */
static int long_local_part(struct mailparse *p)
{
	if (p->rcpt)
		return mailparse_fail(p, 501, "5.1.3 Recipient local part too long");
	return mailparse_fail(p, 501, "5.1.7 Sender local part too long");
}

/* The address syntax error of this verb. */
static int bad_addr(struct mailparse *p)
{
	if (p->rcpt)
		return mailparse_fail(p, 501, "5.1.3 Bad recipient address syntax");
	return mailparse_fail(p, 501, "5.1.7 Bad sender address syntax");
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

/* Non-ASCII at s[0..n): its length if allowed here, else 0 with error. */
static size_t take_utf8(struct mailparse *p, const unsigned char *s, size_t n)
{
	size_t k = utf8_len(s, n);
	if (k == 0) {
		bad_addr(p);
		return 0;
	}
	p->saw_utf8 = 1;
	return k;
}

/* RFC 5322 atext. */
static int is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Dot-string at s[0..n) (whole).  0 ok, -1 error. */
static int check_dot_string(struct mailparse *p, const unsigned char *s, size_t n)
{
	int atom_empty = 1;

	for (size_t i = 0; i < n;) {
		if (s[i] == '.') {
			if (atom_empty)
				return bad_addr(p);	/* leading or double dot */
			atom_empty = 1;
			i++;
		} else if (s[i] >= 0x80) {
			size_t k = take_utf8(p, s + i, n - i);
			if (k == 0)
				return -1;
			atom_empty = 0;
			i += k;
		} else if (is_atext(s[i])) {
			atom_empty = 0;
			i++;
		} else {
			return bad_addr(p);
		}
	}
	return atom_empty ? bad_addr(p) : 0;	/* empty or trailing dot */
}

/* Quoted-string starting at s[0] == '"' within s[0..n); sets *end past
 * the closing quote.  0 ok, -1 error. */
static int check_quoted(struct mailparse *p, const unsigned char *s, size_t n, size_t *end)
{
	for (size_t i = 1; i < n;) {
		unsigned char c = s[i];
		if (c == '"') {
			*end = i + 1;
			return 0;
		}
		if (c == '\\') {	/* quoted-pairSMTP: %d92 %d32-126 */
			if (i + 1 >= n || s[i + 1] < 32 || s[i + 1] > 126)
				return bad_addr(p);
			i += 2;
		} else if (c >= 0x80) {
			size_t k = take_utf8(p, s + i, n - i);
			if (k == 0)
				return -1;
			i += k;
		} else if (c >= 32 && c <= 126) {
			i++;
		} else {
			return bad_addr(p);
		}
	}
	return bad_addr(p);	/* unterminated */
}

/* One sub-domain label s[0..n).  0 ok, -1 error. */
static int check_label(struct mailparse *p, const unsigned char *s, size_t n)
{
	if (n == 0 || n > LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return bad_addr(p);
	for (size_t i = 0; i < n;) {
		if (s[i] >= 0x80) {
			size_t k = take_utf8(p, s + i, n - i);
			if (k == 0)
				return -1;
			i += k;
		} else if (mailparse_is_alnum(s[i]) || s[i] == '-') {
			i++;
		} else {
			return bad_addr(p);
		}
	}
	return 0;
}

/* Domain s[0..n) (RFC 5321 §4.1.2, §4.5.3.1.2).  0 ok, -1 error. */
static int check_domain(struct mailparse *p, const unsigned char *s, size_t n)
{
	size_t start = 0;

	if (n == 0 || n > DOMAIN_MAX)
		return bad_addr(p);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (check_label(p, s + start, i - start) < 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* Whether the n bytes at s are "IPv6:" in any case. */
static int is_ipv6_tag(const unsigned char *s, size_t n)
{
	return n >= 5 && strncasecmp((const char *)s, "IPv6:", 5) == 0;
}

/* address-literal s[0..n) with s[0] == '[' (RFC 5321 §4.1.3): IPv4 or
 * IPv6 only, checked by inet_pton.  0 ok, -1 error. */
static int check_literal(struct mailparse *p, const unsigned char *s, size_t n)
{
	char buf[64];
	unsigned char addr[16];
	int af = AF_INET;

	if (n < 3 || s[n - 1] != ']')
		return bad_addr(p);
	s++;
	n -= 2;
	if (is_ipv6_tag(s, n)) {
		af = AF_INET6;
		s += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof buf || memchr(s, '\0', n) != NULL)
		return bad_addr(p);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		return bad_addr(p);
	return 0;
}

/* Source route "@a,@b:" at s[0..n); *skip = its length.  0 ok, -1 error. */
static int check_route(struct mailparse *p, const unsigned char *s, size_t n, size_t *skip)
{
	const unsigned char *colon = memchr(s, ':', n);
	size_t rlen = colon ? (size_t)(colon - s) : 0;
	size_t start = 0;

	if (colon == NULL)
		return bad_addr(p);
	for (size_t i = 0; i <= rlen; i++) {
		if (i < rlen && s[i] != ',')
			continue;
		if (i - start < 2 || s[start] != '@')
			return bad_addr(p);
		if (check_domain(p, s + start + 1, i - start - 1) < 0)
			return -1;
		start = i + 1;
	}
	*skip = rlen + 1;
	return 0;
}

/* Mailbox s[0..n) (RFC 5321 §4.1.2).  0 ok, -1 error. */
static int check_mailbox(struct mailparse *p, const unsigned char *s, size_t n)
{
	size_t at = 0;

	if (n == 0)
		return bad_addr(p);
	if (s[0] == '"') {
		if (check_quoted(p, s, n, &at) < 0)
			return -1;
	} else {
		const unsigned char *a = memchr(s, '@', n);
		if (a == NULL)
			return bad_addr(p);
		at = (size_t)(a - s);
		if (check_dot_string(p, s, at) < 0)
			return -1;
	}
	if (at >= n || s[at] != '@' || at + 1 >= n)
		return bad_addr(p);
	if (at > LOCAL_PART_MAX)
		return long_local_part(p);
	s += at + 1;
	n -= at + 1;
	if (s[0] == '[')
		return check_literal(p, s, n);
	return check_domain(p, s, n);
}

/* Index of the '>' closing the path that starts at s[0] == '<', skipping
 * quoted strings; 0 if there is none. */
size_t mailpath_end(const unsigned char *s, size_t n)
{
	int quoted = 0;

	for (size_t i = 1; i < n; i++) {
		if (quoted && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '>')
			return i;
	}
	return 0;
}

/* The path's content s[0..n) (between the angle brackets). */
int mailpath_check(struct mailparse *p, const unsigned char *s, size_t n)
{
	size_t skip = 0;

	if (n == 0) {
		if (p->rcpt)
			return bad_addr(p);
		p->out->null_path = 1;
		return 0;
	}
	if (p->rcpt && n == 10 && strncasecmp((const char *)s, "postmaster", 10) == 0) {
		memcpy(p->out->path, s, n);
		return 0;
	}
	if (s[0] == '@' && check_route(p, s, n, &skip) < 0)
		return -1;
	if (check_mailbox(p, s + skip, n - skip) < 0)
		return -1;
	memcpy(p->out->path, s + skip, n - skip);	/* n <= 254: fits */
	p->out->path[n - skip] = '\0';
	return 0;
}
