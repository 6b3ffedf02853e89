/*
 * mailarg.c — parsing the arguments of MAIL FROM and RCPT TO.
 *
 * Process: postern-smtpd (also unit, golden and fuzz tests).
 * Descriptors: none.  Pure: no I/O, no allocation, no global state.
 *
 * Grammar (RFC 5321 §4.1.2, §4.1.1.11, extended by RFC 6531 §3.3):
 *   arg          = Path [ SP Mail-parameters ]      (MAIL: or "<>")
 *   Path         = "<" [ A-d-l ":" ] Mailbox ">"    (A-d-l read, dropped)
 *   Mailbox      = Local-part "@" ( Domain / address-literal )
 *   Local-part   = Dot-string / Quoted-string       (UTF-8 with SMTPUTF8)
 *   Domain       = LDH labels of 1..63 octets, 255 in all (UTF-8 labels
 *                  with SMTPUTF8, taken as letters; no IDNA2008 check)
 *   address-literal = "[" IPv4 "]" / "[IPv6:" IPv6 "]" (inet_pton)
 *   params       = KEY[=VALUE] separated by exactly one SP; keys
 *                  case-insensitive; each at most once.
 * MAIL takes SIZE (RFC 1870), BODY=7BIT|8BITMIME (RFC 6152), SMTPUTF8
 * (RFC 6531), RET and ENVID (RFC 3461), AUTH (RFC 4954 §5, checked as
 * xtext and ignored).  RCPT takes NOTIFY and ORCPT (RFC 3461).
 * RCPT TO:<postmaster> (any case) is accepted (RFC 5321 §4.5.1).
 *
 * Failure policy: anything outside the grammar is refused with a reply
 * code and a fixed text (never echoing client bytes):
 *   501 5.5.2  no "<", no ">" or junk after it (command syntax)
 *   501 5.1.7 / 501 5.1.3  bad sender / recipient address, or path over
 *              256 octets counting "<>" and any source route (§4.5.3.1.3)
 *   553 5.6.7  well-formed UTF-8 address without SMTPUTF8 (RFC 6531 §3.7.4)
 *   501 5.5.4  parameter syntax or value error
 *   555 5.5.4  unknown, unsupported (BODY=BINARYMIME) or repeated parameter
 * Limits (SIZE against the message maximum) are the engine's job.
 */
#include "mailarg.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define LABEL_MAX 63
#define DOMAIN_MAX 255
#define ENVID_DECODED_MAX 100	/* RFC 3461 §4.4 */
#define ORCPT_MAX 500		/* RFC 3461 §4.2 */

/* What is being parsed. */
struct parse {
	const unsigned char *s;	/* the argument */
	size_t len;
	int rcpt;		/* RCPT TO (else MAIL FROM) */
	int utf8_ok;		/* SMTPUTF8 in effect */
	int saw_utf8;		/* the mailbox has non-ASCII */
	unsigned seen;		/* parameters already given (bit per key) */
	struct mail_arg *out;
	struct mailarg_error *err;
};

/* Fill in an error; returns -1 for "return fail(...)". */
static int fail(struct parse *p, int code, const char *text)
{
	size_t n = strlen(text);
	if (n >= sizeof p->err->text)
		n = sizeof p->err->text - 1;
	p->err->code = code;
	memcpy(p->err->text, text, n);
	p->err->text[n] = '\0';
	return -1;
}

/* The address syntax error of this verb. */
static int bad_addr(struct parse *p)
{
	if (p->rcpt)
		return fail(p, 501, "5.1.3 Bad recipient address syntax");
	return fail(p, 501, "5.1.7 Bad sender address syntax");
}

