/*
 * senders.h — which sender addresses a login may use (DESIGN §5 tables;
 * invariant 4).  postern-queued, in the sandbox, over `senders.cdb`, a
 * descriptor the master passed (lib/cdbfd.h).
 *
 * Table format (built by `postern-table build` from a text file):
 *   key   the login (an address, as users.cdb)
 *   value one or more allowed entries separated by blanks or commas; a
 *         login may also have several records.  An entry is an address
 *         (allowed exactly) or "@domain" (any address in that domain).
 * Matching is ASCII case-insensitive on the whole address.  The login's
 * own address is always allowed (the default when the login has no
 * record or no table was given).  The null reverse path <> is allowed as
 * envelope sender (RFC 8098 MDNs, RFC 3464 reports), never as a header
 * address.
 */
#ifndef POSTERN_QUEUE_SENDERS_H
#define POSTERN_QUEUE_SENDERS_H

#include <stddef.h>

#include "cdbfd.h"

/* 1 allowed, 0 not allowed, -1 table error (the caller answers 451). */
int senders_allowed(struct cdbfd *t, const char *login, const char *addr, size_t n);

#endif
