/*
 * tlsctl.h — the control channel between postern-smtpd (fd 3) and
 * postern-tlsd (fd 4): SOCK_SEQPACKET, one frame (lib/netstring.h) per
 * packet, lib/chan.h on both ends.  It exists only on starttls listeners
 * and carries one exchange per session (DESIGN §2 step 3):
 *
 *   smtpd -> tlsd:  `starttls` text
 *       text: the 220 reply's text without the code ("2.0.0 Ready to start
 *       TLS"), printable ASCII, 1..TLSCTL_TEXT_MAX octets.  smtpd has
 *       flushed every earlier reply to the pre-TLS pair and reads it no
 *       more.
 *   tlsd -> smtpd:  `ok` version cipher     the handshake completed; smtpd
 *                                            continues on its fd 1
 *                   `fail` reason           reason: 1..32 of [a-z-]
 *                                            (timeout, handshake, ...);
 *                                            tlsd then exits
 *
 * Anything else (another verb, a second `starttls`, a bad field, leftover
 * bytes) fails closed: tlsd exits, smtpd ends the session.  The facts
 * smtpd gets here only change what it advertises; what counts for AUTH is
 * what the master forwards to authd (lib/tlsfacts.h).
 */
#ifndef POSTERN_SMTPD_TLSCTL_H
#define POSTERN_SMTPD_TLSCTL_H

#include <stddef.h>

#include "tlsfacts.h"

#define TLSCTL_TEXT_MAX 400
#define TLSCTL_REASON_MAX 32
#define TLSCTL_FRAME_MAX 512

struct tlsctl_result {
	int ok;				/* 1: `ok`, 0: `fail` */
	struct tls_facts facts;		/* when ok */
	char reason[TLSCTL_REASON_MAX + 1];	/* when not ok */
};

/* Parse smtpd's `starttls` frame payload; the text into text[cap]
 * (cap > TLSCTL_TEXT_MAX).  0 or -1. */
int tlsctl_parse_request(const unsigned char *payload, size_t n, char *text, size_t cap);
/* Build a `starttls` frame with text into buf[cap]; start and *n, or NULL. */
const unsigned char *tlsctl_build_request(unsigned char *buf, size_t cap,
                                          const char *text, size_t *n);

/* Parse tlsd's answer payload into res.  0 or -1. */
int tlsctl_parse_result(const unsigned char *payload, size_t n, struct tlsctl_result *res);
/* Build an `ok` (facts != NULL) or `fail` reason frame.  NULL if invalid. */
const unsigned char *tlsctl_build_result(unsigned char *buf, size_t cap,
                                         const struct tls_facts *facts,
                                         const char *reason, size_t *n);

#endif
