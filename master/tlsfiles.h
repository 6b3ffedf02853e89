/*
 * tlsfiles.h — the master's look at the TLS certificate and key files
 * (tls_cert, tls_key, tls_cert2, tls_key2) at start and after each
 * SIGHUP, so an operator who renewed a certificate sees in the log
 * whether new sessions will find it.
 *
 * The master never opens or reads these files: the key belongs to
 * postern-tlsd alone (DESIGN invariant 5), which is exec'd per connection
 * and loads them before its sandbox, so each new session takes the files
 * as they are then and a session already running keeps what it loaded.
 * The check is stat(2) only: each must exist and be a regular file, and
 * a key must not be readable by others.
 *
 * Log: event=tls-files cert=P key=P [cert2=P key2=P] (all fine), or one
 * event=tls-files-bad file=P error=ENOENT|not-regular|world-readable per
 * problem.  Nothing is refused: new TLS sessions then fail their
 * handshake set-up with tlsd's own log line.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_TLSFILES_H
#define POSTERN_MASTER_TLSFILES_H

#include "master.h"

/* Check and log the configured TLS files, when a listener uses TLS;
 * returns the number of problems found. */
int tlsfiles_check(const struct master *m);

#endif
