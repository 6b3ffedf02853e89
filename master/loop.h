/*
 * loop.h — the master's single-threaded poll loop and its shutdown.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_LOOP_H
#define POSTERN_MASTER_LOOP_H

#include "master.h"

/* Run until SIGTERM/SIGINT and the end of the shutdown; returns the exit
 * status (0).  scratch is a spare configuration for SIGHUP. */
int loop_run(struct master *m, struct master_conf *scratch);

#endif
