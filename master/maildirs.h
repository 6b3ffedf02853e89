/*
 * maildirs.h — the maildir routes of the delivery pool (workers.h): one
 * postern-maildir slot per distinct `maildir:/path` value of routes.cdb,
 * derived at start and whenever the table changes, and the checks a
 * maildir root passes before a worker is spawned for it.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_MAILDIRS_H
#define POSTERN_MASTER_MAILDIRS_H

#include <sys/stat.h>

#include "workers.h"

struct master;

/* routes.cdb changed (or at start): re-derive the maildir slots.  A new
 * route takes a free slot, a removed one's worker is sent SIGTERM (its
 * slot is freed when reaped), a kept but refused one is retried now.  An
 * unreadable table keeps every maildir slot as it is. */
void maildirs_routes_changed(struct master *m);

/* Open w's maildir root (a WORKER_MAILDIR slot) and check it; the
 * descriptor (O_CLOEXEC, the caller's to close) with its fstat in *st,
 * or -1 after logging event=maildir-refused. */
int maildirs_open_root(const struct master *m, const struct worker *w, struct stat *st);

#endif
