/*
 * children.h — the end of sessions: reaping exited children, relaying what
 * is left in their log pipes, logging how they ended (a SIGSYS death is a
 * sandbox violation), the per-second housekeeping, and signalling them all
 * at shutdown.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_CHILDREN_H
#define POSTERN_MASTER_CHILDREN_H

#include "master.h"

/* After SIGCHLD: reap every exited child without blocking. */
void children_reap(struct master *m);

/* Reap every child, waiting for each (after SIGKILL at shutdown). */
void children_reap_all_blocking(struct master *m);

/* Relay what session i's pipe holds now (poll said readable). */
void children_read_log(struct master *m, struct session *s);
/* The same for the pipe of the session's postern-tlsd. */
void children_read_tls_log(struct master *m, struct session *s);

/* Once a second: log-rate windows, and SIGKILL for sessions that outlived
 * session_timeout by a grace period (a hung or hostile child). */
void children_tick(struct master *m);

/* Send sig to every live session. */
void children_signal_all(struct master *m, int sig);

#endif
