/*
 * test_sandbox.c — proves lib/sandbox.c's sandbox_enter() (DESIGN.md
 * section 1, invariant 3): each case forks a child that enters a sandbox
 * with a small test allow-list and then does one thing; the parent checks
 * how the child ended (exit 0, exit 111 = refused, SIGSYS = killed by the
 * filter) and what it reported.
 *
 * Runs as root (CI) and as an ordinary user: the chroot, uid/gid and
 * /proc/PID/root checks skip when not root.  Every child has alarm(20).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "log.h"
#include "sandbox_probe.h"
#include "sandbox_test.h"

/* ---- allow-lists used by the children ---- */

/* Enough to report on a pipe and wait on one. */
static const struct sandbox_rule rules_basic[] = {
	SB_RULE(read),
};

/* What glibc 2.36's pthread_create/pthread_join and thread exit need
 * (measured with strace -f: mmap+mprotect for the stack, clone3, rseq and
 * set_robust_list in the new thread, futex for join, madvise+exit at
 * thread exit; clone is glibc's fallback without clone3, munmap frees a
 * stack the cache drops), never PROT_EXEC. */
static const struct sandbox_rule rules_threads[] = {
	SB_RULE(read),
	SB_RULE_ARG1(mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SB_RULE_ARG1(mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SB_RULE(munmap),
	SB_RULE(madvise),
	SB_RULE(clone),
	SB_RULE(clone3),
	SB_RULE(rt_sigprocmask),
	SB_RULE(rt_sigaction),	/* first pthread_create: SIGCANCEL handler */
	SB_RULE(set_robust_list),
	SB_RULE(rseq),
	SB_RULE(futex),
	SB_RULE(exit),
#ifdef POSTERN_SANITIZER
	/* ASan's pthread_create interceptor: thread registry, then the new
	 * thread's stack bounds through pthread_getattr_np */
	SB_RULE(gettid),
	SB_RULE(sched_getaffinity),
#endif
};

/* mmap allowed only without PROT_EXEC. */
static const struct sandbox_rule rules_mmap[] = {
	SB_RULE_ARG1(mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
};

/* socket is a harmless probe: EACCES instead of a kill. */
static const struct sandbox_rule rules_probe[] = {
	SB_PROBE(socket, EACCES),
};

/* Only the dumpable question may be asked of prctl; getrlimit is
 * prlimit64 in glibc. */
static const struct sandbox_rule rules_dumpable[] = {
	SB_RULE_ARG1(prctl, SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE)),
	SB_RULE(prlimit64),
};

/* Malformed tables: sandbox_enter must refuse them. */
static const struct sandbox_rule rules_bad_nargs[] = {
	{ SCMP_SYS(read), SB_ALLOW, 0, 4, {{0}} },
};
static const struct sandbox_rule rules_bad_errno[] = {
	SB_PROBE(socket, 0),
};

/* Repeating a common rule is harmless; contradicting one is refused. */
static const struct sandbox_rule rules_repeat_common[] = {
	SB_RULE(write),
	SB_RULE(exit_group),
	SB_RULE(read),
};
static const struct sandbox_rule rules_contradict_common[] = {
	SB_PROBE(write, EACCES),
};
/* An unconditional errno would shadow the conditional allow. */
static const struct sandbox_rule rules_shadowed_conditional[] = {
	SB_RULE_ARG1(socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX)),
	SB_PROBE(socket, EACCES),
};
/* Conditional rules with different actions are fine. */
static const struct sandbox_rule rules_split_socket[] = {
	SB_RULE_ARG1(socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX)),
	SB_PROBE_ARG1(socket, EAFNOSUPPORT, SCMP_A0(SCMP_CMP_NE, AF_UNIX)),
};

#define N(a) SB_NRULES(a)

/* Enter the sandbox with the given table (spec otherwise default). */
static void enter(const struct sandbox_rule *rules, size_t n)
{
	struct sandbox_spec s = sbt_spec(rules, n);

	sandbox_enter(&s);
}

/* Write the whole string to fd (the report pipe). */
static void report(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		_exit(121);
}

