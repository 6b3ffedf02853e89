/*
 * fuzz_dotreader.c — libFuzzer target for smtpd/dotreader.c.
 *
 * Input: byte 0 picks line_max, byte 1 size_max, byte 2 the split pattern;
 * the rest is DATA bytes.  Invariants (abort() when broken):
 *  - the result equals a direct reference definition (end only at the first
 *    CRLF.CRLF or a leading ".\r\n", dots unstuffed, flags, size);
 *  - feeding in pieces with a small output buffer gives the same result;
 *  - output is never longer than the input consumed;
 *  - done only right after "\r\n.\r\n", or after ".\r\n" at the start.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../smtpd/dotreader.h"

#define MAXIN 16384

struct res {
	size_t consumed, outlen;
	unsigned flags;
	int done;
	uint64_t size;
	unsigned char out[MAXIN];
};

static struct res whole_r, split_r, ref_r;

/* Abort unless cond: libFuzzer reports the input. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* Feed in pieces of 1 + (pattern bits) bytes, output cap ocap per call. */
static void run(const uint8_t *in, size_t n, size_t lmax, uint64_t smax,
                unsigned pattern, size_t ocap, struct res *r)
{
	struct dotreader d;
	unsigned char tmp[MAXIN];
	size_t pos = 0;
	unsigned k = 0;

	memset(r, 0, offsetof(struct res, out));
	dotreader_init(&d, lmax, smax);
	while (pos < n && !d.done) {
		size_t piece = pattern ? 1 + ((pattern >> (k++ % 8)) & 7) : n - pos;
		if (piece > n - pos)
			piece = n - pos;
		size_t olen;
		size_t used = dotreader_feed(&d, in + pos, piece, tmp, ocap, &olen);
		check(used <= piece && olen <= ocap);
		check(used > 0 || d.done || olen == ocap);
		check(r->outlen + olen <= MAXIN);
		memcpy(r->out + r->outlen, tmp, olen);
		r->outlen += olen;
		pos += used;
	}
	r->consumed = pos;
	r->flags = d.flags;
	r->done = d.done;
	r->size = d.size;
}

/* Whether a line starts at raw[j]. */
static int bol(const uint8_t *raw, size_t j)
{
	return j == 0 || (j >= 2 && raw[j - 2] == '\r' && raw[j - 1] == '\n');
}

/* The reference definition (RFC 5321 §4.1.1.4, §4.5.2). */
static void reference(const uint8_t *raw, size_t n, size_t lmax, uint64_t smax,
                      struct res *r)
{
	size_t end = n, emit_end;
	const uint8_t *t = NULL;

	memset(r, 0, offsetof(struct res, out));
	r->consumed = n;
	if (n >= 3 && memcmp(raw, ".\r\n", 3) == 0) {
		r->done = 1;
		r->consumed = 3;
		end = 0;
	} else if ((t = memmem(raw, n, "\r\n.\r\n", 5)) != NULL) {
		r->done = 1;
		r->consumed = (size_t)(t - raw) + 5;
		end = r->consumed - 3;
	}
	emit_end = end;
	if (!r->done && end >= 1 && raw[end - 1] == '.' && bol(raw, end - 1))
		emit_end = end - 1;
	if (!r->done && end >= 2 && raw[end - 1] == '\r' && raw[end - 2] == '.' &&
	    bol(raw, end - 2))
		emit_end = end - 2;
	for (size_t j = 0; j < emit_end; j++) {
		if (raw[j] == '.' && bol(raw, j))
			continue;
		r->size++;
		if (r->size <= smax)
			r->out[r->outlen++] = raw[j];
	}
	if (r->size > smax)
		r->flags |= DOT_TOO_BIG;
	for (size_t j = 0; j < end; j++) {
		if (raw[j] == '\r' && j + 1 < r->consumed && raw[j + 1] != '\n')
			r->flags |= DOT_BARE_LF;
		if (raw[j] == '\n' && (j == 0 || raw[j - 1] != '\r'))
			r->flags |= DOT_BARE_LF;
		if (raw[j] == '\0')
			r->flags |= DOT_NUL;
	}
	size_t line = 0;
	for (size_t j = 0; j < r->consumed; j++) {
		if (++line > lmax)
			r->flags |= DOT_LINE_TOO_LONG;
		if (raw[j] == '\n' && j > 0 && raw[j - 1] == '\r')
			line = 0;
	}
}

/* Abort unless a and b are the same outcome. */
static void same(const struct res *a, const struct res *b)
{
	check(a->consumed == b->consumed && a->done == b->done);
	check(a->flags == b->flags && a->size == b->size);
	check(a->outlen == b->outlen && memcmp(a->out, b->out, a->outlen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size - 3 > MAXIN)
		return 0;
	size_t lmax = data[0] < 128 ? 3u + data[0] % 64 : 1000;
	uint64_t smax = data[1] < 128 ? data[1] : (uint64_t)1 << 30;
	unsigned pattern = data[2] | 1u;
	const uint8_t *in = data + 3;
	size_t n = size - 3;

	run(in, n, lmax, smax, 0, MAXIN, &whole_r);
	reference(in, n, lmax, smax, &ref_r);
	same(&whole_r, &ref_r);
	run(in, n, lmax, smax, pattern, 1 + data[2] % 5, &split_r);
	same(&whole_r, &split_r);
	check(whole_r.outlen <= whole_r.consumed);
	if (whole_r.done)
		check((whole_r.consumed == 3 && memcmp(in, ".\r\n", 3) == 0) ||
		      (whole_r.consumed >= 5 &&
		       memcmp(in + whole_r.consumed - 5, "\r\n.\r\n", 5) == 0));
	return 0;
}