/* The command syntax error of this verb. */
static int bad_cmd(struct parse *p)
{
	if (p->rcpt)
		return fail(p, 501, "5.5.2 Syntax: RCPT TO:<address>");
	return fail(p, 501, "5.5.2 Syntax: MAIL FROM:<address>");
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
static size_t take_utf8(struct parse *p, const unsigned char *s, size_t n)
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

/* Letter or digit. */
static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Dot-string at s[0..n) (whole).  0 ok, -1 error. */
static int check_dot_string(struct parse *p, const unsigned char *s, size_t n)
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
static int check_quoted(struct parse *p, const unsigned char *s, size_t n, size_t *end)
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
static int check_label(struct parse *p, const unsigned char *s, size_t n)
{
	if (n == 0 || n > LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return bad_addr(p);
	for (size_t i = 0; i < n;) {
		if (s[i] >= 0x80) {
			size_t k = take_utf8(p, s + i, n - i);
			if (k == 0)
				return -1;
			i += k;
		} else if (is_alnum(s[i]) || s[i] == '-') {
			i++;
		} else {
			return bad_addr(p);
		}
	}
	return 0;
}

/* Domain s[0..n) (RFC 5321 §4.1.2, §4.5.3.1.2).  0 ok, -1 error. */
static int check_domain(struct parse *p, const unsigned char *s, size_t n)
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
static int check_literal(struct parse *p, const unsigned char *s, size_t n)
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
static int check_route(struct parse *p, const unsigned char *s, size_t n, size_t *skip)
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
static int check_mailbox(struct parse *p, const unsigned char *s, size_t n)
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
	s += at + 1;
	n -= at + 1;
	if (s[0] == '[')
		return check_literal(p, s, n);
	return check_domain(p, s, n);
}

/* Index of the '>' closing the path that starts at s[0] == '<', skipping
 * quoted strings; 0 if there is none. */
static size_t path_end(const unsigned char *s, size_t n)
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
static int check_path(struct parse *p, const unsigned char *s, size_t n)
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

/* ---- parameters ---- */

enum { P_SIZE, P_BODY, P_SMTPUTF8, P_RET, P_ENVID, P_AUTH, P_NOTIFY, P_ORCPT };

static const struct {
	const char *name;
	int rcpt;	/* belongs to RCPT (else MAIL) */
} params[] = {
	[P_SIZE] = { "SIZE", 0 },     [P_BODY] = { "BODY", 0 },
	[P_SMTPUTF8] = { "SMTPUTF8", 0 }, [P_RET] = { "RET", 0 },
	[P_ENVID] = { "ENVID", 0 },   [P_AUTH] = { "AUTH", 0 },
	[P_NOTIFY] = { "NOTIFY", 1 }, [P_ORCPT] = { "ORCPT", 1 },
};

/* Whether v[0..n) equals word in any case. */
static int word_is(const unsigned char *v, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp((const char *)v, word, n) == 0;
}

/* Parameter syntax error. */
static int bad_param(struct parse *p, const char *text)
{
	return fail(p, 501, text);
}

/* Check xtext (RFC 3461 §4): chars 33..126 but '+' and '=', or "+HH" with
 * uppercase hex.  Returns the decoded length, or -1. */
static long xtext_len(const unsigned char *v, size_t n)
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

/* SIZE=1*20DIGIT (RFC 1870 §5) without overflow. */
static int param_size(struct parse *p, const unsigned char *v, size_t n)
{
	uint64_t x = 0;

	if (n == 0 || n > 20)
		return bad_param(p, "5.5.4 Bad SIZE value");
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)v[i] - '0';
		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return bad_param(p, "5.5.4 Bad SIZE value");
		x = x * 10 + d;
	}
	p->out->has_size = 1;
	p->out->size = x;
	return 0;
}

/* BODY=7BIT|8BITMIME (RFC 6152); BINARYMIME (RFC 3030) is not offered. */
static int param_body(struct parse *p, const unsigned char *v, size_t n)
{
	if (word_is(v, n, "7BIT"))
		p->out->body = BODY_7BIT;
	else if (word_is(v, n, "8BITMIME"))
		p->out->body = BODY_8BITMIME;
	else if (word_is(v, n, "BINARYMIME"))
		return fail(p, 555, "5.5.4 BODY=BINARYMIME not supported");
	else
		return bad_param(p, "5.5.4 Bad BODY value");
	return 0;
}

