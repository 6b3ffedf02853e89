/*
 * roles.h — resolving the role users to numeric ids, and the start-up
 * checks of the directories and programs the master hands to its children.
 *
 * Process: postern (master), at start only (getpwnam opens /etc/passwd and
 * NSS modules; children never do).
 */
#ifndef POSTERN_MASTER_ROLES_H
#define POSTERN_MASTER_ROLES_H

#include <stddef.h>

#include "master.h"

/* Fill ids: as root, each role's uid/gid from getpwnam; otherwise our own
 * uid/gid for every role.  0, or -1 with the reason in err. */
int roles_resolve(const struct master_conf *c, struct role_ids *ids,
                  char *err, size_t errcap);

/* Check DIR and postern.conf (as root: root's, not writable by group or
 * other) and empty_dir (as root: a root-owned directory, not writable by
 * group or other, empty).  0, or -1 with the reason. */
int roles_check_paths(const struct master_conf *c, int root,
                      char *err, size_t errcap);

/* Open libexec_dir/postern-smtpd, and postern-tlsd when a listener is
 * starttls or tls, into m->prog_* (progfd.h: as root, root's file in a
 * chain of root's directories, none writable by group or other).  0, or
 * -1 with the reason. */
int roles_open_programs(struct master *m, char *err, size_t errcap);

#endif