/* ---- children ---- */

static void child_write(int fd)
{
	enter(rules_basic, N(rules_basic));
	report(fd, "written");
}

static void child_openat(int fd)
{
	enter(rules_basic, N(rules_basic));
	report(fd, "entered");
	syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	report(fd, "survived");
}

static void child_libc_open(int fd)
{
	enter(rules_basic, N(rules_basic));
	report(fd, "entered");
	(void)open("/dev/null", O_RDONLY);
	report(fd, "survived");
}

static void child_socket(int fd)
{
	enter(rules_basic, N(rules_basic));
	report(fd, "entered");
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	report(fd, "survived");
}

static void child_execve(int fd)
{
	static char *const argv[] = { "true", NULL };
	static char *const envp[] = { NULL };

	enter(rules_basic, N(rules_basic));
	report(fd, "entered");
	syscall(SYS_execve, "/bin/true", argv, envp);
	report(fd, "survived");
}

static int thread_fd;		/* the child's report fd, for its thread */
static int thread_does_open;	/* 1: the thread then calls openat */

static void *thread_main(void *arg)
{
	(void)arg;
	report(thread_fd, "thread");
	if (thread_does_open)
		syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	return NULL;
}

/* Start a thread after sandbox_enter, join it, report. */
static void child_thread_after(int fd)
{
	pthread_t t;

	thread_fd = fd;
	enter(rules_threads, N(rules_threads));
	if (pthread_create(&t, NULL, thread_main, NULL) != 0)
		_exit(122);
	if (pthread_join(t, NULL) != 0)
		_exit(123);
	report(fd, " joined");
}

static void child_thread_after_open(int fd)
{
	thread_does_open = 1;
	child_thread_after(fd);
}

static void *thread_park(void *arg)
{
	int p = *(int *)arg;
	char c;

	(void)!read(p, &c, 1);	/* until the process exits */
	return NULL;
}

/* Start a thread, then try to enter: must be refused. */
static void child_thread_before(int fd)
{
	static int park[2];
	pthread_t t;

	if (pipe(park) != 0 ||
	    pthread_create(&t, NULL, thread_park, &park[0]) != 0)
		_exit(122);
	enter(rules_basic, N(rules_basic));
	report(fd, "entered");
}

static void child_uid0(int fd)
{
	struct sandbox_spec s = sbt_spec(rules_basic, N(rules_basic));

	s.uid = 0;
	sandbox_enter(&s);
	report(fd, "entered");
}

static void child_gid0(int fd)
{
	struct sandbox_spec s = sbt_spec(rules_basic, N(rules_basic));

	s.gid = 0;
	sandbox_enter(&s);
	report(fd, "entered");
}

static void child_missing_root(int fd)
{
	struct sandbox_spec s = sbt_spec(rules_basic, N(rules_basic));

	s.root = "/nonexistent/postern-sandbox-test";
	sandbox_enter(&s);
	report(fd, "entered");
}

/* Become nobody without the library's help, so that sandbox_enter takes
 * its development-mode path; euid, ruid, suid as given. */
static void become(uid_t r, uid_t e, uid_t s)
{
	if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
	    setresuid(r, e, s) != 0)
		_exit(124);
}

static void child_dev_saved_root(int fd)
{
	become(NOBODY, NOBODY, 0);
	enter(rules_basic, N(rules_basic));
	report(fd, "entered");
}

static void child_dev_wrong_gid(int fd)
{
	struct sandbox_spec s = sbt_spec(rules_basic, N(rules_basic));

	become(NOBODY, NOBODY, NOBODY);
	s.uid = NOBODY;
	s.gid = 12345;
	sandbox_enter(&s);
	report(fd, "entered");
}

static void child_dev_other_uid(int fd)
{
	struct sandbox_spec s = sbt_spec(rules_basic, N(rules_basic));

	become(NOBODY, NOBODY, NOBODY);
	s.uid = 12345;
	s.gid = 12345;
	sandbox_enter(&s);
	report(fd, "entered");
}

