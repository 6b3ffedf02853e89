/*
 * crlfcheck.c — the CRLF-cleanliness check of a byte stream in pieces
 * (crlfcheck.h).  Pure, no I/O; used by postern-queued and
 * postern-deliver, each in its sandbox.
 */
#include <string.h>

#include "crlfcheck.h"

/* Nothing seen yet: the start of a line. */
void crlf_init(struct crlfcheck *c)
{
	memset(c, 0, sizeof *c);
	c->bol = 1;
}

/* The next piece (see crlfcheck.h). */
void crlf_feed(struct crlfcheck *c, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char b = p[i];

		if (c->cr ? b != '\n' : b == '\n')
			c->flags |= CRLF_BARE;
		if (b == '\0')
			c->flags |= CRLF_NUL;
		c->bol = b == '\n';	/* a bare LF is flagged already */
		c->cr = b == '\r';
	}
}

/* After the last piece (see crlfcheck.h). */
unsigned crlf_finish(const struct crlfcheck *c)
{
	if (c->cr)
		return c->flags | CRLF_BARE;
	return c->bol ? c->flags : c->flags | CRLF_UNENDED;
}
