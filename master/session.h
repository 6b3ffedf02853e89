/*
 * session.h — starting the per-connection process for one accepted client.
 *
 * Process: postern (master).  See session.c for the descriptor layout and
 * the command line it builds (the contract of lib/fds.h and
 * smtpd/main.c).
 */
#ifndef POSTERN_MASTER_SESSION_H
#define POSTERN_MASTER_SESSION_H

#include <sys/socket.h>

#include "master.h"

/* Spawn postern-smtpd for client (accepted from listener l, peer address
 * peer) and record the session.  Always consumes client.  0, or -1 after
 * logging why nothing was started. */
int session_spawn(struct master *m, int client, const struct sockaddr_storage *peer,
                  const struct listen_spec *l);

#endif
