/*
 * test_cmdline.c — unit tests of smtpd/cmdline.c (command line splitting):
 * fixed cases for each result, then a property test that feeds random
 * inputs whole, byte by byte and in random splits through a simulated
 * engine buffer and compares every run with a simple reference splitter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../smtpd/cmdline.h"

#define EV_MAX 256
#define EV_TEXT 600

/* One result of the splitter: 'L' with the line, 'T' or 'B'. */
struct event {
	char kind;
	size_t len;
	unsigned char text[EV_TEXT];
};

struct events {
	size_t n;
	struct event ev[EV_MAX];
};

/* Deterministic PRNG (xorshift64) so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

/* Record one event. */
static void ev_add(struct events *e, char kind, const unsigned char *p, size_t n)
{
	assert_true(e->n < EV_MAX);
	struct event *v = &e->ev[e->n++];
	v->kind = kind;
	v->len = n;
	assert_true(n <= EV_TEXT);
	if (n > 0)
		memcpy(v->text, p, n);
}

/* Run the splitter like the engine: a buffer of cap bytes, input arriving
 * in chunks of the sizes splits[] (cycled; 0 = everything at once). */
static void run_engine(const unsigned char *in, size_t inlen, size_t max,
                       size_t cap, const size_t *splits, size_t nsplits,
                       struct events *e)
{
	unsigned char buf[2048];
	size_t have = 0, pos = 0, k = 0;
	struct cmdline_reader r;

	assert_true(cap <= sizeof buf && cap >= max);
	cmdline_init(&r, max);
	memset(e, 0, sizeof *e);
	for (int guard = 0; guard < 100000; guard++) {
		size_t chunk = nsplits ? splits[k++ % nsplits] : inlen;
		if (chunk == 0)
			chunk = 1;
		size_t room = cap - have;
		size_t take = inlen - pos;
		if (take > chunk)
			take = chunk;
		if (take > room)
			take = room;
		memcpy(buf + have, in + pos, take);
		have += take;
		pos += take;
		for (;;) {
			size_t linelen, used;
			enum cl_result res = cmdline_next(&r, buf, have, &linelen, &used);
			assert_true(used <= have);
			if (res == CL_LINE) {
				assert_int_equal(used, linelen + 2);
				assert_true(used <= max);
				ev_add(e, 'L', buf, linelen);
			} else if (res == CL_TOO_LONG) {
				ev_add(e, 'T', NULL, 0);
			} else if (res == CL_BAD) {
				ev_add(e, 'B', NULL, 0);
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			if (res == CL_MORE) {
				/* A full buffer must always make progress. */
				assert_false(have == cap);
				break;
			}
		}
		if (pos == inlen)
			return;
	}
	fail_msg("engine loop did not finish");
}

/* The obvious definition: cut at each LF, classify each line. */
static void reference(const unsigned char *in, size_t inlen, size_t max,
                      struct events *e)
{
	size_t start = 0;

	memset(e, 0, sizeof *e);
	for (size_t i = 0; i < inlen; i++) {
		if (in[i] != '\n')
			continue;
		size_t n = i - start;	/* bytes before LF */
		int bad = n == 0 || in[i - 1] != '\r';
		for (size_t j = start; j + 1 < i; j++)
			if (in[j] == '\r' || in[j] == '\0')
				bad = 1;
		if (bad)
			ev_add(e, 'B', NULL, 0);
		else if (n + 1 > max)
			ev_add(e, 'T', NULL, 0);
		else
			ev_add(e, 'L', in + start, n - 1);
		start = i + 1;
	}
}

/* Assert two event lists are identical. */
static void events_equal(const struct events *a, const struct events *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->ev[i].kind, b->ev[i].kind);
		assert_int_equal(a->ev[i].len, b->ev[i].len);
		assert_memory_equal(a->ev[i].text, b->ev[i].text, a->ev[i].len);
	}
}

/* One call on a complete buffer. */
static enum cl_result one(const char *s, size_t max, size_t *linelen, size_t *used)
{
	struct cmdline_reader r;
	cmdline_init(&r, max);
	return cmdline_next(&r, (const unsigned char *)s, strlen(s), linelen, used);
}

