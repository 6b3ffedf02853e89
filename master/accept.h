/*
 * accept.h — taking new connections from a readable listener.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_ACCEPT_H
#define POSTERN_MASTER_ACCEPT_H

#include "master.h"

/* Accept what listener i has queued (bounded per call), refuse what is
 * over a limit, spawn a session for the rest. */
void accept_ready(struct master *m, unsigned i);

#endif