static void child_repeat_common(int fd)
{
	enter(rules_repeat_common, N(rules_repeat_common));
	report(fd, "entered");
}

static void child_contradict_common(int fd)
{
	enter(rules_contradict_common, N(rules_contradict_common));
	report(fd, "entered");
}

static void child_shadowed_conditional(int fd)
{
	enter(rules_shadowed_conditional, N(rules_shadowed_conditional));
	report(fd, "entered");
}

/* socket(AF_UNIX) allowed, socket(AF_INET) EAFNOSUPPORT, by arguments. */
static void child_split_socket(int fd)
{
	long u, i;

	enter(rules_split_socket, N(rules_split_socket));
	u = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	i = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	report(fd, u >= 0 ? "unix-ok" : "unix-failed");
	report(fd, i == -1 && errno == EAFNOSUPPORT ? " inet-refused" : " inet-other");
}

static void child_bad_nargs(int fd)
{
	enter(rules_bad_nargs, N(rules_bad_nargs));
	report(fd, "entered");
}

static void child_bad_errno(int fd)
{
	enter(rules_bad_errno, N(rules_bad_errno));
	report(fd, "entered");
}

static void child_null_rules(int fd)
{
	enter(NULL, 3);
	report(fd, "entered");
}

static void child_mmap(int fd)
{
	void *p;

	enter(rules_mmap, N(rules_mmap));
	p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	report(fd, p == MAP_FAILED ? "rw-failed" : "rw-ok");
	syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	report(fd, " exec-survived");
}

static void child_probe_rule(int fd)
{
	long rc;

	enter(rules_probe, N(rules_probe));
	rc = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	report(fd, rc == -1 && errno == EACCES ? "eacces" : "other");
}

static void child_dumpable(int fd)
{
	struct rlimit rl;

	enter(rules_dumpable, N(rules_dumpable));
	report(fd, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? "nodump" : "dump");
	report(fd, getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
		   rl.rlim_max == 0 ? " core0" : " core?");
	/* the arg filter: any other prctl is killed */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	report(fd, " survived");
}

static void child_probe_fn_unsandboxed(int fd)
{
	(void)fd;
	sandbox_probe_run("socket");
}

static void child_probe_fn_unknown(int fd)
{
	(void)fd;
	sandbox_probe_run("mkdir");
}

static const char *probe_name;

static void child_probe_fn(int fd)
{
	enter(rules_basic, N(rules_basic));
	report(fd, "entered");
	sandbox_probe_run(probe_name);
}

/* ---- tests ---- */

static void test_allowed_write_works(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_write, &r);
	assert_true(sbt_exited(&r, 0));
	assert_int_equal(r.outlen, strlen("written"));
	assert_memory_equal(r.out, "written", r.outlen);
}

/* A forbidden call after a successful entry: killed by SIGSYS, and the
 * child really had entered (it reported so) and did not survive. */
static void expect_sigsys(child_body body)
{
	struct child_run r;

	sbt_run(body, &r);
	assert_true(sbt_killed_by(&r, SIGSYS));
	r.out[r.outlen] = '\0';
	assert_string_equal(r.out, "entered");
}

static void test_openat_killed(void **state)
{
	(void)state;
	expect_sigsys(child_openat);
}

static void test_libc_open_killed(void **state)
{
	(void)state;
	expect_sigsys(child_libc_open);
}

static void test_socket_killed(void **state)
{
	(void)state;
	expect_sigsys(child_socket);
}

static void test_execve_killed(void **state)
{
	(void)state;
	expect_sigsys(child_execve);
}

static void test_thread_after_allowed(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_thread_after, &r);
	r.out[r.outlen] = '\0';
	r.err[r.errlen] = '\0';
	if (!sbt_exited(&r, 0))
		print_error("status=%#x out=%s err=%s\n", r.status, r.out, r.err);
	assert_true(sbt_exited(&r, 0));
	assert_string_equal(r.out, "thread joined");
}

/* TSYNC/inheritance: a thread created after the filter is filtered too,
 * and its violation kills the whole process. */
