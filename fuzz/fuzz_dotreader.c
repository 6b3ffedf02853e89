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
#include "../tests/unit/dot_reference.h"

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

/* The reference definition (tests/unit/dot_reference.h) into r. */
static void reference(const uint8_t *raw, size_t n, size_t lmax, uint64_t smax,
                      struct res *r)
{
	struct dot_ref d;

	dot_reference(raw, n, lmax, smax, r->out, &d);
	r->consumed = d.consumed;
	r->outlen = d.outlen;
	r->flags = d.flags;
	r->done = d.done;
	r->size = d.size;
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
