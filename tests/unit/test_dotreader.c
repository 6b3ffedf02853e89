/*
 * test_dotreader.c — unit tests of smtpd/dotreader.c (DATA state machine):
 * fixed cases for each terminator that must and must not end the data,
 * unstuffing, limits; then a property test: random messages fed whole,
 * byte by byte, in random splits and with a tiny output buffer must all
 * give the same result as a direct reference definition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../smtpd/dotreader.h"
#include "dot_reference.h"

#define BUFSZ 8192

/* The outcome of reading one input. */
struct result {
	size_t consumed;
	size_t outlen;
	unsigned char out[BUFSZ];
	unsigned flags;
	int done;
	uint64_t size;
};

/* xorshift64: deterministic, so failures reproduce. */
static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

/* Feed in[] in chunks of sizes splits[] (cycled; none = all at once) with
 * an output buffer of outcap bytes per call, like the engine would. */
static void run(const unsigned char *in, size_t n, size_t line_max,
                uint64_t size_max, const size_t *splits, size_t nsplits,
                size_t outcap, struct result *r)
{
	struct dotreader d;
	size_t pos = 0, k = 0;

	memset(r, 0, sizeof *r);
	dotreader_init(&d, line_max, size_max);
	for (int guard = 0; guard < 1000000 && pos < n && !d.done; guard++) {
		size_t chunk = nsplits ? splits[k++ % nsplits] : n - pos;
		if (chunk > n - pos)
			chunk = n - pos;
		size_t cpos = 0;
		while (cpos < chunk && !d.done) {
			unsigned char tmp[BUFSZ];
			size_t cap = outcap < BUFSZ ? outcap : BUFSZ;
			size_t olen = 99999;
			size_t used = dotreader_feed(&d, in + pos + cpos, chunk - cpos,
			                             tmp, cap, &olen);
			assert_true(olen <= cap);
			assert_true(used <= chunk - cpos);
			/* No progress is only allowed when the output was full. */
			if (used == 0 && !d.done)
				assert_int_equal(olen, cap);
			assert_true(r->outlen + olen <= BUFSZ);
			memcpy(r->out + r->outlen, tmp, olen);
			r->outlen += olen;
			cpos += used;
		}
		pos += cpos;
	}
	r->consumed = pos;
	r->flags = d.flags;
	r->done = d.done;
	r->size = d.size;
}

/* The definition (dot_reference.h) into r. */
static void reference(const unsigned char *raw, size_t n, size_t line_max,
                      uint64_t size_max, struct result *r)
{
	struct dot_ref d;

	memset(r, 0, sizeof *r);
	dot_reference(raw, n, line_max, size_max, r->out, &d);
	r->consumed = d.consumed;
	r->outlen = d.outlen;
	r->flags = d.flags;
	r->done = d.done;
	r->size = d.size;
}

/* Assert two outcomes are the same. */
static void same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->consumed, b->consumed);
	assert_int_equal(a->done, b->done);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->outlen, b->outlen);
	assert_memory_equal(a->out, b->out, a->outlen);
}

/* Read a C string whole with default limits. */
static void whole(const char *s, struct result *r)
{
	run((const unsigned char *)s, strlen(s), 1000, 1 << 20, NULL, 0, BUFSZ, r);
}

/* Assert s is read to its end, giving body and flags. */
static void expect(const char *s, const char *body, unsigned flags, int done,
                   size_t consumed)
{
	struct result r, b;
	size_t one = 1;

	whole(s, &r);
	assert_int_equal(r.done, done);
	assert_int_equal(r.consumed, consumed);
	assert_int_equal(r.flags, flags);
	assert_int_equal(r.outlen, strlen(body));
	assert_memory_equal(r.out, body, r.outlen);
	run((const unsigned char *)s, strlen(s), 1000, 1 << 20, &one, 1, BUFSZ, &b);
	same(&r, &b);
}

static void test_simple(void **st)
{
	expect("Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n",
	       "Subject: x\r\n\r\nhello\r\n", 0, 1, 24);
}

static void test_empty_message(void **st)
{
	expect(".\r\nQUIT\r\n", "", 0, 1, 3);
	expect("\r\n.\r\n", "\r\n", 0, 1, 5);
}

static void test_unstuff(void **st)
{
	expect("..a\r\n..\r\n...\r\n.x\r\n.\r\n", ".a\r\n.\r\n..\r\nx\r\n", 0, 1, 21);
}

