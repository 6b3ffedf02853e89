/*
 * mailpath.c — the path of MAIL FROM and RCPT TO: what stands between "<"
 * and ">" (RFC 5321 §4.1.2, extended by RFC 6531 §3.3).
 *
 * Process: postern-smtpd (also unit, golden and fuzz tests).
 * Descriptors: none.  Pure: no I/O, no allocation, no global state.
 *
 * Grammar:
 *   Path         = "<" [ A-d-l ":" ] Mailbox ">"    (A-d-l read, dropped)
 *   Mailbox      = lib/mailbox.h, the grammar queued and the delivery
 *                  workers check too
 * "<>" is the null reverse-path (MAIL only); RCPT TO:<postmaster> (any
 * case) is accepted (RFC 5321 §4.5.1).  UTF-8 must be well formed (RFC
 * 3629); whether it is allowed is decided by mailarg.c once the
 * parameters are known.
 *
 * Limits: lib/mailbox.h's (local part 64 octets as sent, labels 63,
 * mailbox 254); the whole path (256, §4.5.3.1.3) is mailarg.c's.
 * §4.5.3.1 lets a server take more; postern does not, so an address no
 * relay must accept is refused now rather than bounced after postern
 * said 250.
 *
 * Failure policy (fixed texts, never echoing client bytes):
 *   501 5.1.7 (MAIL) / 501 5.1.3 (RCPT)  "Bad ... address syntax", or
 *            "... local part too long"
 *   553 5.1.7 / 553 5.1.2  a general address literal ("[tag:...]"): well
 *            formed, but no standard tag other than IPv6 exists and postern
 *            could not deliver to it
 */
#include "mailparse.h"
#include "mailbox.h"

#include <string.h>

/* The address syntax error of this verb. */
static int bad_addr(struct mailparse *p)
{
	if (p->rcpt)
		return mailparse_fail(p, 501, "5.1.3 Bad recipient address syntax");
	return mailparse_fail(p, 501, "5.1.7 Bad sender address syntax");
}

/* A mailbox_status other than MAILBOX_OK as this verb's reply. */
static int refuse(struct mailparse *p, enum mailbox_status st)
{
	if (st == MAILBOX_LOCAL_LONG)
		return mailparse_fail(p, 501, p->rcpt ? "5.1.3 Recipient local part too long"
		                                      : "5.1.7 Sender local part too long");
	if (st == MAILBOX_LONG)
		return mailparse_fail(p, 501, p->rcpt ? "5.1.3 Recipient address too long"
		                                      : "5.1.7 Sender address too long");
	if (st == MAILBOX_LITERAL_TAG)
		return mailparse_fail(p, 553, p->rcpt ? "5.1.2 Address literal type not supported"
		                                      : "5.1.7 Address literal type not supported");
	return bad_addr(p);
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
		struct mailbox_domain d;

		if (i < rlen && s[i] != ',')
			continue;
		if (i - start < 2 || s[start] != '@' ||
		    mailbox_domain_parse(s + start + 1, i - start - 1, &d) != MAILBOX_OK ||
		    d.kind != MAILBOX_DNS)
			return bad_addr(p);
		p->saw_utf8 |= d.utf8;
		start = i + 1;
	}
	*skip = rlen + 1;
	return 0;
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
	struct mailbox m;
	enum mailbox_status st;
	size_t skip = 0;

	if (n == 0) {
		if (p->rcpt)
			return bad_addr(p);
		p->out->null_path = 1;
		return 0;
	}
	if (p->rcpt && mailbox_is_postmaster(s, n)) {
		memcpy(p->out->path, s, n);
		return 0;
	}
	if (s[0] == '@' && check_route(p, s, n, &skip) < 0)
		return -1;
	st = mailbox_parse(s + skip, n - skip, &m);
	if (st != MAILBOX_OK)
		return refuse(p, st);
	p->saw_utf8 |= m.utf8;
	memcpy(p->out->path, s + skip, n - skip);	/* n <= 254: fits */
	p->out->path[n - skip] = '\0';
	return 0;
}
