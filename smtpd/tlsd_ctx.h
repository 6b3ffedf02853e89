/*
 * tlsd_ctx.h — postern-tlsd's whole OpenSSL set-up, done before
 * sandbox_enter so that nothing opens a file or loads code afterwards:
 * library init without any config file, the default provider loaded,
 * the RNG seeded, the ticket cipher fetched, and an SSL_CTX with the
 * certificate chains and keys, version floor, cipher and group lists,
 * released idle buffers, no session cache and TLS 1.3 tickets only.
 */
#ifndef POSTERN_SMTPD_TLSD_CTX_H
#define POSTERN_SMTPD_TLSD_CTX_H

#include <openssl/ssl.h>

#include "tlsd_args.h"
#include "tlsfacts.h"

/* TLS 1.2 suites (forward secrecy and AEAD only; TLS 1.3 suites are
 * OpenSSL's defaults, all AEAD).  No DHE: finite-field groups are slow
 * and testssl.sh flags small ones. */
#define TLSD_CIPHERS_TLS12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLSD_GROUPS "X25519:P-256:P-384"
/* Lifetime of a TLS 1.3 ticket: no longer than the master keeps the key
 * that sealed it (it rotates hourly and keeps the previous key). */
#define TLSD_TICKET_LIFETIME_S 3600

/* Build the context.  On failure logs one line with OpenSSL's reason and
 * exits 111. */
SSL_CTX *tlsd_ctx_new(const struct tlsd_args *a);

/* The session's ticket keys (copied; n == 0: no resumption at all), set
 * before SSL_new: after tlsd_ctx_new in an exec'd tlsd, in the child of
 * a factory (smtpd/tlsd_factory.c) on its own copy of the context.
 * Touches memory only, so it may run inside the sandbox. */
void tlsd_ctx_set_keys(SSL_CTX *ctx, const struct tls_ticket_keys *keys);

/* The first error on OpenSSL's queue as a short text ("unknown" if
 * none); the queue is cleared. */
const char *tlsd_ssl_error(void);

#endif
