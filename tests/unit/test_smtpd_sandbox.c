/*
 * test_smtpd_sandbox.c — postern-smtpd's own allow-list
 * (smtpd/sandbox_rules.c) in a forked child: read is allowed on fds 0 and
 * 1 only, sendto/recvfrom on fds 3..5 only; any other descriptor is
 * SIGSYS.  Calls use empty buffers and MSG_DONTWAIT so nothing blocks; an
 * allowed call on a descriptor that is not open fails with an errno
 * instead, which is what "allowed" means here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>

#include "sandbox_test.h"
#include "../../smtpd/sandbox_rules.h"
#include "log.h"

static int target_fd;	/* the descriptor the killed children try */

/* Enter smtpd's sandbox; report that it happened. */
static void enter_smtpd(int report_fd)
{
	struct sandbox_spec s = sbt_spec(smtpd_sandbox_rules, smtpd_sandbox_nrules);

	sandbox_enter(&s);
	if (write(report_fd, "entered", 7) != 7)
		_exit(121);
}

/* Every call the engine makes, on the descriptors it makes them on. */
static void child_allowed(int report_fd)
{
	char c;

	enter_smtpd(report_fd);
	if (read(0, &c, 0) > 0 || read(1, &c, 0) > 0)
		_exit(122);	/* a read of 0 bytes returns 0 or an error */
	for (int fd = 3; fd <= 5; fd++) {
		(void)sendto(fd, &c, 0, MSG_DONTWAIT, NULL, 0);
		(void)recvfrom(fd, &c, 0, MSG_DONTWAIT, NULL, NULL);
	}
	if (write(report_fd, " survived", 9) != 9)
		_exit(121);
}

/* read(2) of target_fd. */
static void child_read(int report_fd)
{
	char c;

	enter_smtpd(report_fd);
	if (read(target_fd, &c, 0) > 0)
		_exit(122);
}

/* sendto(2) on target_fd. */
static void child_sendto(int report_fd)
{
	char c = 0;

	enter_smtpd(report_fd);
	(void)sendto(target_fd, &c, 0, MSG_DONTWAIT, NULL, 0);
}

/* recvfrom(2) on target_fd. */
static void child_recvfrom(int report_fd)
{
	char c;

	enter_smtpd(report_fd);
	(void)recvfrom(target_fd, &c, 0, MSG_DONTWAIT, NULL, NULL);
}

/* body on fd must end in SIGSYS after a successful entry. */
static void expect_killed(child_body body, int fd)
{
	struct child_run r;

	target_fd = fd;
	sbt_run(body, &r);
	r.out[r.outlen] = '\0';
	if (!sbt_killed_by(&r, SIGSYS))
		fail_msg("fd %d: not killed by SIGSYS (status %#x, report \"%s\")",
		         fd, (unsigned)r.status, r.out);
	assert_string_equal(r.out, "entered");
}

/* The engine's own calls pass. */
static void test_allowed(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_allowed, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_exited(&r, 0));
	assert_string_equal(r.out, "entered survived");
}

/* read on anything but the client: the log pipe, the channels, others. */
static void test_read_other_fds_killed(void **state)
{
	(void)state;
	expect_killed(child_read, 2);
	expect_killed(child_read, 3);
	expect_killed(child_read, 5);
	expect_killed(child_read, 6);
}

/* sendto/recvfrom on the client, the log pipe or above the channels. */
static void test_channel_calls_on_other_fds_killed(void **state)
{
	(void)state;
	expect_killed(child_sendto, 0);
	expect_killed(child_sendto, 2);
	expect_killed(child_sendto, 6);
	expect_killed(child_recvfrom, 0);
	expect_killed(child_recvfrom, 1);
	expect_killed(child_recvfrom, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_read_other_fds_killed),
		cmocka_unit_test(test_channel_calls_on_other_fds_killed),
	};

	log_init("test_smtpd_sandbox");
	return cmocka_run_group_tests(tests, sbt_setup, sbt_teardown);
}