/* RET=FULL|HDRS (RFC 3461 §4.3), kept in lower case. */
static int param_ret(struct parse *p, const unsigned char *v, size_t n)
{
	if (word_is(v, n, "FULL"))
		memcpy(p->out->ret, "full", 5);
	else if (word_is(v, n, "HDRS"))
		memcpy(p->out->ret, "hdrs", 5);
	else
		return bad_param(p, "5.5.4 Bad RET value");
	return 0;
}

/* ENVID=xtext, at most 100 characters decoded (RFC 3461 §4.4). */
static int param_envid(struct parse *p, const unsigned char *v, size_t n)
{
	long d = xtext_len(v, n);
	if (n == 0 || n > MAILARG_XTEXT_MAX || d < 0 || d > ENVID_DECODED_MAX)
		return bad_param(p, "5.5.4 Bad ENVID value");
	memcpy(p->out->envid, v, n);
	p->out->envid[n] = '\0';
	return 0;
}

/* AUTH=xtext: checked, then ignored; identity comes from authd only. */
static int param_auth(struct parse *p, const unsigned char *v, size_t n)
{
	if (n == 0 || xtext_len(v, n) < 0)
		return bad_param(p, "5.5.4 Bad AUTH value");
	return 0;
}

/* NOTIFY=NEVER / list of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1). */
static int param_notify(struct parse *p, const unsigned char *v, size_t n)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	unsigned got = 0;
	size_t start = 0;

	if (word_is(v, n, "NEVER"))
		goto ok;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ',')
			continue;
		unsigned bit = 0;
		for (unsigned w = 0; w < 3; w++)
			if (word_is(v + start, i - start, words[w]))
				bit = 1u << w;
		if (bit == 0 || (got & bit))
			return bad_param(p, "5.5.4 Bad NOTIFY value");
		got |= bit;
		start = i + 1;
	}
ok:
	/* At most "SUCCESS,FAILURE,DELAY": fits. */
	memcpy(p->out->notify, v, n);
	p->out->notify[n] = '\0';
	return 0;
}

/* ORCPT=addr-type;xtext (RFC 3461 §4.2), at most 500 octets. */
static int param_orcpt(struct parse *p, const unsigned char *v, size_t n)
{
	const unsigned char *semi = memchr(v, ';', n);
	size_t tlen = semi ? (size_t)(semi - v) : 0;

	if (semi == NULL || tlen == 0 || n > ORCPT_MAX || tlen + 1 == n)
		return bad_param(p, "5.5.4 Bad ORCPT value");
	for (size_t i = 0; i < tlen; i++)
		if (!is_alnum(v[i]) && v[i] != '-')
			return bad_param(p, "5.5.4 Bad ORCPT value");
	if (xtext_len(v + tlen + 1, n - tlen - 1) < 0)
		return bad_param(p, "5.5.4 Bad ORCPT value");
	memcpy(p->out->orcpt, v, n);
	p->out->orcpt[n] = '\0';
	return 0;
}

/* Apply parameter k with value v[0..n) (has_value: "=" was given). */
static int apply_param(struct parse *p, int k, const unsigned char *v, size_t n,
                       int has_value)
{
	if (k == P_SMTPUTF8) {
		if (has_value)
			return bad_param(p, "5.5.4 SMTPUTF8 takes no value");
		p->out->smtputf8 = 1;
		return 0;
	}
	if (!has_value)
		return bad_param(p, "5.5.4 Parameter needs a value");
	switch (k) {
	case P_SIZE: return param_size(p, v, n);
	case P_BODY: return param_body(p, v, n);
	case P_RET: return param_ret(p, v, n);
	case P_ENVID: return param_envid(p, v, n);
	case P_AUTH: return param_auth(p, v, n);
	case P_NOTIFY: return param_notify(p, v, n);
	default: return param_orcpt(p, v, n);
	}
}