/* None of these lenient terminators may end the data. */
static void test_wrong_terminators(void **st)
{
	expect("a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", DOT_BARE_LF, 1, 10);
	expect("a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", DOT_BARE_LF, 1, 11);
	expect("a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n", DOT_BARE_LF, 1, 11);
	expect("a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", DOT_BARE_LF, 1, 10);
	expect("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", DOT_BARE_LF, 1, 11);
	expect("a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", DOT_BARE_LF, 1, 10);
	/* Not finished at all. */
	expect("a\n.\n", "a\n.\n", DOT_BARE_LF, 0, 4);
	expect("a\r.\r", "a\r.\r", DOT_BARE_LF, 0, 4);
}

static void test_bare_cr_inside(void **st)
{
	expect("ab\rcd\r\n.\r\n", "ab\rcd\r\n", DOT_BARE_LF, 1, 10);
}

static void test_nul(void **st)
{
	struct result r;
	const unsigned char s[] = "a\0b\r\n.\r\n";
	run(s, sizeof s - 1, 1000, 1000, NULL, 0, BUFSZ, &r);
	assert_int_equal(r.flags, DOT_NUL);
	assert_int_equal(r.outlen, 5);
	assert_true(r.done);
}

/* 1000 octets with CRLF is the limit; 1001 is over; a leading dot does
 * not count. */
static void test_line_limit(void **st)
{
	static unsigned char s[2100];
	struct result r;

	memset(s, 'x', sizeof s);
	memcpy(s + 998, "\r\n.\r\n", 5);
	run(s, 1003, 1000, 1 << 20, NULL, 0, BUFSZ, &r);
	assert_true(r.done);
	assert_int_equal(r.flags, 0);

	memset(s, 'x', sizeof s);
	memcpy(s + 999, "\r\n.\r\n", 5);
	run(s, 1004, 1000, 1 << 20, NULL, 0, BUFSZ, &r);
	assert_true(r.done);
	assert_int_equal(r.flags, DOT_LINE_TOO_LONG);

	/* The stuffing dot does not count (RFC 5321 §4.5.3.1.6): a stuffed
	 * 998-octet line is 1001 octets on the wire and fine... */
	memset(s, 'x', sizeof s);
	s[0] = '.';
	memcpy(s + 999, "\r\n.\r\n", 5);
	run(s, 1004, 1000, 1 << 20, NULL, 0, BUFSZ, &r);
	assert_true(r.done);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.outlen, 1000);

	/* ...a stuffed 999-octet line is not, */
	memset(s, 'x', sizeof s);
	s[0] = '.';
	memcpy(s + 1000, "\r\n.\r\n", 5);
	run(s, 1005, 1000, 1 << 20, NULL, 0, BUFSZ, &r);
	assert_true(r.done);
	assert_int_equal(r.flags, DOT_LINE_TOO_LONG);
	assert_int_equal(r.outlen, 1001);

	/* and only the first dot of a line is not text: "..x" is ".x". */
	memset(s, 'x', sizeof s);
	s[0] = '.';
	s[1] = '.';
	memcpy(s + 999, "\r\n.\r\n", 5);
	run(s, 1004, 1000, 1 << 20, NULL, 0, BUFSZ, &r);
	assert_int_equal(r.flags, 0);
	memcpy(s + 999, "x\r\n.\r\n", 6);
	run(s, 1005, 1000, 1 << 20, NULL, 0, BUFSZ, &r);
	assert_int_equal(r.flags, DOT_LINE_TOO_LONG);

	/* Several stuffed 998-octet lines, fed in pieces across line ends. */
	static unsigned char big[8 * 1001 + 3];
	size_t splits[] = { 4096, 777, 1 };
	for (size_t i = 0; i < 8; i++) {
		memset(big + i * 1001, 'y', 1001);
		big[i * 1001] = '.';
		memcpy(big + i * 1001 + 999, "\r\n", 2);
	}
	memcpy(big + 8 * 1001, ".\r\n", 3);
	run(big, sizeof big, 1000, 1 << 20, splits, 3, BUFSZ, &r);
	assert_true(r.done);
	assert_int_equal(r.flags, 0);
}

/* Over size: output stops at size_max, reading goes on to the end. */
static void test_too_big(void **st)
{
	const char *s = "0123456789\r\nabc\r\n.\r\nQUIT\r\n";
	struct result r;

	run((const unsigned char *)s, strlen(s), 1000, 10, NULL, 0, BUFSZ, &r);
	assert_true(r.done);
	assert_int_equal(r.consumed, 20);
	assert_int_equal(r.flags, DOT_TOO_BIG);
	assert_int_equal(r.outlen, 10);
	assert_int_equal(r.size, 17);
	/* Exactly at the limit is fine. */
	run((const unsigned char *)s, strlen(s), 1000, 17, NULL, 0, BUFSZ, &r);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.outlen, 17);
}

