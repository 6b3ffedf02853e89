/*
 * dotreader.h — the byte-level DATA state machine (RFC 5321 §4.1.1.4,
 * §4.5.2).  The only end of data is CRLF.CRLF; a bare CR or a bare LF
 * anywhere in the message marks it bad (invariant 2 "no smuggling") but
 * reading goes on to the real terminator, so the rest of the message can
 * never be read as commands.  Dot-stuffing is undone.  Lines longer than
 * the text-line limit, bodies over the size limit and NUL bytes are
 * flagged, and reading likewise goes on to the end.  Pure: bytes in,
 * bytes out.
 */
#ifndef POSTERN_SMTPD_DOTREADER_H
#define POSTERN_SMTPD_DOTREADER_H

#include <stddef.h>
#include <stdint.h>

enum dot_flags {
	DOT_BARE_LF = 1,	/* bare LF or bare CR seen */
	DOT_LINE_TOO_LONG = 2,	/* a line over line_max (CRLF included, stuffing dot not) */
	DOT_TOO_BIG = 4,	/* unstuffed size over size_max */
	DOT_NUL = 8,		/* a NUL byte: no body type offered allows it */
};

struct dotreader {
	int state;		/* internal */
	size_t line_len;	/* octets of the current line so far, unstuffed */
	size_t line_max;	/* 1000 by default, CRLF included, leading dot not */
	uint64_t size;		/* unstuffed octets so far */
	uint64_t size_max;
	unsigned flags;		/* enum dot_flags */
	int done;		/* CRLF.CRLF seen */
};

void dotreader_init(struct dotreader *d, size_t line_max, uint64_t size_max);
/* Feed in[0..inlen).  Unstuffed message bytes go to out (at most outcap;
 * pass outcap > inlen to never stop early: a CR held back after a dot at
 * the start of a line comes out together with the byte after it, so one
 * call may write one byte more than it consumes).  Returns the number of input
 * bytes consumed: stops right after the terminator (d->done set) or when out
 * is full.  *outlen is set to the bytes written.  Once any flag is set the
 * message is refused (cmd_data.c) and the caller may discard the output. */
size_t dotreader_feed(struct dotreader *d, const unsigned char *in, size_t inlen,
                      unsigned char *out, size_t outcap, size_t *outlen);

#endif