static void test_thread_after_open_kills_process(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_thread_after_open, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_killed_by(&r, SIGSYS));
	assert_string_equal(r.out, "thread");
}

/* Assert the child was refused: exit 111, nothing reported, and one
 * event=fatal line naming the step. */
static void expect_refused(child_body body, const char *reason)
{
	struct child_run r;

	sbt_run(body, &r);
	r.err[r.errlen] = '\0';
	assert_true(sbt_exited(&r, 111));
	assert_int_equal(r.outlen, 0);
	assert_non_null(strstr(r.err, "event=fatal reason="));
	assert_non_null(strstr(r.err, reason));
}

static void test_thread_before_refused(void **state)
{
	(void)state;
	expect_refused(child_thread_before, "reason=sandbox-threads threads=2");
}

static void test_uid0_refused(void **state)
{
	(void)state;
	expect_refused(child_uid0, "target-is-root");
}

static void test_gid0_refused(void **state)
{
	(void)state;
	expect_refused(child_gid0, "target-is-root");
}

static void test_missing_root_fatal(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	expect_refused(child_missing_root, "sandbox-chroot");
}

/* Development mode (not root): a saved uid 0 is refused; a spec naming
 * our uid must match our gid too; a spec naming another uid is the
 * master's dev-mode convention and goes through unchecked.  Needs root to
 * set the ids up. */
static void test_dev_mode_checks(void **state)
{
	struct child_run r;

	(void)state;
	if (geteuid() != 0)
		skip();
	expect_refused(child_dev_saved_root, "reason=sandbox-dev role=test detail=uid-0-left");
	expect_refused(child_dev_wrong_gid, "reason=sandbox-dev role=test detail=ids");
	sbt_run(child_dev_other_uid, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_exited(&r, 0));
	assert_string_equal(r.out, "entered");
}

static void test_bad_tables_refused(void **state)
{
	(void)state;
	expect_refused(child_bad_nargs, "detail=nargs");
	expect_refused(child_bad_errno, "detail=action");
	expect_refused(child_null_rules, "detail=null-table");
	expect_refused(child_contradict_common, "detail=mixed-actions");
	expect_refused(child_shadowed_conditional, "detail=mixed-actions");
}

static void test_split_actions_by_argument(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_split_socket, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_exited(&r, 0));
	assert_string_equal(r.out, "unix-ok inet-refused");
}

static void test_repeated_common_rule_ok(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_repeat_common, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_exited(&r, 0));
	assert_string_equal(r.out, "entered");
}

static void test_mmap_exec_killed(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_mmap, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_killed_by(&r, SIGSYS));
	assert_string_equal(r.out, "rw-ok");
}

static void test_probe_rule_returns_errno(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_probe_rule, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_exited(&r, 0));
	assert_string_equal(r.out, "eacces");
}

static void test_no_core_dumps(void **state)
{
	struct child_run r;

	(void)state;
	sbt_run(child_dumpable, &r);
	r.out[r.outlen] = '\0';
	assert_true(sbt_killed_by(&r, SIGSYS));
	assert_string_equal(r.out, "nodump core0");
}

/* The probe function itself: without a sandbox it survives (112, logged),
 * an unknown probe is fatal, and in a sandbox each probe is SIGSYS. */
static void test_probe_function(void **state)
{
	static const char *const probes[] = { "open", "socket", "execve" };
	struct child_run r;
	size_t i;

	(void)state;
	sbt_run(child_probe_fn_unsandboxed, &r);
	r.err[r.errlen] = '\0';
	assert_true(sbt_exited(&r, SANDBOX_PROBE_SURVIVED));
	assert_non_null(strstr(r.err, "event=sandbox-probe-survived probe=socket"));
	sbt_run(child_probe_fn_unknown, &r);
	assert_true(sbt_exited(&r, 111));
	for (i = 0; i < N(probes); i++) {
		probe_name = probes[i];
		expect_sigsys(child_probe_fn);
	}
}

