/*
 * idarg.h — a user or group id given on a role's command line (-u UID,
 * -g GID): the master resolved the names (getpwnam opens files, which a
 * sandboxed role may not), so the role gets numbers, trusted but still
 * checked so that a master bug fails closed.  Pure, before the sandbox.
 *
 *   id = decimal 1..4294967294, no sign, no blank, no leading zero
 *        (0 is root, which no role runs as; 2^32-1 is "no id" to the
 *        kernel's setresuid/setresgid)
 */
#ifndef POSTERN_IDARG_H
#define POSTERN_IDARG_H

#include <sys/types.h>

#define IDARG_MAX 0xfffffffeu

/* Read s as an id (grammar above) into *out.  0, or -1 and *out untouched. */
int idarg_parse(const char *s, unsigned *out);

/* Option opt ('u' or 'g') with value v: store into *uid or *gid.  0, or
 * -1 for a bad value or another letter. */
int idarg_apply(char opt, const char *v, uid_t *uid, gid_t *gid);

#endif
