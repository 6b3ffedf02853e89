/*
 * server.h — postern-queued's single-threaded poll loop: the master's
 * control channel (fd 3), the sessions' sockets, the admin socket
 * queue/control, the group commit, and the scheduler's worker channels
 * (sched.h).
 *
 * Control channel (SOCK_SEQPACKET, netstring frames, fds by SCM_RIGHTS;
 * grammar in lib/ctlchan.h), master -> queued:
 *   `key` bytes(32)                          the auth MAC key
 *   `table` name fd                          "senders", "quotas", "routes"
 *   `session` id ip port listener mode + fd  a new session's socket
 *   `worker` kind route + fd                 a delivery worker's job channel
 *                                            (lib/jobchan.h, sched.h)
 * queued -> master: `ready` once, after sandbox_enter.
 * A malformed control frame, an unexpected descriptor or EOF ends queued
 * (the master restarts it); a malformed session frame closes that session.
 */
#ifndef POSTERN_QUEUE_SERVER_H
#define POSTERN_QUEUE_SERVER_H

#include "queued.h"

/* Descriptor of the control channel to the master. */
#define QUEUED_FD_CONTROL 3

/* Run until the master closes the control channel; returns the exit
 * status.  admin_fd: the listening admin socket (or -1). */
int server_run(struct queued *d, int admin_fd);

#endif
