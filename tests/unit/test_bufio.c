/*
 * test_bufio.c — unit tests of lib/bufio.c over pipes and socketpairs:
 * reads, EOF, full buffer, deadlines, partial writes to a full
 * non-blocking pipe, EPIPE, and the sticky error of bufout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufio.h"

/* A pipe, optionally non-blocking at both ends. */
static void make_pipe(int p[2], int nonblock)
{
	assert_int_equal(pipe2(p, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)), 0);
}

/* The clock is monotonic and in milliseconds. */
static void test_clock(void **state)
{
	int64_t a = clock_ms(), b;

	usleep(20000);
	b = clock_ms();
	assert_true(b - a >= 19);
	assert_true(b - a < 2000);
}

/* Reads, consume, compaction and EOF. */
static void test_fill(void **state)
{
	unsigned char st[8];
	struct bufin b;
	int p[2];

	make_pipe(p, 0);
	bufin_init(&b, p[0], st, sizeof(st));
	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), 5);
	assert_int_equal(bufin_avail(&b), 5);
	assert_memory_equal(bufin_data(&b), "hello", 5);
	bufin_consume(&b, 3);
	assert_int_equal(bufin_avail(&b), 2);
	assert_memory_equal(bufin_data(&b), "lo", 2);

	/* Compaction makes room for 6 more bytes. */
	assert_int_equal(write(p[1], "world!", 6), 6);
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), 6);
	assert_int_equal(bufin_avail(&b), 8);
	assert_memory_equal(bufin_data(&b), "loworld!", 8);

	/* Full buffer: ENOBUFS without reading. */
	assert_int_equal(write(p[1], "x", 1), 1);
	errno = 0;
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), -1);
	assert_int_equal(errno, ENOBUFS);

	bufin_consume(&b, 100);	/* clamped */
	assert_int_equal(bufin_avail(&b), 0);
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), 1);
	bufin_consume(&b, 1);
	close(p[1]);
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), 0);
	assert_int_equal(b.eof, 1);
	close(p[0]);
}

/* Whether st[0..n) holds the bytes of secret anywhere. */
static int holds(const unsigned char *st, size_t n, const char *secret)
{
	return memmem(st, n, secret, strlen(secret)) != NULL;
}

/* A password read into the buffer leaves no copy behind: wiped when
 * consumed, and not duplicated when fill moves unread bytes forward. */
static void test_no_stale_secret(void **state)
{
	unsigned char st[32];
	struct bufin b;
	int p[2];

	make_pipe(p, 0);
	memset(st, 0, sizeof st);
	bufin_init(&b, p[0], st, sizeof st);
	/* "AUTH x\r\n" then the start of a response still unread. */
	assert_int_equal(write(p[1], "AUTH x\r\nc2VjcmV0", 16), 16);
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), 16);
	bufin_consume_wipe(&b, 8);
	assert_false(holds(st, sizeof st, "AUTH x"));
	/* Compaction moves "c2VjcmV0" to the front: no copy stays at 8..16. */
	assert_int_equal(write(p[1], "\r\n", 2), 2);
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), 2);
	assert_memory_equal(bufin_data(&b), "c2VjcmV0\r\n", 10);
	bufin_consume_wipe(&b, 10);
	assert_false(holds(st, sizeof st, "c2Vj"));
	assert_false(holds(st, sizeof st, "cmV0"));
	bufin_consume_wipe(&b, 5);	/* nothing left: clamped */
	close(p[1]);
	close(p[0]);
}

/* Nothing to read: ETIMEDOUT at the deadline, not before, not much after. */
static void test_fill_timeout(void **state)
{
	unsigned char st[8];
	struct bufin b;
	int p[2];
	int64_t t0;

	for (int nb = 0; nb < 2; nb++) {
		make_pipe(p, nb);
		bufin_init(&b, p[0], st, sizeof(st));
		t0 = clock_ms();
		errno = 0;
		assert_int_equal(bufin_fill(&b, t0 + 100), -1);
		assert_int_equal(errno, ETIMEDOUT);
		assert_true(clock_ms() - t0 >= 99);
		assert_true(clock_ms() - t0 < 1500);
		assert_int_equal(b.err, 0);
		/* An expired deadline still takes data that is already there. */
		assert_int_equal(write(p[1], "z", 1), 1);
		assert_int_equal(bufin_fill(&b, t0 - 5000), 1);
		close(p[0]);
		close(p[1]);
	}
}

