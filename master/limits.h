/*
 * limits.h — the connection limits checked before anything is spawned:
 * connections_max sessions in all, connections_per_ip_max from one client
 * address.  Over a limit the client gets one "421 4.7.0" line (RFC 5321
 * §3.8: a server may refuse with 421 before the greeting) and is closed.
 *
 * Process: postern (master).  Failure policy: the check never blocks; the
 * 421 is written with MSG_DONTWAIT and may be lost (best effort).
 */
#ifndef POSTERN_MASTER_LIMITS_H
#define POSTERN_MASTER_LIMITS_H

#include <sys/socket.h>

#include "master.h"

/* NULL if a new session from peer is allowed, else the limit's key name. */
const char *limits_check(const struct master *m, const struct sockaddr_storage *peer);

/* Write the 421 reply to fd without blocking; does not close fd. */
void limits_refuse(int fd, const char *hostname);

#endif
