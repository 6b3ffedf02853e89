/*
 * fuzz_cmdline.c — libFuzzer target for smtpd/cmdline.c.
 *
 * Input: byte 0 picks the limit, byte 1 the split pattern; the rest is
 * client bytes.  It runs the splitter like the engine does (a buffer of
 * limit + a few bytes, input arriving in pieces) and aborts unless:
 *  - every CL_LINE ends in CRLF, holds no CR/LF/NUL, fits the limit;
 *  - a full buffer always makes progress;
 *  - the results equal a reference splitter, whole and in pieces.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../smtpd/cmdline.h"

#define MAXIN 8192

/* One result: kind, where the line starts in the input, its length. */
struct ev {
	char kind;
	size_t start, len;
};

struct evs {
	size_t n;
	struct ev e[MAXIN + 1];
};

static struct evs ref_e, whole_e, split_e;

/* Abort unless cond. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* Append an event. */
static void add(struct evs *v, char kind, size_t start, size_t len)
{
	check(v->n <= MAXIN);
	v->e[v->n].kind = kind;
	v->e[v->n].start = kind == 'L' ? start : 0;
	v->e[v->n].len = len;
	v->n++;
}

/* Cut at each LF and classify (bad beats too long). */
static void reference(const uint8_t *in, size_t n, size_t max, struct evs *v)
{
	size_t start = 0;

	v->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '\n')
			continue;
		int bad = i == start || in[i - 1] != '\r';
		for (size_t j = start; j + 1 < i; j++)
			bad |= in[j] == '\r' || in[j] == '\0';
		if (bad)
			add(v, 'B', 0, 0);
		else if (i - start + 1 > max)
			add(v, 'T', 0, 0);
		else
			add(v, 'L', start, i - start - 1);
		start = i + 1;
	}
}

/* The engine's loop with a buffer of cap bytes. */
static void run(const uint8_t *in, size_t n, size_t max, size_t cap,
                unsigned pattern, struct evs *v)
{
	static unsigned char buf[MAXIN + 64];
	struct cmdline_reader r;
	size_t have = 0, pos = 0, base = 0;
	unsigned k = 0;

	v->n = 0;
	cmdline_init(&r, max);
	while (pos < n) {
		size_t piece = pattern ? 1 + ((pattern >> (k++ % 8)) & 15) : n;
		if (piece > n - pos)
			piece = n - pos;
		if (piece > cap - have)
			piece = cap - have;
		memcpy(buf + have, in + pos, piece);
		have += piece;
		pos += piece;
		for (;;) {
			size_t linelen = 12345, used = 12345;
			enum cl_result res = cmdline_next(&r, buf, have, &linelen, &used);
			check(used <= have);
			if (res == CL_LINE) {
				check(used == linelen + 2 && used <= max);
				check(buf[linelen] == '\r' && buf[linelen + 1] == '\n');
				for (size_t i = 0; i < linelen; i++)
					check(buf[i] != '\r' && buf[i] != '\n' && buf[i] != 0);
				add(v, 'L', base, linelen);
			} else if (res != CL_MORE) {
				check(used > 0 && buf[used - 1] == '\n');
				add(v, res == CL_BAD ? 'B' : 'T', 0, 0);
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			base += used;
			if (res == CL_MORE) {
				check(have < cap);
				break;
			}
		}
	}
}

/* Abort unless the two lists are equal. */
static void same(const struct evs *a, const struct evs *b)
{
	check(a->n == b->n);
	for (size_t i = 0; i < a->n; i++)
		check(a->e[i].kind == b->e[i].kind && a->e[i].start == b->e[i].start &&
		      a->e[i].len == b->e[i].len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size - 2 > MAXIN)
		return 0;
	size_t max = data[0] < 128 ? 2u + data[0] % 40 : 512;
	unsigned pattern = data[1] | 1u;
	const uint8_t *in = data + 2;
	size_t n = size - 2;

	reference(in, n, max, &ref_e);
	run(in, n, max, max + data[1] % 40, 0, &whole_e);
	same(&ref_e, &whole_e);
	run(in, n, max, max, pattern, &split_e);
	same(&ref_e, &split_e);
	return 0;
}
