/*
 * test_chan.c — unit tests of lib/chan.c over SOCK_SEQPACKET pairs: a
 * round trip, packets that are not exactly one frame, a packet larger than
 * the buffer (MSG_TRUNC), EOF, a dead peer (EPIPE without SIGPIPE) and
 * deadlines in both directions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bufio.h"
#include "chan.h"
#include "netstring.h"

/* A connected SOCK_SEQPACKET pair. */
static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* Build and send a frame; receive and read it back. */
static void test_roundtrip(void **state)
{
	unsigned char out[128], in[128];
	const unsigned char *f, *p;
	struct frame_writer w;
	struct frame_reader r;
	size_t n, pn;
	uint64_t code;
	char text[32];
	int sv[2];

	pair(sv);
	fw_init(&w, out, sizeof(out));
	fw_str(&w, "reply");
	fw_u64(&w, 250);
	fw_str(&w, "2.1.0 Ok");
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_int_equal(chan_send(sv[0], f, n, clock_ms() + 1000), 0);
	assert_int_equal(chan_recv(sv[1], in, sizeof(in), &p, &pn, clock_ms() + 1000),
	                 (ssize_t)n);
	fr_init(&r, p, pn);
	assert_int_equal(fr_is(&r, "reply"), 1);
	assert_int_equal(fr_u64(&r, &code, 599), 0);
	assert_int_equal(code, 250);
	assert_int_equal(fr_str(&r, text, sizeof(text)), 0);
	assert_string_equal(text, "2.1.0 Ok");
	assert_int_equal(fr_end(&r), 0);
	close(sv[0]);
	close(sv[1]);
}

/* Send raw bytes as one packet and expect chan_recv to refuse them. */
static void expect_bad(const char *raw, size_t rawlen, size_t cap)
{
	unsigned char in[64];
	const unsigned char *p = (const unsigned char *)"x";
	size_t pn = 99;
	int sv[2];

	pair(sv);
	assert_int_equal(send(sv[0], raw, rawlen, 0), (ssize_t)rawlen);
	errno = 0;
	assert_int_equal(chan_recv(sv[1], in, cap, &p, &pn, clock_ms() + 1000), -1);
	assert_int_equal(errno, EPROTO);
	assert_null(p);
	assert_int_equal(pn, 0);
	close(sv[0]);
	close(sv[1]);
}

/* Packets that are not exactly one netstring are EPROTO. */
static void test_malformed(void **state)
{
	expect_bad("3:abc", 5, 64);		/* no comma */
	expect_bad("3:abc,x", 7, 64);		/* trailing byte */
	expect_bad("1:a,1:b,", 8, 64);		/* two frames */
	expect_bad("03:abc,", 7, 64);		/* leading zero */
	expect_bad("hello", 5, 64);
	expect_bad("4:abc,", 6, 64);		/* short */
	expect_bad("10:0123456789,", 14, 10);	/* larger than cap: MSG_TRUNC */
	expect_bad("5:01234,", 8, 7);		/* one byte over */
}

/* A frame exactly as large as the buffer is fine. */
static void test_exact_cap(void **state)
{
	unsigned char in[8];
	const unsigned char *p;
	size_t pn;
	int sv[2];

	pair(sv);
	assert_int_equal(chan_send(sv[0], (const unsigned char *)"5:01234,", 8,
	                           clock_ms() + 1000), 0);
	assert_int_equal(chan_recv(sv[1], in, 8, &p, &pn, clock_ms() + 1000), 8);
	assert_int_equal(pn, 5);
	assert_memory_equal(p, "01234", 5);
	close(sv[0]);
	close(sv[1]);
}

/* EOF, timeouts, and a gone peer. */
static void test_eof_timeout_epipe(void **state)
{
	unsigned char in[64];
	const unsigned char *p;
	size_t pn;
	int64_t t0;
	int sv[2];

	pair(sv);
	t0 = clock_ms();
	errno = 0;
	assert_int_equal(chan_recv(sv[1], in, sizeof(in), &p, &pn, t0 + 100), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(clock_ms() - t0 >= 99);
	close(sv[0]);
	assert_int_equal(chan_recv(sv[1], in, sizeof(in), &p, &pn, clock_ms() + 1000), 0);
	/* No SIGPIPE (it would kill the test): MSG_NOSIGNAL. */
	errno = 0;
	assert_int_equal(chan_send(sv[1], (const unsigned char *)"0:,", 3,
	                           clock_ms() + 1000), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[1]);
}

/* A peer that never reads: the sender times out instead of blocking. */
static void test_send_timeout(void **state)
{
	static unsigned char frame[16384];
	int sv[2];
	int64_t t0;
	int rc = 0, i;

	pair(sv);
	memcpy(frame, "16377:", 6);
	memset(frame + 6, 'x', sizeof(frame) - 7);
	frame[sizeof(frame) - 1] = ',';
	t0 = clock_ms();
	for (i = 0; i < 10000 && rc == 0; i++)
		rc = chan_send(sv[0], frame, sizeof(frame), clock_ms() + 100);
	assert_int_equal(rc, -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(i > 1);
	assert_true(clock_ms() - t0 < 5000);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_exact_cap),
		cmocka_unit_test(test_eof_timeout_epipe),
		cmocka_unit_test(test_send_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
