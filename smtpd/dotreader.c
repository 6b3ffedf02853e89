/*
 * dotreader.c — the byte-level DATA state machine (RFC 5321 §4.1.1.4 end
 * of data, §4.5.2 transparency, §4.5.3.1.6 text line length).
 *
 * Process: postern-smtpd (also unit tests, golden tests, fuzz target).
 * Descriptors: none.  Pure: no I/O, no allocation, no global state.
 *
 * Grammar: the message is lines ended by CRLF; the data ends at the first
 * line that is exactly ".\r\n" (CRLF.CRLF, or ".\r\n" as the very first
 * line: an empty message).  The CRLF before the final dot belongs to the
 * message.  A dot at the start of any other line is removed (unstuffing).
 * Only CRLF ends a line: after a bare LF or a bare CR we are in the middle
 * of a line, so "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n" never end the data
 * (invariant 2, "no smuggling": a lenient terminator here would let a
 * client hide a second message from a stricter MTA downstream).
 *
 * Failure policy: bare CR/LF (DOT_BARE_LF), NUL (DOT_NUL), over-long
 * lines and an over-size body are flags, never an early stop: reading always goes on to
 * the real CRLF.CRLF so the rest of the message is never read as
 * commands.  Once DOT_TOO_BIG is set no more output is written.  A line's
 * length counts its octets with CRLF but without a dot at its start: that
 * dot is either the transparency dot (§4.5.3.1.6: the limit is "without
 * counting the leading dot duplicated for transparency") or the end of
 * data, never text, so a 998-octet line starting with '.' is accepted
 * though it is 1001 octets on the wire.
 */
#include "dotreader.h"

#include <string.h>

/* d->state */
enum {
	ST_BOL,		/* at the start of a line */
	ST_IN,		/* inside a line */
	ST_CR,		/* after a CR (already written out) */
	ST_DOT,		/* after a dot at the start of a line (held back) */
	ST_DOT_CR,	/* after ".\r" at the start of a line (both held back) */
	ST_DONE,	/* ".\r\n" seen */
};

/* What one step of the machine does. */
struct step {
	int next;	/* new state */
	int emit;	/* byte to write out, or -1 */
	int consume;	/* 1: the input byte is used; 0: look at it again */
	int line_end;	/* a CRLF just ended a line */
	unsigned flags;	/* enum dot_flags to add */
	int not_text;	/* the dot at a line's start: not counted in its length */
};

/* Start reading one message body. */
void dotreader_init(struct dotreader *d, size_t line_max, uint64_t size_max)
{
	memset(d, 0, sizeof *d);
	d->state = ST_BOL;
	d->line_max = line_max;
	d->size_max = size_max;
}

/* A byte inside a line (also the start of a line that is not a dot). */
static struct step step_in(unsigned char c)
{
	struct step s = { ST_IN, c, 1, 0, 0, 0 };
	if (c == '\r')
		s.next = ST_CR;
	else if (c == '\n')
		s.flags = DOT_BARE_LF;
	return s;
}

/* Decide what byte c does in state st, without doing it. */
static struct step decide(int st, unsigned char c)
{
	struct step s = { st, -1, 1, 0, 0, 0 };

	switch (st) {
	case ST_BOL:
		if (c == '.') {
			s.next = ST_DOT;
			s.not_text = 1;
			return s;
		}
		return step_in(c);
	case ST_CR:
		if (c == '\n') {
			s.next = ST_BOL;
			s.emit = '\n';
			s.line_end = 1;
			return s;
		}
		/* Bare CR (already written): see c again inside the line. */
		s.next = ST_IN;
		s.consume = 0;
		s.flags = DOT_BARE_LF;
		return s;
	case ST_DOT:
		if (c == '\r') {
			s.next = ST_DOT_CR;
			return s;
		}
		/* More on the line: the dot was stuffing; drop it. */
		s.next = ST_IN;
		s.consume = 0;
		return s;
	case ST_DOT_CR:
		if (c == '\n') {
			s.next = ST_DONE;
			return s;
		}
		/* ".\r" then not LF: a stuffing dot and a bare CR. */
		s.next = ST_IN;
		s.emit = '\r';
		s.consume = 0;
		s.flags = DOT_BARE_LF;
		return s;
	default:
		return step_in(c);
	}
}

/* Account one consumed input byte against the line limit (unless it is
 * not text); note a NUL. */
static void count_line(struct dotreader *d, unsigned char c, int not_text)
{
	if (!not_text && d->line_len <= d->line_max)
		d->line_len++;	/* saturates just over the limit */
	if (d->line_len > d->line_max)
		d->flags |= DOT_LINE_TOO_LONG;
	if (c == '\0')
		d->flags |= DOT_NUL;
}

/* Feed in[0..inlen); write unstuffed bytes to out[0..outcap). */
size_t dotreader_feed(struct dotreader *d, const unsigned char *in, size_t inlen,
                      unsigned char *out, size_t outcap, size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < inlen && d->state != ST_DONE) {
		unsigned char c = in[i];
		struct step s = decide(d->state, c);
		int writing = s.emit >= 0 && !(d->flags & DOT_TOO_BIG) &&
		              d->size < d->size_max;
		if (writing && o == outcap)
			break;	/* no room: stop before changing anything */
		d->flags |= s.flags;
		if (s.consume) {
			count_line(d, c, s.not_text);
			i++;
		}
		if (s.emit >= 0) {
			if (d->size < UINT64_MAX)
				d->size++;
			if (d->size > d->size_max)
				d->flags |= DOT_TOO_BIG;
			else
				out[o++] = (unsigned char)s.emit;
		}
		if (s.line_end)
			d->line_len = 0;
		d->state = s.next;
	}
	d->done = d->state == ST_DONE;
	*outlen = o;
	return i;
}
