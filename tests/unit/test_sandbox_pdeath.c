/*
 * test_sandbox_pdeath.c — a sandboxed role dies with its parent
 * (lib/sandbox.c step 3): sandbox_enter arms PR_SET_PDEATHSIG SIGKILL
 * again after the uid/gid drop (which clears it), and
 * sandbox_die_with_parent refuses to go on once the parent is gone.
 *
 * The test process is a child subreaper, so an orphaned grandchild is
 * re-parented to it and its end can be collected with waitpid.  Every
 * child has alarm(20): a grandchild that does not die with its parent
 * ends with SIGALRM and the test fails.  Runs as root (the drop to
 * nobody happens) and as an ordinary user.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>

#include "log.h"
#include "sandbox_test.h"

static const struct sandbox_rule rules_read[] = {
	SB_RULE(read),
};

/* Read exactly n bytes or fail the test. */
static void read_all(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r > 0);
		got += (size_t)r;
	}
}

/* Wait for pid (a child or an adopted orphan); its status. */
static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	return st;
}

/* The parent (middle) exits once its child (the role) is in its sandbox
 * and blocked on a pipe that never delivers: the role must die of SIGKILL. */
static void test_role_dies_with_parent_after_drop(void **state)
{
	int ready[2], report[2], never[2], st;
	pid_t middle, role;
	struct sandbox_spec spec = sbt_spec(rules_read, SB_NRULES(rules_read));

	(void)state;
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(report), 0);
	assert_int_equal(pipe(never), 0);
	middle = fork();
	assert_true(middle >= 0);
	if (middle == 0) {
		pid_t pid;
		char c;

		alarm(20);
		pid = fork();
		if (pid < 0)
			_exit(2);
		if (pid == 0) {
			alarm(20);
			sandbox_enter(&spec);
			if (write(ready[1], "k", 1) != 1)
				_exit(3);
			(void)!read(never[0], &c, 1);	/* blocks: never[1] stays open */
			_exit(4);
		}
		if (read(ready[0], &c, 1) != 1 ||
		    write(report[1], &pid, sizeof pid) != (ssize_t)sizeof pid)
			_exit(5);
		_exit(0);	/* the master dies */
	}
	read_all(report[0], &role, sizeof role);
	st = reap(middle);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = reap(role);	/* adopted by us, the subreaper */
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	close(ready[0]);
	close(ready[1]);
	close(report[0]);
	close(report[1]);
	close(never[0]);
	close(never[1]);
}

/* A child whose parent is already gone when it arms the signal is told
 * so (ESRCH) instead of running on as an orphan. */
static void test_parent_already_gone_is_refused(void **state)
{
	int report[2], st, rc[2];
	pid_t middle;

	(void)state;
	assert_int_equal(pipe(report), 0);
	middle = fork();
	assert_true(middle >= 0);
	if (middle == 0) {
		pid_t pid;

		alarm(20);
		pid = fork();
		if (pid < 0)
			_exit(2);
		if (pid == 0) {
			pid_t parent = getppid();
			int out[2];

			alarm(20);
			out[0] = sandbox_die_with_parent(parent);	/* alive: 0 */
			/* disarmed again, or killing the parent would kill us */
			if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) != 0)
				_exit(4);
			kill(parent, SIGKILL);
			while (getppid() == parent)	/* alarm(20) bounds it */
				usleep(1000);
			out[1] = sandbox_die_with_parent(parent) == -1 && errno == ESRCH;
			if (write(report[1], out, sizeof out) != (ssize_t)sizeof out)
				_exit(3);
			_exit(0);
		}
		for (;;)
			pause();
	}
	close(report[1]);
	read_all(report[0], rc, sizeof rc);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], 1);
	st = reap(middle);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(report[0]);
	/* the orphan was adopted by us and exits 0 */
	while (waitpid(-1, &st, 0) > 0)
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_dies_with_parent_after_drop),
		cmocka_unit_test(test_parent_already_gone_is_refused),
	};

	log_init("test_sandbox_pdeath");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		perror("PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	return cmocka_run_group_tests(tests, sbt_setup, sbt_teardown);
}