static void test_good_line(void **st)
{
	size_t ll, used;
	assert_int_equal(one("EHLO x\r\nQUIT\r\n", 512, &ll, &used), CL_LINE);
	assert_int_equal(ll, 6);
	assert_int_equal(used, 8);
}

static void test_empty_line(void **st)
{
	size_t ll, used;
	assert_int_equal(one("\r\n", 512, &ll, &used), CL_LINE);
	assert_int_equal(ll, 0);
	assert_int_equal(used, 2);
}

static void test_incomplete(void **st)
{
	size_t ll, used;
	assert_int_equal(one("", 512, &ll, &used), CL_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(one("NOOP", 512, &ll, &used), CL_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(one("NOOP\r", 512, &ll, &used), CL_MORE);
	assert_int_equal(used, 0);
}

static void test_bare_lf(void **st)
{
	size_t ll, used;
	assert_int_equal(one("NOOP\nQUIT\r\n", 512, &ll, &used), CL_BAD);
	assert_int_equal(used, 5);
	assert_int_equal(one("\n", 512, &ll, &used), CL_BAD);
	assert_int_equal(used, 1);
}

static void test_bare_cr(void **st)
{
	size_t ll, used;
	assert_int_equal(one("NO\rOP\r\n", 512, &ll, &used), CL_BAD);
	assert_int_equal(used, 7);
	assert_int_equal(one("NOOP\r\r\n", 512, &ll, &used), CL_BAD);
	assert_int_equal(used, 7);
	/* A bare CR alone does not end a line. */
	assert_int_equal(one("NO\rOP", 512, &ll, &used), CL_MORE);
}

static void test_nul(void **st)
{
	struct cmdline_reader r;
	size_t ll, used;
	const unsigned char s[] = "NO\0OP\r\nX";
	cmdline_init(&r, 512);
	assert_int_equal(cmdline_next(&r, s, 8, &ll, &used), CL_BAD);
	assert_int_equal(used, 7);
}

/* Exactly max octets with CRLF is fine; one more is not. */
static void test_limit_exact(void **st)
{
	unsigned char buf[600];
	struct cmdline_reader r;
	size_t ll, used;

	memset(buf, 'a', sizeof buf);
	buf[510] = '\r';
	buf[511] = '\n';
	cmdline_init(&r, 512);
	assert_int_equal(cmdline_next(&r, buf, 512, &ll, &used), CL_LINE);
	assert_int_equal(ll, 510);
	assert_int_equal(used, 512);

	memset(buf, 'a', sizeof buf);
	buf[511] = '\r';
	buf[512] = '\n';
	cmdline_init(&r, 512);
	/* 512 bytes, no LF: drained, not yet reported. */
	assert_int_equal(cmdline_next(&r, buf, 512, &ll, &used), CL_MORE);
	assert_int_equal(used, 512);
	assert_true(r.draining);
	assert_int_equal(cmdline_next(&r, buf + 512, 1, &ll, &used), CL_TOO_LONG);
	assert_int_equal(used, 1);
	assert_false(r.draining);
}

/* The tail of an over-long line is never a command. */
static void test_too_long_tail(void **st)
{
	unsigned char buf[1200];
	struct cmdline_reader r;
	size_t ll, used;
	const char *tail = "RCPT TO:<x@y>\r\n";

	memset(buf, 'a', 1000);
	memcpy(buf + 1000, tail, strlen(tail));
	memcpy(buf + 1000 + strlen(tail), "QUIT\r\n", 6);
	cmdline_init(&r, 512);
	assert_int_equal(cmdline_next(&r, buf, 600, &ll, &used), CL_MORE);
	assert_int_equal(used, 600);
	assert_int_equal(cmdline_next(&r, buf + 600, 1021 - 600 + 6, &ll, &used),
	                 CL_TOO_LONG);
	assert_int_equal(used, 1000 + strlen(tail) - 600);
	assert_int_equal(cmdline_next(&r, buf + 1015, 6, &ll, &used), CL_LINE);
	assert_int_equal(ll, 4);
}

/* A CR at the end of one drained chunk and LF at the start of the next. */
static void test_drain_cr_split(void **st)
{
	unsigned char buf[520];
	struct cmdline_reader r;
	size_t ll, used;

	memset(buf, 'a', sizeof buf);
	buf[515] = '\r';
	cmdline_init(&r, 512);
	assert_int_equal(cmdline_next(&r, buf, 516, &ll, &used), CL_MORE);
	assert_int_equal(used, 516);
	assert_int_equal(cmdline_next(&r, (const unsigned char *)"\n", 1, &ll, &used),
	                 CL_TOO_LONG);
	/* Same but the CR is followed by something else: bad. */
	cmdline_init(&r, 512);
	assert_int_equal(cmdline_next(&r, buf, 516, &ll, &used), CL_MORE);
	assert_int_equal(cmdline_next(&r, (const unsigned char *)"x\r\n", 3, &ll, &used),
	                 CL_BAD);
	assert_int_equal(used, 3);
}

/* An over-long line ended by a bare LF is reported as bad. */
static void test_drain_bare_lf(void **st)
{
	unsigned char buf[700];
	struct cmdline_reader r;
	size_t ll, used;

	memset(buf, 'a', sizeof buf);
	buf[650] = '\n';
	cmdline_init(&r, 512);
	assert_int_equal(cmdline_next(&r, buf, 600, &ll, &used), CL_MORE);
	assert_int_equal(cmdline_next(&r, buf + 600, 100, &ll, &used), CL_BAD);
	assert_int_equal(used, 51);
}

/* A larger limit (ESMTP parameters declared) is honoured. */
static void test_larger_max(void **st)
{
	unsigned char buf[1000];
	struct cmdline_reader r;
	size_t ll, used;

	memset(buf, 'b', sizeof buf);
	buf[798] = '\r';
	buf[799] = '\n';
	cmdline_init(&r, 800);
	assert_int_equal(cmdline_next(&r, buf, sizeof buf, &ll, &used), CL_LINE);
	assert_int_equal(used, 800);
}

/* Random byte from an alphabet heavy in line-ending bytes. */
static unsigned char rnd_byte(void)
{
	static const unsigned char alpha[] = "ab\r\n\r\n\0 .";
	uint32_t x = rnd() % 16;
	if (x < 9)
		return alpha[x];
	return (unsigned char)('A' + x);
}

/* Random input: lines of random lengths around the limit. */
static size_t rnd_input(unsigned char *in, size_t cap, size_t max)
{
	size_t n = 0;
	size_t lines = 1 + rnd() % 6;
	for (size_t l = 0; l < lines; l++) {
		size_t len = rnd() % 4 == 0 ? max - 3 + rnd() % 6 : rnd() % 40;
		for (size_t i = 0; i < len && n < cap - 2; i++)
			in[n++] = rnd() % 8 == 0 ? rnd_byte() : 'x';
		if (rnd() % 10 != 0 && n < cap - 2) {
			in[n++] = '\r';
			in[n++] = '\n';
		}
	}
	return n;
}

/* Whole, byte-by-byte and random splits agree with the reference. */
static void test_property_splits(void **st)
{
	static unsigned char in[4096];
	static struct events ref, got;
	size_t max_choices[] = { 16, 64, 512 };

	for (int iter = 0; iter < 3000; iter++) {
		size_t max = max_choices[iter % 3];
		size_t n = rnd_input(in, sizeof in, max);
		size_t cap = max + rnd() % 64;
		reference(in, n, max, &ref);

		run_engine(in, n, max, cap, NULL, 0, &got);
		events_equal(&ref, &got);
		size_t one_byte = 1;
		run_engine(in, n, max, cap, &one_byte, 1, &got);
		events_equal(&ref, &got);
		size_t splits[7];
		for (size_t i = 0; i < 7; i++)
			splits[i] = 1 + rnd() % (max + 10);
		run_engine(in, n, max, cap, splits, 7, &got);
		events_equal(&ref, &got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_line),
		cmocka_unit_test(test_empty_line),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_bare_cr),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_limit_exact),
		cmocka_unit_test(test_too_long_tail),
		cmocka_unit_test(test_drain_cr_split),
		cmocka_unit_test(test_drain_bare_lf),
		cmocka_unit_test(test_larger_max),
		cmocka_unit_test(test_property_splits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
