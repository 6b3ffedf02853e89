/*
 * dsn_text.h — the text pieces of a delivery status notification, each
 * made 7-bit safe before it reaches a report (RFC 3464, RFC 3461, RFC 6533).
 * postern-queued, in its sandbox.  Pure: no I/O, no allocation.
 *
 * Every function writes at most cap bytes including a terminating NUL and
 * returns the length written; 0 means "does not fit / not valid" where
 * said.  Output never holds CR, LF, NUL, a control byte or a byte >= 0x80,
 * so a field built from it is one line of printable ASCII.
 */
#ifndef POSTERN_QUEUE_DSN_TEXT_H
#define POSTERN_QUEUE_DSN_TEXT_H

#include <stddef.h>
#include <time.h>

#define DSN_TEXT_MAX 512	/* remote reply text kept, as the worker caps it */
#define DSN_DATE_MAX 64

/* Printable-ASCII copy of s[0..n), cut at max characters; any other byte
 * (CR, LF, HT, NUL, controls, 8-bit) becomes '?'. */
size_t dsn_safe(char *dst, size_t cap, const void *s, size_t n, size_t max);

/* An address as "rfc822;ADDR" when it is printable ASCII without spaces,
 * else "utf-8;" with the utf-8-addr-xtext of RFC 6533 §3 (\x{HEX} for
 * '+', '=', '\\' and every non-ASCII code point; an invalid UTF-8 byte
 * becomes \x{FFFD}).  0 if it does not fit or n == 0. */
size_t dsn_addr(char *dst, size_t cap, const void *a, size_t n);

/* ENVID or the address of ORCPT, xtext (RFC 3461 §4) decoded, as RFC 3461
 * §6.3 asks for the report; the raw xtext when the decoded value would hold
 * anything but printable ASCII (the xtext itself always is), or when it is
 * not well-formed xtext: then every byte outside 0x21..0x7e becomes '?'. */
size_t dsn_xtext(char *dst, size_t cap, const void *x, size_t n);

/* ORCPT "addr-type;xtext" as "addr-type;decoded" (dsn_xtext for the
 * address); 0 when there is no ';' or the type is not an atom of letters,
 * digits and '-'. */
size_t dsn_orcpt(char *dst, size_t cap, const void *o, size_t n);

/* 1 if s is an RFC 3463 status "c.sss.ddd" with class 2, 4 or 5 and at
 * most three digits per subject/detail. */
int dsn_status_ok(const char *s);

/* 1 if s is a plausible host name or address literal for Remote-MTA /
 * Reporting-MTA: 1..253 of letters, digits, '.', '-', '_', ':', '[', ']'. */
int dsn_host_ok(const char *s);

/* RFC 5322 §3.3 date-time in local time (the zone tzset() read before
 * the chroot); 0 on failure. */
size_t dsn_date(char *dst, size_t cap, time_t t);

#endif
