/*
 * tlsd_factory.h — postern-tlsd as a factory (DESIGN §1, "Memory"): one
 * process per TLS listener mode, exec'd by the master (master/
 * tlsfactory.c) as `postern-tlsd -F` followed by the usual tlsd
 * arguments (tlsd_args.h).  It does the whole OpenSSL set-up once, enters
 * its own sandbox, and then forks one tlsd per connection, so a session
 * shares the factory's initialised pages instead of paying an exec, the
 * dynamic relocations and the OpenSSL set-up each time.
 *
 * Descriptors of the factory:
 *   0, 1  /dev/null
 *   2     log pipe to the master (relayed as role=tlsd-factory)
 *   3     request socket to the master (SOCK_SEQPACKET)
 * (lib/fds.h TLSD_FACTORY_FD_*).  The grammar of fd 3 is
 * lib/factorychan.h, which the master links too: once in its sandbox the
 * factory sends `ready`; then each `fork` request (with the new tlsd's
 * fds 0..5, in the order of lib/fds.h TLSD_FD_*) gets one `pid N` or
 * `err ERRNAME` reply.  EOF on the request socket: the factory exits 0
 * (the master replaces it by closing its end).  Anything else is a broken
 * master: log, exit 111.
 *
 * The child is made with clone(CLONE_PARENT | SIGCHLD): its parent is
 * the master, which reaps it, signals it and logs its end exactly like an
 * exec'd tlsd.  In the child, in this order: its descriptors onto 0..5
 * and nothing else open; PR_SET_PDEATHSIG and a check that the master is
 * still its parent; non-blocking sockets; its own seccomp filter (tlsd's
 * allow-list, tlsd_sandbox_rules.c, prepared before the factory's
 * sandbox) stacked on the factory's, so a child can never clone; then a
 * reseed of OpenSSL's RNG (a forked DRBG must not repeat its parent's
 * output), the master's `keys` frame, SSL_new and the session.
 *
 * Non-dumpable (inherited from the factory), uid postern-tls, chroot: as
 * an exec'd tlsd.  The master replaces the factory after any child that
 * died of a signal it did not send and every tls_factory_sessions
 * children, so a crash-driven search of the shared address layout gains
 * nothing (DESIGN §1).
 */
#ifndef POSTERN_SMTPD_TLSD_FACTORY_H
#define POSTERN_SMTPD_TLSD_FACTORY_H

#include <openssl/ssl.h>

#include "tlsd_args.h"

/* The factory's life after the OpenSSL set-up (ctx without ticket keys):
 * prepare the children's filter, enter the factory's sandbox, serve
 * requests until EOF.  Never returns. */
void tlsd_factory_run(const struct tlsd_args *a, SSL_CTX *ctx) __attribute__((noreturn));

#endif
