/*
 * fuzz_netstring.c — libFuzzer target for lib/netstring.c, the framing
 * every postern process parses from less-trusted peers.
 *
 * The input is read as a stream of frames (as on the log pipe and facts
 * fd).  For each frame: the parser's promises are checked (payload inside
 * the input, every shorter prefix is NS_MORE), the payload is read with
 * every typed getter, and its fields are written again with frame_writer
 * and read back, which must give the same fields.  Any broken promise
 * aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 64

/* Abort unless cond holds (a failed promise is a finding). */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* Exercise the typed getters; their results only need to be safe. */
static void read_typed(const unsigned char *p, size_t n)
{
	struct frame_reader r;
	const unsigned char *b;
	size_t bn;
	uint64_t v;
	char s[16];

	fr_init(&r, p, n);
	(void)fr_is(&r, "mail");
	(void)fr_u64(&r, &v, 599);
	(void)fr_str(&r, s, sizeof(s));
	check(r.failed || memchr(s, '\0', sizeof(s)) != NULL);
	(void)fr_bytes(&r, &b, &bn, 8);
	check(!r.failed || fr_end(&r) == -1);
	(void)fr_end(&r);
}

/* Split the payload into fields, rebuild the frame, and compare. */
static void round_trip(const unsigned char *p, size_t n)
{
	static unsigned char out[FRAME_MAX + 64];
	const unsigned char *fp[MAX_FIELDS], *f, *q;
	size_t fl[MAX_FIELDS], nf = 0, fn, qn, used;
	struct frame_reader r;
	struct frame_writer w;

	fr_init(&r, p, n);
	while (r.off < r.len && nf < MAX_FIELDS)
		if (fr_bytes(&r, &fp[nf], &fl[nf], n) == 0)
			nf++;
		else
			break;
	if (fr_end(&r) != 0)
		return;
	fw_init(&w, out, sizeof(out));
	for (size_t i = 0; i < nf; i++)
		fw_bytes(&w, fp[i], fl[i]);
	f = fw_finish(&w, &fn);
	check(f != NULL);
	check(netstring_parse(f, fn, FRAME_MAX, &q, &qn, &used) == NS_OK);
	check(used == fn);
	/* Canonical input: the rebuilt payload is byte-identical. */
	check(qn == n && memcmp(q, p, n) == 0);
	fr_init(&r, q, qn);
	for (size_t i = 0; i < nf; i++) {
		const unsigned char *b;
		size_t bn;

		check(fr_bytes(&r, &b, &bn, FRAME_MAX) == 0);
		check(bn == fl[i] && memcmp(b, fp[i], bn) == 0);
	}
	check(fr_end(&r) == 0);
}

/* One input: frames one after another until the first non-OK result. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	/* The first byte picks a small cap too, to reach the cap checks. */
	size_t cap = size > 0 && (data[0] & 1) ? data[0] : FRAME_MAX;

	for (int frames = 0; frames < 1000 && off < size; frames++) {
		const unsigned char *p;
		size_t n, used;
		enum ns_result res = netstring_parse(data + off, size - off, cap,
		                                     &p, &n, &used);

		if (res != NS_OK)
			break;
		check(n <= cap && used <= size - off && used > n);
		check(p >= data + off && p + n < data + off + used);
		check(data[off + used - 1] == ',');
		/* Every proper prefix is "more", never "bad" or "ok". */
		for (size_t k = 0; k < used; k += 1 + used / 8) {
			const unsigned char *p2;
			size_t n2, u2;

			check(netstring_parse(data + off, k, cap, &p2, &n2, &u2) == NS_MORE);
		}
		read_typed(p, n);
		round_trip(p, n);
		off += used;
	}
	return 0;
}
