/*
 * cmdline.c — splitting buffered client input into SMTP command lines
 * (RFC 5321 §2.3.8 "lines end with CRLF", §4.5.3.1.4 command line limit).
 *
 * Process: postern-smtpd (linked into the engine; also unit tests, fuzz).
 * Descriptors: none.  Pure: no I/O, no allocation, no global state.
 *
 * Grammar: a line is any bytes up to and including the first LF.  It is
 * good (CL_LINE) only if that LF is preceded by CR and the bytes before
 * the CR hold no CR, LF or NUL.  Its length counts the CRLF; a line longer
 * than r->max is over-long.
 *
 * Failure policy: a bad or over-long line is reported once, when its LF
 * arrives, and consumed whole, so no tail of it can ever be taken as a
 * command (command injection by line splitting).  While an over-long line
 * is being read, every call consumes all input it is given (CL_MORE with
 * *used = len), so the caller's buffer never fills.  If an over-long line
 * also held a bad byte, CL_BAD wins: bad bytes are the stronger signal.
 *
 * r->draining is 0 (not draining), DRAIN_YES, or DRAIN_AFTER_CR when the
 * last byte dropped was a CR (whether the next LF is a proper CRLF).
 */
#include "cmdline.h"

#include <string.h>

enum { DRAIN_YES = 1, DRAIN_AFTER_CR = 2 };

/* Start reading command lines of at most max octets, CRLF included. */
void cmdline_init(struct cmdline_reader *r, size_t max)
{
	memset(r, 0, sizeof *r);
	r->max = max;
}

/* Whether line[0..n) (the bytes before its LF) ends in CR and holds no
 * other CR nor any NUL. */
static int line_is_clean(const unsigned char *line, size_t n)
{
	if (n == 0 || line[n - 1] != '\r')
		return 0;	/* bare LF */
	for (size_t i = 0; i + 1 < n; i++)
		if (line[i] == '\r' || line[i] == '\0')
			return 0;
	return 1;
}

/* Whether data[0..n) (no LF inside) holds a NUL or a CR followed by
 * something else than LF; a CR as last byte is left to the caller. */
static int chunk_is_bad(const unsigned char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\0')
			return 1;
		if (data[i] == '\r' && i + 1 < n)
			return 1;	/* the next byte is not LF here */
	}
	return 0;
}

/* Drop bytes of an over-long line: up to its LF (reporting it) or all. */
static enum cl_result drain(struct cmdline_reader *r, const unsigned char *data,
                            size_t len, size_t *used)
{
	const unsigned char *lf = memchr(data, '\n', len);
	size_t n = lf ? (size_t)(lf - data) : len;

	/* A CR left over from the previous call: followed by LF or not? */
	if (r->draining == DRAIN_AFTER_CR && n > 0)
		r->bad = 1;
	if (chunk_is_bad(data, n))
		r->bad = 1;
	if (lf == NULL) {
		if (n > 0)
			r->draining = data[n - 1] == '\r' ? DRAIN_AFTER_CR : DRAIN_YES;
		*used = len;
		return CL_MORE;
	}
	/* The LF must follow a CR, either in this chunk or the last one. */
	if (n > 0 ? data[n - 1] != '\r' : r->draining != DRAIN_AFTER_CR)
		r->bad = 1;
	enum cl_result res = r->bad ? CL_BAD : CL_TOO_LONG;
	*used = n + 1;
	r->draining = 0;
	r->bad = 0;
	return res;
}

/* Look at the unconsumed input data[0..len); see enum cl_result. */
enum cl_result cmdline_next(struct cmdline_reader *r, const unsigned char *data,
                            size_t len, size_t *linelen, size_t *used)
{
	*linelen = 0;
	*used = 0;
	if (len == 0)
		return CL_MORE;
	if (r->draining)
		return drain(r, data, len, used);

	size_t scan = len < r->max ? len : r->max;
	const unsigned char *lf = memchr(data, '\n', scan);
	if (lf != NULL) {
		size_t n = (size_t)(lf - data);
		*used = n + 1;
		if (!line_is_clean(data, n))
			return CL_BAD;
		*linelen = n - 1;
		return CL_LINE;
	}
	if (len < r->max)
		return CL_MORE;	/* may still end in time */

	/* max octets and no LF: over-long whatever comes.  Drop what we have
	 * and go on dropping until its LF (RFC 5321 §4.5.3.1.10 leaves the
	 * reply to us; we answer only after the end of the line). */
	r->draining = DRAIN_YES;
	r->bad = 0;
	return drain(r, data, len, used);
}
