/*
 * mailbox.h — the one grammar of an envelope address (RFC 5321 §4.1.2
 * Mailbox, extended by RFC 6531 §3.3), linked by every stage that handles
 * one: postern-smtpd accepts or refuses MAIL FROM and RCPT TO with it,
 * postern-queued re-checks what smtpd sends (a refusal there closes the
 * session: only a compromised smtpd can send one), and the delivery workers
 * check each job's addresses and destination with it before they write
 * them into an SMTP command.  Because all three call the same function
 * with the same limits, nothing smtpd accepts can be refused later.
 * Pure: no I/O, no allocation, no global state.
 *
 * Grammar:
 *   Mailbox      = Local-part "@" ( Domain / address-literal )
 *   Local-part   = Dot-string / Quoted-string      (quoted-pairSMTP allowed)
 *   Domain       = labels of 1..63 letters, digits, '-' (not first or
 *                  last), dot-separated, no trailing dot; UTF-8 labels
 *                  (U-labels, RFC 6531) are taken as letters here: their
 *                  IDNA conversion is the worker's (libidn2)
 *   address-literal = "[" IPv4 "]" / "[IPv6:" IPv6 "]" (inet_pton), or a
 *                  General-address-literal "[" tag ":" dcontent "]",
 *                  which parses but is reported as MAILBOX_LITERAL_TAG
 *                  (no standard tag but IPv6 exists; postern cannot
 *                  deliver to one, so smtpd refuses it up front)
 * Non-ASCII must be well-formed UTF-8 (RFC 3629); whether it is allowed
 * (SMTPUTF8) is the caller's decision, from the `utf8` flag.
 *
 * Limits: a local part of at most 64 octets as sent, quotes and
 * backslashes included (§4.5.3.1.1), labels of 63, a domain of 255
 * (§4.5.3.1.2) and a mailbox of 254 octets (the 256-octet path of
 * §4.5.3.1.3 less its angle brackets), so a domain is at most 252.
 */
#ifndef POSTERN_MAILBOX_H
#define POSTERN_MAILBOX_H

#include <stddef.h>

#define MAILBOX_MAX 254
#define MAILBOX_LOCAL_MAX 64
#define MAILBOX_DOMAIN_MAX 255
#define MAILBOX_LABEL_MAX 63

enum mailbox_status {
	MAILBOX_OK = 0,
	MAILBOX_BAD,		/* outside the grammar */
	MAILBOX_LOCAL_LONG,	/* local part over 64 octets */
	MAILBOX_LONG,		/* mailbox over 254 octets */
	MAILBOX_LITERAL_TAG,	/* a general address literal: well-formed, undeliverable */
};

/* What the destination of a mailbox is. */
enum mailbox_kind { MAILBOX_DNS, MAILBOX_IPV4, MAILBOX_IPV6 };

struct mailbox_domain {
	enum mailbox_kind kind;
	int utf8;		/* a U-label: needs IDNA before DNS */
	unsigned char ip[16];	/* IPV4: 4 octets, IPV6: 16 */
};

struct mailbox {
	size_t at;		/* index of the '@' ending the local part */
	int utf8;		/* non-ASCII anywhere: needs SMTPUTF8 */
	struct mailbox_domain domain;
};

/* Parse the mailbox s[0..n).  MAILBOX_OK fills in *m. */
enum mailbox_status mailbox_parse(const unsigned char *s, size_t n, struct mailbox *m);

/* Parse a domain or address literal s[0..n) (what follows the '@', a
 * source route's domain, a job's destination).  MAILBOX_OK fills *d. */
enum mailbox_status mailbox_domain_parse(const unsigned char *s, size_t n,
                                         struct mailbox_domain *d);

/* 1 if s[0..n) is "postmaster" in any case (RFC 5321 §4.5.1). */
int mailbox_is_postmaster(const unsigned char *s, size_t n);

/* The checks of a stored envelope address, as queued and the workers make
 * them: 1 if acceptable, else 0.  A sender is "" (the null reverse-path)
 * or a mailbox; a recipient is "postmaster" or a mailbox.  Non-ASCII only
 * with utf8_ok; a general address literal never. */
int mailbox_sender_ok(const unsigned char *s, size_t n, int utf8_ok);
int mailbox_rcpt_ok(const unsigned char *s, size_t n, int utf8_ok);

/* 1 if the address s[0..n) has a byte >= 0x80. */
int mailbox_has_utf8(const unsigned char *s, size_t n);

#endif
