/*
 * authd.h — wiring postern-authd into the master's daemon supervision
 * (daemon.h): its program, user, chroot (empty_dir), users.cdb at fd 4
 * (lib/fds.h AUTHD_FD_USERS), its options from postern.conf, and the
 * `table users` frame when users.cdb is replaced.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_AUTHD_H
#define POSTERN_MASTER_AUTHD_H

#include "master.h"

/* Register postern-authd in slot DAEMON_AUTHD. */
void authd_register(struct master *m);

#endif
