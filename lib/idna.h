/*
 * idna.h — the A-label form (RFC 5890) of a recipient domain written with
 * U-labels under SMTPUTF8 (RFC 6531 §3.2); the envelope keeps the UTF-8
 * form.  postern-queued converts at RCPT (a name IDNA2008 refuses gets
 * 553 5.1.2 there, before any 250) and routes by the A-labels;
 * postern-deliver looks the MX up by them.  Both call it in their
 * sandbox: libidn2 (IDNA2008 with the UTS #46 mapping's non-transitional
 * processing, as browsers and other MTAs resolve such names) does no I/O,
 * only malloc.
 */
#ifndef POSTERN_IDNA_H
#define POSTERN_IDNA_H

#include <stddef.h>

#include "hostname.h"

/* domain (NUL-terminated UTF-8) as a host name into out[HOSTNAME_MAX+1]:
 * 0, or -1 if IDNA refuses it or the result is not a valid host name. */
int idna_to_host(const char *domain, char out[HOSTNAME_MAX + 1]);

/* 1 unless addr (a NUL-terminated mailbox of lib/mailbox.h) has a domain
 * written with U-labels that IDNA2008 refuses: queued's RCPT check. */
int idna_mailbox_ok(const char *addr);

#endif
