/*
 * mailarg.c — parsing the arguments of MAIL FROM and RCPT TO: the entry
 * points, the command syntax and the SMTPUTF8 check; the path is read by
 * mailpath.c, the parameters by mailparams.c (shared state: mailparse.h).
 *
 * Process: postern-smtpd (also unit, golden and fuzz tests).
 * Descriptors: none.  Pure: no I/O, no allocation, no global state.
 *
 * Grammar (RFC 5321 §4.1.2, §4.1.1.11, extended by RFC 6531 §3.3):
 *   arg = Path [ SP Mail-parameters ]      (MAIL: or "<>")
 * Path: mailpath.c; parameters: mailparams.c.  An address with UTF-8 is
 * allowed only when this MAIL (or the transaction's MAIL, for RCPT) has
 * SMTPUTF8, which is known only once the parameters are read.
 *
 * Failure policy: anything outside the grammar is refused with a reply
 * code and a fixed text (never echoing client bytes):
 *   501 5.5.2  no "<", no ">" or junk after it (command syntax)
 *   501 5.1.7 / 501 5.1.3  bad sender / recipient address, a local part
 *              over 64 octets (§4.5.3.1.1), or a path over 256 octets
 *              counting "<>" and any source route (§4.5.3.1.3)
 *   553 5.6.7  well-formed UTF-8 address without SMTPUTF8 (RFC 6531 §3.7.4)
 *   501 5.5.4  parameter syntax or value error
 *   555 5.5.4  unknown, unsupported (BODY=BINARYMIME) or repeated parameter
 * Limits (SIZE against the message maximum) are the engine's job.
 */
#include "mailparse.h"

#include <string.h>

/* Fill in an error; returns -1 for "return mailparse_fail(...)". */
int mailparse_fail(struct mailparse *p, int code, const char *text)
{
	size_t n = strlen(text);
	if (n >= sizeof p->err->text)
		n = sizeof p->err->text - 1;
	p->err->code = code;
	memcpy(p->err->text, text, n);
	p->err->text[n] = '\0';
	return -1;
}

/* The command syntax error of this verb. */
static int bad_cmd(struct mailparse *p)
{
	if (p->rcpt)
		return mailparse_fail(p, 501, "5.5.2 Syntax: RCPT TO:<address>");
	return mailparse_fail(p, 501, "5.5.2 Syntax: MAIL FROM:<address>");
}

/* Both verbs: path, then parameters, then the SMTPUTF8 check. */
static int parse_arg(struct mailparse *p)
{
	const unsigned char *s = p->s;
	size_t end;

	memset(p->out, 0, sizeof *p->out);
	memset(p->err, 0, sizeof *p->err);
	if (p->len == 0 || s[0] != '<' || (end = mailpath_end(s, p->len)) == 0)
		return bad_cmd(p);
	if (end + 1 > MAILARG_PATH_MAX) {
		if (p->rcpt)
			return mailparse_fail(p, 501, "5.1.3 Recipient address too long");
		return mailparse_fail(p, 501, "5.1.7 Sender address too long");
	}
	if (mailpath_check(p, s + 1, end - 1) < 0)
		return -1;
	if (end + 1 < p->len) {
		if (s[end + 1] != ' ')
			return bad_cmd(p);
		if (mailparams_check(p, s + end + 2, p->len - end - 2) < 0)
			return -1;
	}
	if (p->saw_utf8 && !(p->utf8_ok || p->out->smtputf8)) {
		if (p->rcpt)
			return mailparse_fail(p, 553, "5.6.7 Non-ASCII recipient needs SMTPUTF8");
		return mailparse_fail(p, 553, "5.6.7 Non-ASCII sender needs SMTPUTF8");
	}
	return 0;
}

/* Parse "<path> [params]" after "MAIL FROM:". */
int mailarg_parse_mail(const char *arg, size_t len, struct mail_arg *out,
                       struct mailarg_error *err)
{
	struct mailparse p = { (const unsigned char *)arg, len, 0, 0, 0, 0, out, err };
	int r = parse_arg(&p);
	if (r < 0)
		memset(out, 0, sizeof *out);
	return r;
}

/* Parse "<path> [params]" after "RCPT TO:". */
int mailarg_parse_rcpt(const char *arg, size_t len, int smtputf8,
                       struct mail_arg *out, struct mailarg_error *err)
{
	struct mailparse p = { (const unsigned char *)arg, len, 1, smtputf8 != 0, 0, 0,
	                       out, err };
	int r = parse_arg(&p);
	if (r < 0)
		memset(out, 0, sizeof *out);
	return r;
}
