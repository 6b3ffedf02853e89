/*
 * addrlist.h — the addresses of a From:/Sender: field body (RFC 5322
 * §3.4 address-list, with groups), for queued's header sender check.
 * Pure function over untrusted bytes.
 *
 * Each mailbox gives one address: the text inside its angle brackets, or
 * the whole element (comments removed, blanks trimmed).  Elements are
 * separated by commas outside quotes, comments and brackets; "name:" group
 * prefixes and ";" group ends are dropped.  Anything odd (unbalanced
 * quote, comment or bracket, an empty address, more than ADDRLIST_MAX
 * addresses or one longer than ADDRLIST_ADDR_MAX) fails the whole field:
 * the caller refuses the message (fail closed).
 */
#ifndef POSTERN_QUEUE_ADDRLIST_H
#define POSTERN_QUEUE_ADDRLIST_H

#include <stddef.h>

#define ADDRLIST_MAX 64
#define ADDRLIST_ADDR_MAX 512

/* Called once per address; non-zero stops the walk (and is returned). */
typedef int (*addr_fn)(void *ctx, const char *addr, size_t n);

/* Returns the number of addresses (>= 1); -1 if the field is malformed or
 * holds no address; -2 if fn returned non-zero for one. */
int addrlist_parse(const unsigned char *p, size_t n, addr_fn fn, void *ctx);

#endif
