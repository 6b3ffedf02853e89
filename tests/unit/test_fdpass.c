/*
 * test_fdpass.c — unit tests of lib/fdpass.c: descriptors arrive working
 * and close-on-exec; too many descriptors, a truncated message and a
 * foreign control message are refused with every received descriptor
 * closed (checked by counting this process's open descriptors).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/* Number of descriptors open in this process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/* A connected SOCK_SEQPACKET pair. */
static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* Two pipes' write ends travel and still reach their pipes. */
static void test_pass(void **state)
{
	int sv[2], p1[2], p2[2], fds[2], got[4];
	char buf[16], c;
	size_t n = 99;
	int before;

	pair(sv);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	fds[0] = p1[1];
	fds[1] = p2[1];
	assert_int_equal(fdpass_send(sv[0], "table", 5, fds, 2), 0);
	close(p1[1]);
	close(p2[1]);
	before = open_fds();
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n), 5);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "table", 5);
	assert_int_equal(open_fds(), before + 2);
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(got[1], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(got[0], "1", 1), 1);
	assert_int_equal(write(got[1], "2", 1), 1);
	assert_int_equal(read(p1[0], &c, 1), 1);
	assert_int_equal(c, '1');
	assert_int_equal(read(p2[0], &c, 1), 1);
	assert_int_equal(c, '2');
	close(got[0]);
	close(got[1]);
	close(p1[0]);
	close(p2[0]);

	/* No descriptors at all. */
	assert_int_equal(fdpass_send(sv[0], "x", 1, NULL, 0), 0);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n), 1);
	assert_int_equal(n, 0);

	/* EOF. */
	close(sv[0]);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n), 0);
	close(sv[1]);
}

/* Send the n descriptors dup'ed from stdin-like /dev/null. */
static void send_nulls(int sock, const char *msg, size_t len, size_t n)
{
	int fds[FDPASS_MAX];
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(nul >= 0);
	for (size_t i = 0; i < n; i++)
		fds[i] = nul;
	assert_int_equal(fdpass_send(sock, msg, len, fds, n), 0);
	close(nul);
}

/* More descriptors than asked for: EPROTO, all closed. */
static void test_too_many(void **state)
{
	int sv[2], got[2];
	char buf[16];
	size_t n = 99;
	int before;

	pair(sv);
	send_nulls(sv[0], "x", 1, 3);
	before = open_fds();
	errno = 0;
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 2, &n), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(n, 0);
	assert_int_equal(open_fds(), before);

	/* Descriptors where none were expected. */
	send_nulls(sv[0], "x", 1, 1);
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), NULL, 0, &n), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(open_fds(), before);

	/* The maximum a sender may pass. */
	send_nulls(sv[0], "x", 1, FDPASS_MAX);
	{
		int many[FDPASS_MAX];

		assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), many, FDPASS_MAX,
		                             &n), 1);
		assert_int_equal(n, FDPASS_MAX);
		assert_int_equal(open_fds(), before + FDPASS_MAX);
		for (size_t i = 0; i < n; i++)
			close(many[i]);
	}
	close(sv[0]);
	close(sv[1]);
}

/* A message longer than the buffer (MSG_TRUNC): EPROTO, all closed. */
static void test_truncated(void **state)
{
	int sv[2], got[4];
	char buf[4];
	size_t n;
	int before;

	pair(sv);
	send_nulls(sv[0], "too long", 8, 2);
	before = open_fds();
	errno = 0;
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(open_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

/* A raw sendmsg with 20 descriptors: more than the receive room, so the
 * kernel truncates (MSG_CTRUNC); nothing may leak. */
static void test_ctrunc(void **state)
{
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(sizeof(int) * 20)];
	} ctl;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	                      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	int fds[20], got[FDPASS_MAX], sv[2];
	char buf[8];
	size_t n;
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC), before;

	assert_true(nul >= 0);
	for (int i = 0; i < 20; i++)
		fds[i] = nul;
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	pair(sv);
	assert_int_equal(sendmsg(sv[0], &msg, 0), 1);
	close(nul);
	before = open_fds();
	errno = 0;
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, FDPASS_MAX, &n), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(open_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

/* A credentials message (SO_PASSCRED) is not SCM_RIGHTS: refused. */
static void test_foreign_cmsg(void **state)
{
	int sv[2], got[4], one = 1;
	char buf[8];
	size_t n;
	int before;

	pair(sv);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	send_nulls(sv[0], "x", 1, 1);
	before = open_fds();
	errno = 0;
	assert_int_equal(fdpass_recv(sv[1], buf, sizeof(buf), got, 4, &n), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(open_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

/* Bad arguments to send. */
static void test_send_args(void **state)
{
	int sv[2], fds[FDPASS_MAX + 1] = { 0 };

	pair(sv);
	errno = 0;
	assert_int_equal(fdpass_send(sv[0], "x", 1, fds, FDPASS_MAX + 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fdpass_send(sv[0], "", 0, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	close(sv[1]);
	errno = 0;
	assert_int_equal(fdpass_send(sv[0], "x", 1, NULL, 0), -1);	/* no SIGPIPE */
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_ctrunc),
		cmocka_unit_test(test_foreign_cmsg),
		cmocka_unit_test(test_send_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