/* A full output buffer stops the reader without losing a byte. */
static void test_output_full(void **st)
{
	struct dotreader d;
	unsigned char out[4];
	size_t olen;
	const unsigned char *s = (const unsigned char *)"abcdef\r\n.\r\n";

	dotreader_init(&d, 1000, 1000);
	assert_int_equal(dotreader_feed(&d, s, 11, out, 4, &olen), 4);
	assert_int_equal(olen, 4);
	assert_int_equal(dotreader_feed(&d, s + 4, 4, out, 4, &olen), 4);
	assert_int_equal(olen, 4);
	assert_memory_equal(out, "ef\r\n", 4);
	/* The terminator needs no output room. */
	assert_int_equal(dotreader_feed(&d, s + 8, 3, out, 0, &olen), 3);
	assert_int_equal(olen, 0);
	assert_true(d.done);
	/* After the end nothing more is taken. */
	assert_int_equal(dotreader_feed(&d, s, 3, out, 4, &olen), 0);

	/* A held-back ".\r" then "x": the CR comes out with the x, so one
	 * byte in may give two out (hence outcap > inlen in the header). */
	dotreader_init(&d, 1000, 1000);
	assert_int_equal(dotreader_feed(&d, (const unsigned char *)".\r", 2, out, 4, &olen), 2);
	assert_int_equal(olen, 0);
	assert_int_equal(dotreader_feed(&d, (const unsigned char *)"x", 1, out, 1, &olen), 0);
	assert_int_equal(olen, 1);
	assert_int_equal(out[0], '\r');
	assert_int_equal(dotreader_feed(&d, (const unsigned char *)"x", 1, out, 1, &olen), 1);
	assert_int_equal(out[0], 'x');
	dotreader_init(&d, 1000, 1000);
	assert_int_equal(dotreader_feed(&d, (const unsigned char *)".\r", 2, out, 4, &olen), 2);
	assert_int_equal(dotreader_feed(&d, (const unsigned char *)"x", 1, out, 2, &olen), 1);
	assert_int_equal(olen, 2);
	assert_memory_equal(out, "\rx", 2);
	assert_true(d.flags & DOT_BARE_LF);
}

/* Random message bytes, heavy in CR, LF and dots at line starts. */
static size_t rnd_message(unsigned char *m, size_t cap)
{
	static const unsigned char pieces[][6] = {
		"\r\n", "\r\n.", ".", "\r", "\n", "x", "ab", "\r\n..", "\r\n.\r",
		"\0", "\r\n.\n", "\n.\r\n", "yz", "\r\n.\r\n",
	};
	size_t n = 0;
	size_t count = rnd() % 60;
	for (size_t i = 0; i < count; i++) {
		uint32_t p = rnd() % 14;
		/* The real terminator is rare, so most inputs are long. */
		if (p == 13 && rnd() % 4 != 0)
			p = 0;
		size_t len = p == 9 ? 1 : strlen((const char *)pieces[p]);
		if (rnd() % 8 == 0 && n + 40 < cap) {
			memset(m + n, 'L', 30);
			n += 30;
		}
		if (n + len >= cap)
			break;
		memcpy(m + n, pieces[p], len);
		n += len;
	}
	return n;
}

/* The machine agrees with the reference however the input is split. */
static void test_property_splits(void **st)
{
	static unsigned char m[4096];
	static struct result ref, got;

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rnd_message(m, sizeof m);
		size_t line_max = 3 + rnd() % 60;
		uint64_t size_max = rnd() % 4 == 0 ? rnd() % 100 : 1 << 20;

		reference(m, n, line_max, size_max, &ref);
		run(m, n, line_max, size_max, NULL, 0, BUFSZ, &got);
		same(&ref, &got);
		size_t one = 1;
		run(m, n, line_max, size_max, &one, 1, BUFSZ, &got);
		same(&ref, &got);
		size_t splits[5];
		for (size_t i = 0; i < 5; i++)
			splits[i] = 1 + rnd() % 16;
		run(m, n, line_max, size_max, splits, 5, 1 + rnd() % 7, &got);
		same(&ref, &got);
		assert_true(got.outlen <= got.consumed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_unstuff),
		cmocka_unit_test(test_wrong_terminators),
		cmocka_unit_test(test_bare_cr_inside),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_output_full),
		cmocka_unit_test(test_property_splits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
