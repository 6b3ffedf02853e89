/*
 * bounce_orig.h — reading the original message for a report
 * (bounce_compose.h): what can be returned, whether a boundary occurs in
 * it, and copying it out, made safe or as is.  postern-queued, in its
 * sandbox; reads only with pread on the descriptor it is given (the
 * caller's offset stays untouched), writes only to a bounce_sink.
 *
 * Failure policy: a read error is -1 with errno (EIO for a file that
 * shrank); the report is then not made.
 */
#ifndef POSTERN_QUEUE_BOUNCE_ORIG_H
#define POSTERN_QUEUE_BOUNCE_ORIG_H

#include <stddef.h>
#include <stdint.h>

#include "bounce_compose.h"

struct orig_info {
	uint64_t size;		/* bytes scanned (the whole file if full_ok) */
	uint64_t hdr_take;	/* bytes of header section to return (whole lines) */
	int full_ok;		/* the whole message may go in a message/rfc822 */
};

/* Scan the first limit bytes of fd (see bounce_compose.h for the rules). */
int orig_scan(int fd, uint64_t limit, struct orig_info *o);

/* 1 if needle occurs in fd[0..len), 0 if not, -1 on a read error. */
int orig_has(int fd, uint64_t len, const char *needle);

/* Copy fd[0..len) to s: as is (fix == 0) or made safe (fix == 1:
 * CR LF line ends, bytes outside 0x20..0x7e but HT as '?', lines cut at
 * BOUNCE_LINE_MAX).  0 or -1. */
int orig_copy(int fd, uint64_t len, int fix, const struct bounce_sink *s);

/* Copy p[0..n) to s made safe as orig_copy with fix == 1.  0 or -1. */
int text_copy_safe(const void *p, size_t n, const struct bounce_sink *s);

#endif
