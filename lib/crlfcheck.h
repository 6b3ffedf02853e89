/*
 * crlfcheck.h — is a stream of message bytes CRLF-clean?  RFC 5321 §2.3.8
 * and RFC 5322 §2.1, §2.3: CR and LF occur only together as CRLF, and NUL
 * is not text in any body type postern offers (RFC 2045 §2.7, §2.8).  The
 * bytes may come in any number of pieces (queued's `chunk` frames,
 * deliver's reads): the state is carried across, so a CRLF split over two
 * pieces is clean and a CR ending one piece is bare unless the next one
 * starts with LF.  Used by postern-queued on every message it receives and
 * by postern-deliver before it sends one (invariant 2: a bare CR or LF is
 * what a lenient reader downstream would take for a line end, e.g.
 * `<CR>.<CR><LF>` for the end of data).  Pure: no I/O, no allocation.
 */
#ifndef POSTERN_CRLFCHECK_H
#define POSTERN_CRLFCHECK_H

#include <stddef.h>

enum crlf_flags {
	CRLF_BARE = 1,		/* a CR not followed by LF, or an LF not after CR */
	CRLF_NUL = 2,		/* a NUL byte */
	CRLF_UNENDED = 4,	/* crlf_finish: the last line has no CRLF */
};

struct crlfcheck {
	unsigned flags;		/* enum crlf_flags seen so far */
	int cr;			/* the last byte was a CR */
	int bol;		/* at the start of a line (nothing yet, or after an LF) */
};

void crlf_init(struct crlfcheck *c);
/* Feed the next p[0..n). */
void crlf_feed(struct crlfcheck *c, const unsigned char *p, size_t n);
/* After the last piece: the flags, a CR at the very end counting as bare
 * and a last line without CRLF as CRLF_UNENDED (nothing at all is fine:
 * the empty message). */
unsigned crlf_finish(const struct crlfcheck *c);

#endif
