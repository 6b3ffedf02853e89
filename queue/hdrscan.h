/*
 * hdrscan.h — a bounded look at a message's header section while it
 * streams through postern-queued (RFC 5322 §2.2; RFC 6409 §8): which
 * fields are there (Date:, Message-ID:) and the addresses of From: and
 * Sender:, for the sender check.  The header section is collected up to
 * HDRSCAN_MAX bytes (one buffer per message in DATA, freed at the end);
 * the body is never kept.
 *
 * Failure policy: a header section longer than HDRSCAN_MAX marks the scan
 * "overflow" and the caller refuses the message (552 5.3.4): a header the
 * check cannot see whole cannot be checked.  A message with a bare CR, a
 * bare LF or a NUL anywhere, the header section included, is refused by
 * the caller (qdata.c, lib/crlfcheck.h; 550 5.6.0), so the walk below
 * only ever sees CRLF lines: queued does not trust smtpd's DATA checks,
 * and readers split such lines differently (`Subject: x<LF>From: victim`
 * is one field here, two to a reader that ends lines at LF), so the
 * sender check would otherwise see another header than the recipient.
 */
#ifndef POSTERN_QUEUE_HDRSCAN_H
#define POSTERN_QUEUE_HDRSCAN_H

#include <stddef.h>

#define HDRSCAN_MAX 65536

struct hdrscan {
	unsigned char *buf;	/* HDRSCAN_MAX bytes, malloc'd by hdrscan_begin */
	size_t len;
	int done;		/* the empty line was seen (or the cap hit) */
	int overflow;
};

/* Start a message; 0, or -1 (out of memory). */
int hdrscan_begin(struct hdrscan *h);
/* Feed message bytes in order. */
void hdrscan_feed(struct hdrscan *h, const unsigned char *p, size_t n);
/* Release the buffer. */
void hdrscan_end(struct hdrscan *h);

/* Called per header field whose name matches (case-insensitively);
 * value is the unfolded field body (CRLF removed). */
typedef int (*hdr_field_fn)(void *ctx, const char *name, const unsigned char *value,
                            size_t n);
/* Walk the collected fields (after the last feed).  Returns the number of
 * fields whose name is `name`, or -1 if fn returned non-zero.  fn may be
 * NULL (just count).  scratch[cap] holds an unfolded value; a longer field
 * is given cut at cap, and a cut can fall where a parser sees a complete,
 * harmless list (e.g. just after a long comment), so a caller that checks
 * addresses passes cap >= HDRSCAN_MAX (an unfolded field is never longer
 * than the collected section). */
int hdrscan_fields(const struct hdrscan *h, const char *name, hdr_field_fn fn, void *ctx,
                   unsigned char *scratch, size_t cap);

#endif
