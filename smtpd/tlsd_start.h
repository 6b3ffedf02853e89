/*
 * tlsd_start.h — the steps every postern-tlsd takes before its session,
 * shared by the exec'd tlsd (main_tlsd.c) and the child of a factory
 * (tlsd_factory.c): the master's `keys` frame from the facts descriptor,
 * non-blocking sockets, and the session's SSL object on the client fd.
 * Descriptors: lib/fds.h TLSD_FD_*.
 */
#ifndef POSTERN_SMTPD_TLSD_START_H
#define POSTERN_SMTPD_TLSD_START_H

#include <openssl/ssl.h>

#include "sandbox.h"
#include "tlsd_args.h"
#include "tlsfacts.h"

/* Read the `keys` frame (lib/tlsfacts.h), first on TLSD_FD_FACTS; it was
 * written before this process existed, so waiting long means a broken
 * master: fatal after 2 s, or on a malformed frame. */
void tlsd_read_keys(struct tls_ticket_keys *k);

/* The client, pre-TLS and post-TLS descriptors non-blocking (every wait
 * is a poll with a deadline); fatal if not. */
void tlsd_set_nonblocking(void);

/* A session tlsd's sandbox: chroot, uid and gid from a, tlsd's
 * allow-list (tlsd_sandbox_rules.c). */
void tlsd_sandbox_spec(const struct tlsd_args *a, struct sandbox_spec *spec);

/* SSL_new(ctx) bound to TLSD_FD_CLIENT; fatal if not. */
SSL *tlsd_new_ssl(SSL_CTX *ctx);

#endif
