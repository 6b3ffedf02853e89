/*
 * mailparams.c — the ESMTP parameters of MAIL FROM and RCPT TO (RFC 5321
 * §4.1.2 esmtp-param, §4.1.1.11).
 *
 * Process: postern-smtpd (also unit, golden and fuzz tests).
 * Descriptors: none.  Pure: no I/O, no allocation, no global state.
 *
 * Grammar: params = KEY[=VALUE] separated by exactly one SP; keys
 * case-insensitive; each at most once.  MAIL takes SIZE (RFC 1870),
 * BODY=7BIT|8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), RET and ENVID
 * (RFC 3461), AUTH (RFC 4954 §5, checked as xtext and ignored: identity
 * comes from authd only).  RCPT takes NOTIFY and ORCPT (RFC 3461).
 *
 * Failure policy (fixed texts, never echoing client bytes):
 *   501 5.5.4  parameter syntax or value error
 *   555 5.5.4  unknown, unsupported (BODY=BINARYMIME) or repeated parameter
 * Limits (SIZE against the message maximum) are the engine's job.
 */
#include "mailparse.h"
#include "dsnparam.h"

#include <string.h>
#include <strings.h>

/* The parameters postern knows, and the verb each belongs to. */
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
static int bad_param(struct mailparse *p, const char *text)
{
	return mailparse_fail(p, 501, text);
}

/* SIZE=1*20DIGIT (RFC 1870 §5) without overflow. */
static int param_size(struct mailparse *p, const unsigned char *v, size_t n)
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
static int param_body(struct mailparse *p, const unsigned char *v, size_t n)
{
	if (word_is(v, n, "7BIT"))
		p->out->body = BODY_7BIT;
	else if (word_is(v, n, "8BITMIME"))
		p->out->body = BODY_8BITMIME;
	else if (word_is(v, n, "BINARYMIME"))
		return mailparse_fail(p, 555, "5.5.4 BODY=BINARYMIME not supported");
	else
		return bad_param(p, "5.5.4 Bad BODY value");
	return 0;
}

/* RET=FULL|HDRS (RFC 3461 §4.3), kept in lower case. */
static int param_ret(struct mailparse *p, const unsigned char *v, size_t n)
{
	const char *w = dsn_ret_word(v, n);

	if (w == NULL)
		return bad_param(p, "5.5.4 Bad RET value");
	memcpy(p->out->ret, w, 5);
	return 0;
}

/* ENVID=xtext, at most 100 octets decoded (RFC 3461 §4.4). */
static int param_envid(struct mailparse *p, const unsigned char *v, size_t n)
{
	if (!dsn_envid_ok(v, n))
		return bad_param(p, "5.5.4 Bad ENVID value");
	memcpy(p->out->envid, v, n);	/* n <= DSN_ENVID_MAX: fits */
	p->out->envid[n] = '\0';
	return 0;
}

/* AUTH=xtext: checked, then ignored; identity comes from authd only. */
static int param_auth(struct mailparse *p, const unsigned char *v, size_t n)
{
	if (n == 0 || dsn_xtext_len(v, n) < 0)
		return bad_param(p, "5.5.4 Bad AUTH value");
	return 0;
}

/* NOTIFY=NEVER / list of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1). */
static int param_notify(struct mailparse *p, const unsigned char *v, size_t n)
{
	unsigned bits;

	if (dsn_notify_parse(v, n, &bits) < 0)
		return bad_param(p, "5.5.4 Bad NOTIFY value");
	memcpy(p->out->notify, v, n);	/* n <= DSN_NOTIFY_MAX: fits */
	p->out->notify[n] = '\0';
	return 0;
}

/* ORCPT=addr-type;xtext (RFC 3461 §4.2), at most 500 octets. */
static int param_orcpt(struct mailparse *p, const unsigned char *v, size_t n)
{
	if (!dsn_orcpt_ok(v, n))
		return bad_param(p, "5.5.4 Bad ORCPT value");
	memcpy(p->out->orcpt, v, n);	/* n <= DSN_ORCPT_MAX: fits */
	p->out->orcpt[n] = '\0';
	return 0;
}

/* Apply parameter k with value v[0..n) (has_value: "=" was given). */
static int apply_param(struct mailparse *p, int k, const unsigned char *v, size_t n,
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
static int one_param(struct mailparse *p, const unsigned char *s, size_t n)
{
	const unsigned char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n;
	const unsigned char *v = eq ? eq + 1 : s + n;
	size_t vlen = eq ? n - klen - 1 : 0;
	int k = -1;

	if (klen == 0 || !mailparse_is_alnum(s[0]))
		return bad_param(p, "5.5.4 Syntax error in parameters");
	for (size_t i = 0; i < klen; i++)
		if (!mailparse_is_alnum(s[i]) && s[i] != '-')
			return bad_param(p, "5.5.4 Syntax error in parameters");
	for (size_t i = 0; i < vlen; i++)	/* esmtp-value: %d33-60 / %d62-126 */
		if (v[i] < 33 || v[i] > 126 || v[i] == '=')
			return bad_param(p, "5.5.4 Syntax error in parameters");
	for (int i = 0; i < (int)(sizeof params / sizeof params[0]); i++)
		if (params[i].rcpt == p->rcpt && word_is(s, klen, params[i].name))
			k = i;
	if (k < 0)
		return mailparse_fail(p, 555, "5.5.4 Unsupported parameter");
	if (p->seen & (1u << k))
		return mailparse_fail(p, 555, "5.5.4 Duplicate parameter");
	p->seen |= 1u << k;
	return apply_param(p, k, v, vlen, eq != NULL);
}

/* The parameters s[0..n), separated by exactly one SP each. */
int mailparams_check(struct mailparse *p, const unsigned char *s, size_t n)
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