/* One "KEY[=VALUE]" in s[0..n) (RFC 5321 §4.1.2 esmtp-param). */
static int one_param(struct parse *p, const unsigned char *s, size_t n)
{
	const unsigned char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n;
	const unsigned char *v = eq ? eq + 1 : s + n;
	size_t vlen = eq ? n - klen - 1 : 0;
	int k = -1;

	if (klen == 0 || !is_alnum(s[0]))
		return bad_param(p, "5.5.4 Syntax error in parameters");
	for (size_t i = 0; i < klen; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return bad_param(p, "5.5.4 Syntax error in parameters");
	for (size_t i = 0; i < vlen; i++)	/* esmtp-value: %d33-60 / %d62-126 */
		if (v[i] < 33 || v[i] > 126 || v[i] == '=')
			return bad_param(p, "5.5.4 Syntax error in parameters");
	for (int i = 0; i < (int)(sizeof params / sizeof params[0]); i++)
		if (params[i].rcpt == p->rcpt && word_is(s, klen, params[i].name))
			k = i;
	if (k < 0)
		return fail(p, 555, "5.5.4 Unsupported parameter");
	if (p->seen & (1u << k))
		return fail(p, 555, "5.5.4 Duplicate parameter");
	p->seen |= 1u << k;
	return apply_param(p, k, v, vlen, eq != NULL);
}

/* The parameters s[0..n), separated by exactly one SP each. */
static int check_params(struct parse *p, const unsigned char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ')
			continue;
		if (i == start)	/* empty: two spaces or a trailing one */
			return bad_param(p, "5.5.4 Syntax error in parameters");
		if (one_param(p, s + start, i - start) < 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* Both verbs: path, then parameters, then the SMTPUTF8 check. */
static int parse_arg(struct parse *p)
{
	const unsigned char *s = p->s;
	size_t end;

	memset(p->out, 0, sizeof *p->out);
	memset(p->err, 0, sizeof *p->err);
	if (p->len == 0 || s[0] != '<' || (end = path_end(s, p->len)) == 0)
		return bad_cmd(p);
	if (end + 1 > MAILARG_PATH_MAX) {
		if (p->rcpt)
			return fail(p, 501, "5.1.3 Recipient address too long");
		return fail(p, 501, "5.1.7 Sender address too long");
	}
	if (check_path(p, s + 1, end - 1) < 0)
		return -1;
	if (end + 1 < p->len) {
		if (s[end + 1] != ' ')
			return bad_cmd(p);
		if (check_params(p, s + end + 2, p->len - end - 2) < 0)
			return -1;
	}
	if (p->saw_utf8 && !(p->utf8_ok || p->out->smtputf8)) {
		if (p->rcpt)
			return fail(p, 553, "5.6.7 Non-ASCII recipient needs SMTPUTF8");
		return fail(p, 553, "5.6.7 Non-ASCII sender needs SMTPUTF8");
	}
	return 0;
}

/* Parse "<path> [params]" after "MAIL FROM:". */
int mailarg_parse_mail(const char *arg, size_t len, struct mail_arg *out,
                       struct mailarg_error *err)
{
	struct parse p = { (const unsigned char *)arg, len, 0, 0, 0, 0, out, err };
	int r = parse_arg(&p);
	if (r < 0)
		memset(out, 0, sizeof *out);
	return r;
}

/* Parse "<path> [params]" after "RCPT TO:". */
int mailarg_parse_rcpt(const char *arg, size_t len, int smtputf8,
                       struct mail_arg *out, struct mailarg_error *err)
{
	struct parse p = { (const unsigned char *)arg, len, 1, smtputf8 != 0, 0, 0,
	                   out, err };
	int r = parse_arg(&p);
	if (r < 0)
		memset(out, 0, sizeof *out);
	return r;
}
