/*
 * test_smtpd_reply.c — unit tests of smtpd/reply.c: reply lines, the
 * enhanced status code added to peers' texts that lack one, the check of
 * peers' texts, and the error counter.  Output goes through a pipe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "../../smtpd/reply.h"
#include "../../smtpd/session.h"

static struct smtpd_args args;
static struct session s;
static int pipefd[2];

/* A session whose client side is the pipe's write end. */
static int setup(void **state)
{
	if (pipe(pipefd) < 0)
		return -1;
	args.idle_s = 5;
	args.session_s = 60;
	session_init(&s, &args);
	bufout_init(&s.out, pipefd[1], s.outbuf, sizeof s.outbuf);
	return 0;
}

static int teardown(void **state)
{
	close(pipefd[0]);
	close(pipefd[1]);
	return 0;
}

/* Flush and return what the client got (NUL-terminated). */
static const char *output(void)
{
	static char buf[4096];
	ssize_t n;

	reply_flush(&s);
	n = read(pipefd[0], buf, sizeof buf - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

static void test_reply_lines(void **state)
{
	reply(&s, 250, "2.0.0 Ok");
	assert_string_equal(output(), "250 2.0.0 Ok\r\n");
	reply_line(&s, 250, 1, "mx", 2);
	reply_line(&s, 250, 0, "PIPELINING", 10);
	assert_string_equal(output(), "250-mx\r\n250 PIPELINING\r\n");
}

static void test_peer_enhanced_code(void **state)
{
	reply_peer(&s, 250, "2.1.0 Ok", 8);
	assert_string_equal(output(), "250 2.1.0 Ok\r\n");
	reply_peer(&s, 250, "Ok", 2);
	assert_string_equal(output(), "250 2.0.0 Ok\r\n");
	/* an enhanced code of another class is not the reply's own */
	reply_peer(&s, 550, "2.1.0 Ok", 8);
	assert_string_equal(output(), "550 5.0.0 2.1.0 Ok\r\n");
	reply_peer(&s, 451, "4.3.10 Busy", 11);
	assert_string_equal(output(), "451 4.3.10 Busy\r\n");
	reply_peer(&s, 451, "4.3.1000 x", 10);
	assert_string_equal(output(), "451 4.0.0 4.3.1000 x\r\n");
	/* 354 is not a status reply: no code added (RFC 2034 §4) */
	reply_peer(&s, 354, "Go ahead", 8);
	assert_string_equal(output(), "354 Go ahead\r\n");
}

static void test_text_ok(void **state)
{
	char big[402];

	assert_true(reply_text_ok((const unsigned char *)"2.0.0 Ok", 8));
	assert_false(reply_text_ok((const unsigned char *)"", 0));
	assert_false(reply_text_ok((const unsigned char *)"a\r\nb", 4));
	assert_false(reply_text_ok((const unsigned char *)"a\0b", 3));
	assert_false(reply_text_ok((const unsigned char *)"caf\xc3\xa9", 5));
	assert_false(reply_text_ok((const unsigned char *)"tab\there", 8));
	memset(big, 'a', sizeof big);
	assert_true(reply_text_ok((const unsigned char *)big, 400));
	assert_false(reply_text_ok((const unsigned char *)big, 401));
}

static void test_errors_counted(void **state)
{
	uint64_t before = s.errors;

	reply(&s, 250, "2.0.0 Ok");
	reply_error(&s, 500, "5.5.2 Command unrecognized");
	reply_error(&s, 503, "5.5.1 Bad sequence");
	assert_int_equal(s.errors, before + 2);
	assert_string_equal(output(), "250 2.0.0 Ok\r\n500 5.5.2 Command unrecognized\r\n"
	                              "503 5.5.1 Bad sequence\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_lines),
		cmocka_unit_test(test_peer_enhanced_code),
		cmocka_unit_test(test_text_ok),
		cmocka_unit_test(test_errors_counted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
