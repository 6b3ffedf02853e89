/*
 * reload.h — SIGHUP: re-read postern.conf and apply what can change while
 * running.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_RELOAD_H
#define POSTERN_MASTER_RELOAD_H

#include "master.h"

/* Re-read m->conf's file into scratch; on success copy the reloadable keys
 * into m->conf and log event=reload with what changed and which changed
 * keys need a restart; on failure log event=reload-failed with
 * "FILE:LINE: reason" and keep the old configuration. */
void reload_config(struct master *m, struct master_conf *scratch);

#endif
