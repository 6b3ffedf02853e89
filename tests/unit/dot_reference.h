/*
 * dot_reference.h — the DATA reader's definition written directly from
 * RFC 5321 §4.1.1.4 (end of data) and §4.5.2 (transparency), as a whole-
 * input function with no state machine.  tests/unit/test_dotreader.c and
 * fuzz/fuzz_dotreader.c both check smtpd/dotreader.c against it, so the
 * two can never drift apart.  Header-only (static): test code, not linked
 * into any program.
 */
#ifndef POSTERN_TESTS_DOT_REFERENCE_H
#define POSTERN_TESTS_DOT_REFERENCE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../smtpd/dotreader.h"

/* What the definition says about one input. */
struct dot_ref {
	size_t consumed;	/* through the terminator, or everything */
	size_t outlen;		/* unstuffed bytes kept (at most size_max) */
	unsigned flags;		/* enum dot_flags */
	int done;		/* a terminator was found */
	uint64_t size;		/* unstuffed bytes, kept or not */
};

/* Whether a line starts at raw[j]. */
static int dot_ref_bol(const unsigned char *raw, size_t j)
{
	return j == 0 || (j >= 2 && raw[j - 2] == '\r' && raw[j - 1] == '\n');
}

/* Where the data ends: sets r->done and r->consumed; returns the end of
 * the message bytes (the CRLF before the final dot belongs to them). */
static size_t dot_ref_end(const unsigned char *raw, size_t n, struct dot_ref *r)
{
	static const unsigned char term[] = "\r\n.\r\n";

	r->consumed = n;
	if (n >= 3 && memcmp(raw, ".\r\n", 3) == 0) {
		r->done = 1;
		r->consumed = 3;
		return 0;
	}
	for (size_t j = 0; j + 5 <= n; j++)
		if (memcmp(raw + j, term, 5) == 0) {
			r->done = 1;
			r->consumed = j + 5;
			return j + 2;
		}
	return n;
}

/* The outcome of reading raw[0..n) whole; out has room for n bytes. */
static void dot_reference(const unsigned char *raw, size_t n, size_t line_max,
                          uint64_t size_max, unsigned char *out, struct dot_ref *r)
{
	memset(r, 0, sizeof *r);
	size_t end = dot_ref_end(raw, n, r);
	/* Held back at the end of an unfinished input: "." or ".\r". */
	size_t emit_end = end;
	if (!r->done && end >= 1 && raw[end - 1] == '.' && dot_ref_bol(raw, end - 1))
		emit_end = end - 1;
	if (!r->done && end >= 2 && raw[end - 1] == '\r' && raw[end - 2] == '.' &&
	    dot_ref_bol(raw, end - 2))
		emit_end = end - 2;
	for (size_t j = 0; j < emit_end; j++) {
		if (raw[j] == '.' && dot_ref_bol(raw, j))
			continue;
		r->size++;
		if (r->size <= size_max)
			out[r->outlen++] = raw[j];
	}
	if (r->size > size_max)
		r->flags |= DOT_TOO_BIG;
	for (size_t j = 0; j < end; j++) {
		if (raw[j] == '\r' && j + 1 < r->consumed && raw[j + 1] != '\n')
			r->flags |= DOT_BARE_LF;
		if (raw[j] == '\n' && (j == 0 || raw[j - 1] != '\r'))
			r->flags |= DOT_BARE_LF;
		if (raw[j] == '\0')
			r->flags |= DOT_NUL;
	}
	/* RFC 5321 §4.5.3.1.6: the leading dot is not counted. */
	size_t line = 0;
	for (size_t j = 0; j < r->consumed; j++) {
		if (!(raw[j] == '.' && dot_ref_bol(raw, j)))
			line++;
		if (line > line_max)
			r->flags |= DOT_LINE_TOO_LONG;
		if (raw[j] == '\n' && j > 0 && raw[j - 1] == '\r')
			line = 0;
	}
}

#endif