/* A bad descriptor is an error, not a hang. */
static void test_fill_badfd(void **state)
{
	unsigned char st[8];
	struct bufin b;
	int p[2];

	make_pipe(p, 0);
	close(p[0]);
	close(p[1]);
	bufin_init(&b, p[0], st, sizeof(st));
	errno = 0;
	assert_int_equal(bufin_fill(&b, clock_ms() + 1000), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(b.err, 1);
}

/* bufout: buffering, flushing when full, and exact bytes on the wire. */
static void test_out(void **state)
{
	unsigned char st[4], got[64];
	struct bufout o;
	int p[2];
	ssize_t n;

	make_pipe(p, 0);
	bufout_init(&o, p[1], st, sizeof(st));
	assert_int_equal(bufout_put(&o, "ab", 2, clock_ms() + 1000), 0);
	assert_int_equal(o.len, 2);
	/* Nothing written yet. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	assert_int_equal(read(p[0], got, sizeof(got)), -1);
	assert_int_equal(bufout_put(&o, "cdefghij", 8, clock_ms() + 1000), 0);
	assert_int_equal(bufout_flush(&o, clock_ms() + 1000), 0);
	assert_int_equal(o.len, 0);
	n = read(p[0], got, sizeof(got));
	assert_int_equal(n, 10);
	assert_memory_equal(got, "abcdefghij", 10);
	assert_int_equal(bufout_flush(&o, clock_ms() + 1000), 0);	/* empty */
	close(p[0]);
	close(p[1]);
}

/* A full non-blocking pipe: partial writes, then ETIMEDOUT; a reader that
 * drains in time lets everything through. */
static void test_out_full_pipe(void **state)
{
	static unsigned char big[256 * 1024], got[256 * 1024];
	int p[2];
	int64_t t0;
	pid_t pid;
	size_t total = 0;
	int st;

	make_pipe(p, 1);
	memset(big, 'q', sizeof(big));
	t0 = clock_ms();
	errno = 0;
	assert_int_equal(fd_write_all(p[1], big, sizeof(big), t0 + 100), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(clock_ms() - t0 >= 99);
	close(p[0]);
	close(p[1]);

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	make_pipe(p, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(fd_write_all(p[1], big, sizeof(big), clock_ms() + 5000) == 0 ? 0 : 1);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, 0);
	for (int i = 0; i < 100000 && total < sizeof(got); i++) {
		ssize_t r = read(p[0], got + total, sizeof(got) - total);

		if (r <= 0)
			break;
		total += (size_t)r;
	}
	assert_int_equal(total, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p[0]);
}

/* A gone reader: EPIPE (SIGPIPE ignored), and the error sticks. */
static void test_out_epipe(void **state)
{
	unsigned char st[4];
	struct bufout o;
	int sv[2];
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	bufout_init(&o, sv[0], st, sizeof(st));
	assert_int_equal(bufout_put(&o, "abc", 3, clock_ms() + 1000), 0);
	errno = 0;
	assert_int_equal(bufout_flush(&o, clock_ms() + 1000), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(o.err, 1);
	errno = 0;
	assert_int_equal(bufout_put(&o, "d", 1, clock_ms() + 1000), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(bufout_flush(&o, clock_ms() + 1000), -1);
	close(sv[0]);
	signal(SIGPIPE, old);
}

/* A zero-capacity output buffer refuses data instead of looping. */
static void test_out_zero_cap(void **state)
{
	struct bufout o;
	unsigned char st[1];

	bufout_init(&o, 1, st, 0);
	assert_int_equal(bufout_put(&o, "", 0, clock_ms() + 10), 0);
	errno = 0;
	assert_int_equal(bufout_put(&o, "a", 1, clock_ms() + 10), -1);
	assert_int_equal(errno, ENOBUFS);
}

/* fd_wait reports readiness and timeouts. */
static void test_wait(void **state)
{
	int p[2];

	make_pipe(p, 0);
	assert_int_equal(fd_wait(p[1], POLLOUT, clock_ms() + 100), 0);
	errno = 0;
	assert_int_equal(fd_wait(p[0], POLLIN, clock_ms() + 20), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(p[1]);
	assert_int_equal(fd_wait(p[0], POLLIN, DEADLINE_NONE), 0);	/* POLLHUP */
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_fill_timeout),
		cmocka_unit_test(test_fill_badfd),
		cmocka_unit_test(test_out),
		cmocka_unit_test(test_out_full_pipe),
		cmocka_unit_test(test_out_epipe),
		cmocka_unit_test(test_out_zero_cap),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_no_stale_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
