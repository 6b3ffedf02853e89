/*
 * test_wipe.c — secrets do not outlive their use in buffers nobody looks
 * at again (DESIGN invariant 5): the master's control-frame ring (the
 * `key` frame holds the auth MAC key) is wiped when a frame leaves it,
 * and postern-user's password reader wipes what it read of a refused
 * line (with --password-stdin its result is returned as is).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../auth/password.h"
#include "../../master/master.h"

/* 1 if b[0..n) is all zero. */
static int all_zero(const void *b, size_t n)
{
	const unsigned char *p = b;

	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* password_read(from_stdin) on input[0..n) placed on fd 0; out prefilled. */
static long read_from(const char *input, size_t n, char out[PASSWORD_MAX + 1],
                      const char **why)
{
	int p[2], saved = dup(STDIN_FILENO);
	long r;

	assert_true(saved >= 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], input, n), (ssize_t)n);
	close(p[1]);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	memset(out, 0xAA, PASSWORD_MAX + 1);
	r = password_read(1, 0, out, why);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	return r;
}

static void test_password_refused_line_is_wiped(void **state)
{
	static const char *bad[] = { "secret-pw\r\n", "secret\0pw\n", "\n", "" };
	static const size_t badlen[] = { 11, 10, 1, 0 };
	char out[PASSWORD_MAX + 1], longpw[PASSWORD_MAX + 40];
	const char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(read_from(bad[i], badlen[i], out, &why), -1);
		assert_non_null(why);
		assert_true(all_zero(out, sizeof out));
	}
	memset(longpw, 's', sizeof longpw);
	longpw[sizeof longpw - 1] = '\n';
	assert_int_equal(read_from(longpw, sizeof longpw, out, &why), -1);
	assert_true(all_zero(out, sizeof out));
	/* a good one is kept */
	assert_int_equal(read_from("hunter2\n", 8, out, &why), 7);
	assert_string_equal(out, "hunter2");
}

static const struct daemon_role fake_role = { .name = "fake" };

static void test_master_frame_wiped_when_sent(void **state)
{
	struct master *m = calloc(1, sizeof *m);
	struct daemon *d;
	unsigned char frame[64], got[128];
	int sv[2];

	(void)state;
	assert_non_null(m);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	d = &m->daemons[DAEMON_AUTHD];
	d->role = &fake_role;
	d->pid = 1;
	d->ctl = sv[0];
	d->q = calloc(DAEMON_QUEUE_MAX, sizeof d->q[0]);
	assert_non_null(d->q);
	memcpy(frame, "14:3:key,5:KKKKK,,", 18);
	assert_int_equal(daemon_send(m, DAEMON_AUTHD, frame, 18, -1), 0);
	assert_int_equal(recv(sv[1], got, sizeof got, MSG_DONTWAIT), 18);
	assert_memory_equal(got, frame, 18);
	assert_int_equal(d->qlen, 0);
	/* the ring slot the frame was sent from holds nothing of it */
	assert_true(all_zero(d->q[0].buf, sizeof d->q[0].buf));
	close(sv[0]);
	close(sv[1]);
	free(d->q);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_refused_line_is_wiped),
		cmocka_unit_test(test_master_frame_wiped_when_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
