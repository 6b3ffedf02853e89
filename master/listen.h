/*
 * listen.h — opening and closing the configured listening sockets.
 *
 * Process: postern (master).  The sockets are non-blocking and close-on-exec
 * (a child gets only the one accepted connection, dup'ed onto fd 0).
 */
#ifndef POSTERN_MASTER_LISTEN_H
#define POSTERN_MASTER_LISTEN_H

#include "master.h"

/* Bind and listen on every listener of m->conf; logs event=listening for
 * each.  Exits 111 with event=fatal if one cannot be opened. */
void listen_open_all(struct master *m);

/* Close every listener (shutdown: stop accepting). */
void listen_close_all(struct master *m);

#endif
