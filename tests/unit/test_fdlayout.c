/*
 * test_fdlayout.c — fds_expect: a missing documented descriptor is fatal,
 * and every descriptor above the layout is closed (a leak from whoever
 * exec'd a role must not reach its sandbox).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdlayout.h"

/* Run body in a child; its exit status. */
static int in_child(void (*body)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		body();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void leak_then_expect(void)
{
	int p[2];

	if (pipe(p) != 0 || dup2(p[0], 40) != 40 || dup2(p[1], 41) != 41)
		_exit(2);
	fds_expect(3, 3);
	/* Both leaked ends, and the pipe's own descriptors, are gone. */
	if (fcntl(40, F_GETFD) >= 0 || fcntl(41, F_GETFD) >= 0 ||
	    fcntl(p[0], F_GETFD) >= 0 || fcntl(0, F_GETFD) < 0)
		_exit(3);
}

static void missing_then_expect(void)
{
	close(1);
	fds_expect(3, 3);
	_exit(4);	/* not reached: fds_expect must not return */
}

static void optional_kept(void)
{
	if (dup2(0, 4) != 4 || dup2(0, 9) != 9)
		_exit(2);
	fds_expect(3, 5);	/* 3 may be missing, 4 is kept, 9 goes */
	if (fcntl(4, F_GETFD) < 0 || fcntl(9, F_GETFD) >= 0)
		_exit(3);
}

static void test_extra_descriptors_closed(void **state)
{
	(void)state;
	assert_int_equal(in_child(leak_then_expect), 0);
}

static void test_missing_descriptor_is_fatal(void **state)
{
	(void)state;
	assert_int_equal(in_child(missing_then_expect), 111);
}

static void test_optional_range_left_alone(void **state)
{
	(void)state;
	assert_int_equal(in_child(optional_kept), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extra_descriptors_closed),
		cmocka_unit_test(test_missing_descriptor_is_fatal),
		cmocka_unit_test(test_optional_range_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
