/*
 * queued.h — wiring postern-queued into the master's daemon supervision
 * (daemon.h): its program, user, chroot (queue_dir), options from
 * postern.conf, and the senders/routes/quotas tables.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_QUEUED_H
#define POSTERN_MASTER_QUEUED_H

#include "master.h"

/* Register postern-queued in slot DAEMON_QUEUED. */
void queued_register(struct master *m);

#endif