/* Value of "Key:" in a /proc status text, copied up to the newline. */
static void status_field(const char *status, const char *key, char *out,
			 size_t cap)
{
	char pat[64];
	const char *p, *e;
	size_t n;

	snprintf(pat, sizeof pat, "\n%s:", key);
	p = strstr(status, pat);
	assert_non_null(p);
	p += strlen(pat);
	while (*p == '\t' || *p == ' ')
		p++;
	e = strchr(p, '\n');
	assert_non_null(e);
	n = (size_t)(e - p);
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
}

/* Read a whole small file into buf (NUL-terminated). */
static void read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t n;

	assert_true(fd >= 0);
	n = sbt_drain(fd, buf, cap - 1);
	buf[n] = '\0';
	close(fd);
}

/* The parent's view of a child that sits inside its sandbox: the kernel's
 * own record of the filter, no_new_privs, ids, groups, root and limits. */
static void test_proc_status_of_sandboxed_child(void **state)
{
	static char mine[8192], theirs[8192], limits[8192];
	char v[256], w[256], path[64], link[PATH_MAX];
	int up[2], down[2], status;
	pid_t pid;
	char c;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		close(up[0]);
		close(down[1]);
		enter(rules_basic, N(rules_basic));
		if (write(up[1], "r", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);

	read_file("/proc/self/status", mine, sizeof mine);
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	read_file(path, theirs, sizeof theirs);
	status_field(theirs, "Seccomp", v, sizeof v);
	assert_string_equal(v, "2");
	status_field(mine, "Seccomp_filters", v, sizeof v);
	status_field(theirs, "Seccomp_filters", w, sizeof w);
	assert_int_equal(strtol(w, NULL, 10), strtol(v, NULL, 10) + 1);
	status_field(theirs, "NoNewPrivs", v, sizeof v);
	assert_string_equal(v, "1");
	if (geteuid() == 0) {
		status_field(theirs, "Uid", v, sizeof v);
		assert_string_equal(v, "65534\t65534\t65534\t65534");
		status_field(theirs, "Gid", v, sizeof v);
		assert_string_equal(v, "65534\t65534\t65534\t65534");
		status_field(theirs, "Groups", v, sizeof v);
		assert_string_equal(v, "");
		status_field(theirs, "CapEff", v, sizeof v);
		assert_string_equal(v, "0000000000000000");
		status_field(theirs, "CapPrm", v, sizeof v);
		assert_string_equal(v, "0000000000000000");
		snprintf(path, sizeof path, "/proc/%d/root", (int)pid);
		n = readlink(path, link, sizeof link - 1);
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, sbt_root);
		snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
		n = readlink(path, link, sizeof link - 1);
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, sbt_root);
	}
	snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
	read_file(path, limits, sizeof limits);
	assert_non_null(strstr(limits, "Max core file size        0"));

	assert_int_equal(write(down[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	close(down[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_write_works),
		cmocka_unit_test(test_openat_killed),
		cmocka_unit_test(test_libc_open_killed),
		cmocka_unit_test(test_socket_killed),
		cmocka_unit_test(test_execve_killed),
		cmocka_unit_test(test_thread_after_allowed),
		cmocka_unit_test(test_thread_after_open_kills_process),
		cmocka_unit_test(test_thread_before_refused),
		cmocka_unit_test(test_uid0_refused),
		cmocka_unit_test(test_gid0_refused),
		cmocka_unit_test(test_missing_root_fatal),
		cmocka_unit_test(test_dev_mode_checks),
		cmocka_unit_test(test_bad_tables_refused),
		cmocka_unit_test(test_repeated_common_rule_ok),
		cmocka_unit_test(test_split_actions_by_argument),
		cmocka_unit_test(test_mmap_exec_killed),
		cmocka_unit_test(test_probe_rule_returns_errno),
		cmocka_unit_test(test_no_core_dumps),
		cmocka_unit_test(test_probe_function),
		cmocka_unit_test(test_proc_status_of_sandboxed_child),
	};

	log_init("test_sandbox");
	return cmocka_run_group_tests(tests, sbt_setup, sbt_teardown);
}
