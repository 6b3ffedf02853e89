/*
 * tlsd_session.h — the life of one postern-tlsd after its set-up: on a
 * starttls listener, relay plaintext to smtpd's pre-TLS pair until smtpd
 * asks for STARTTLS on the control fd, then do the STARTTLS sequence
 * (DESIGN §2 step 3) and relay TLS to the post-TLS pair; on a tls
 * listener (RFC 8314) handshake first.  Descriptors: lib/fds.h TLSD_FD_*.
 */
#ifndef POSTERN_SMTPD_TLSD_SESSION_H
#define POSTERN_SMTPD_TLSD_SESSION_H

#include <openssl/ssl.h>

#include "tlsd_args.h"

/* Serve the session with ssl (already bound to the client fd); returns
 * when it is over, with the exit status for the process. */
int tlsd_session_run(const struct tlsd_args *a, SSL *ssl);

#endif
