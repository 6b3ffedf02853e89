/*
 * test_sandbox_debug.c — the -DSANDBOX_DEBUG build of lib/sandbox.c: a
 * forbidden syscall traps instead of killing, and the SIGSYS handler
 * writes one log line naming it on fd 2, then exits 111.
 *
 * This file compiles lib/sandbox.c itself with SANDBOX_DEBUG defined, so
 * its sandbox_enter() replaces lib.a's: the linker never pulls lib.a's
 * sandbox.o (every symbol it defines is already defined here), while
 * sandbox_common.o, log.o and sandbox_probe.o still come from lib.a.
 */
#define SANDBOX_DEBUG 1
#include "../../lib/sandbox.c"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/socket.h>

#include "sandbox_test.h"

static const struct sandbox_rule rules_basic[] = {
	SB_RULE(read),
};

/* Enter with the basic table; report "entered" on fd. */
static void enter_basic(int fd)
{
	struct sandbox_spec s = sbt_spec(rules_basic, 1);

	sandbox_enter(&s);
	if (write(fd, "entered", 7) != 7)
		_exit(121);
}

static void child_openat(int fd)
{
	enter_basic(fd);
	syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	_exit(0);
}

static void child_socket(int fd)
{
	enter_basic(fd);
	syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	_exit(0);
}

static void child_write(int fd)
{
	enter_basic(fd);
}

/* Run body; expect the trap's exit 111 and a violation line naming name
 * and its number. */
static void expect_trap(child_body body, const char *name, long nr)
{
	struct child_run r;
	char want[128];

	sbt_run(body, &r);
	r.err[r.errlen] = '\0';
	r.out[r.outlen] = '\0';
	assert_string_equal(r.out, "entered");
	assert_true(sbt_exited(&r, 111));
	snprintf(want, sizeof want,
		 "test_sandbox_debug: event=sandbox-violation role=test "
		 "syscall=%s nr=%ld\n", name, nr);
	assert_string_equal(r.err, want);
}

static void test_trap_names_openat(void **state)
{
	(void)state;
	expect_trap(child_openat, "openat", SYS_openat);
}

static void test_trap_names_socket(void **state)
{
	(void)state;
	expect_trap(child_socket, "socket", SYS_socket);
}

/* The debug build still allows what the table allows. */
static void test_debug_allowed_write(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_write, &r);
	assert_true(sbt_exited(&r, 0));
	assert_int_equal(r.errlen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trap_names_openat),
		cmocka_unit_test(test_trap_names_socket),
		cmocka_unit_test(test_debug_allowed_write),
	};

	log_init("test_sandbox_debug");
	return cmocka_run_group_tests(tests, sbt_setup, sbt_teardown);
}
