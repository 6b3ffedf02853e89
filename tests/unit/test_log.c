/*
 * test_log.c — unit tests of lib/log.c: exact bytes of log lines (fd 2 is
 * replaced by a pipe for each test and restored afterwards), escaping of
 * hostile bytes, and truncation that never splits an escape.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

struct capture {
	int saved;	/* the real fd 2 */
	int rd;		/* read end of the pipe now on fd 2 */
};

/* Put a pipe on fd 2. */
static int setup(void **state)
{
	static struct capture c;
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	c.saved = dup(2);
	if (c.saved < 0 || dup2(p[1], 2) < 0)
		return -1;
	close(p[1]);
	c.rd = p[0];
	fcntl(c.rd, F_SETFL, O_NONBLOCK);
	log_init("prog");
	*state = &c;
	return 0;
}

/* Restore fd 2. */
static int teardown(void **state)
{
	struct capture *c = *state;

	dup2(c->saved, 2);
	close(c->saved);
	close(c->rd);
	return 0;
}

/* Everything written to fd 2 so far (one read: one write => one line). */
static size_t grab(void **state, char *out, size_t cap)
{
	struct capture *c = *state;
	ssize_t r = read(c->rd, out, cap);

	return r > 0 ? (size_t)r : 0;
}

/* Assert that the captured output is exactly want. */
static void expect(void **state, const char *want)
{
	char got[LOG_LINE_MAX * 2];
	size_t n = grab(state, got, sizeof(got));

	assert_int_equal(n, strlen(want));
	assert_memory_equal(got, want, n);
}

/* A line with each kind of value. */
static void test_line(void **state)
{
	struct logline l;

	ll_begin(&l, "connect");
	ll_str(&l, "ip", "127.0.0.1");
	ll_u64(&l, "port", 587);
	ll_i64(&l, "delta", -5);
	ll_u64(&l, "max", UINT64_MAX);
	ll_i64(&l, "min", INT64_MIN);
	ll_bytes(&l, "raw", "ab", 2);
	ll_str(&l, "empty", "");
	ll_emit(&l);
	expect(state, "prog: event=connect ip=127.0.0.1 port=587 delta=-5 "
	       "max=18446744073709551615 min=-9223372036854775808 raw=ab empty=\n");
}

/* Hostile bytes cannot split the line or forge a key. */
static void test_escape(void **state)
{
	struct logline l;

	ll_begin(&l, "cmd");
	ll_str(&l, "line", "a b\r\nprog: event=forged \"x\\y\"");
	ll_bytes(&l, "bin", "\0\x7f\x80\xff~!", 6);
	ll_emit(&l);
	expect(state, "prog: event=cmd line=a\\x20b\\x0d\\x0aprog:\\x20event\\x3dforged"
	       "\\x20\\x22x\\x5cy\\x22 bin=\\x00\\x7f\\x80\\xff~!\n");
}

/* Keys and the event are escaped too. */
static void test_escape_key(void **state)
{
	struct logline l;

	ll_begin(&l, "a b");
	ll_str(&l, "k=v", "1");
	ll_emit(&l);
	expect(state, "prog: event=a\\x20b k\\x3dv=1\n");
}

/* log_escape: NUL-terminated, cut only between escapes. */
static void test_log_escape(void **state)
{
	char out[8];

	assert_int_equal(log_escape(out, sizeof(out), "ab\n", 3), 6);
	assert_string_equal(out, "ab\\x0a");
	/* "a\n\n": a + 4 bytes fit in 7, the second escape does not. */
	assert_int_equal(log_escape(out, sizeof(out), "a\n\n", 3), 5);
	assert_string_equal(out, "a\\x0a");
	assert_int_equal(log_escape(out, 4, "\n", 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(log_escape(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
	assert_int_equal(log_escape(out, 0, "abc", 3), 0);
}

/* A long value is cut at an escape boundary and the line is marked. */
static void test_truncate(void **state)
{
	static char big[LOG_LINE_MAX * 2];
	char got[LOG_LINE_MAX * 2];
	struct logline l;
	size_t n, prefix = strlen("prog: event=x v=");

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i % 3 == 0 ? 'a' : '\n');
	ll_begin(&l, "x");
	ll_bytes(&l, "v", big, sizeof(big));
	ll_str(&l, "after", "dropped");
	ll_emit(&l);
	n = grab(state, got, sizeof(got));
	assert_true(n <= LOG_LINE_MAX);
	assert_true(n > LOG_LINE_MAX - 16);
	assert_memory_equal(got + n - 13, " truncated=1\n", 13);
	assert_memory_equal(got, "prog: event=x v=a\\x0a\\x0aa", 26);
	/* The value part is whole escapes: a, or \x0a, repeated. */
	for (size_t i = prefix; i < n - 13;) {
		if (got[i] == 'a') {
			i++;
			continue;
		}
		assert_true(i + 4 <= n - 13);
		assert_memory_equal(got + i, "\\x0a", 4);
		i += 4;
	}
	assert_null(memmem(got, n, "after", 5));
	assert_null(memchr(got, '\n', n - 1));
}

/* A line of the largest unmarked size (room for " truncated=1" is always
 * kept) is not marked; one byte more is. */
static void test_exact_fit(void **state)
{
	static char val[LOG_LINE_MAX];
	char got[LOG_LINE_MAX * 2];
	struct logline l;
	size_t fixed = strlen("prog: event=x v=") + 12 + 1, n;

	memset(val, 'z', sizeof(val));
	ll_begin(&l, "x");
	ll_bytes(&l, "v", val, LOG_LINE_MAX - fixed);
	ll_emit(&l);
	n = grab(state, got, sizeof(got));
	assert_int_equal(n, LOG_LINE_MAX - 12);
	assert_int_equal(got[n - 1], '\n');
	assert_null(memmem(got, n, "truncated", 9));

	ll_begin(&l, "x");
	ll_bytes(&l, "v", val, LOG_LINE_MAX - fixed + 1);
	ll_emit(&l);
	n = grab(state, got, sizeof(got));
	assert_int_equal(n, LOG_LINE_MAX);
	assert_memory_equal(got + n - 13, " truncated=1\n", 13);
}

/* log_event formats trusted text but still escapes control bytes. */
static void test_event(void **state)
{
	log_event("start", "listeners=%d", 2);
	expect(state, "prog: event=start listeners=2\n");
	log_event("stop", "%s", "");
	expect(state, "prog: event=stop \n");
	log_event("stop", "%s", "a\nb");
	expect(state, "prog: event=stop a\\x0ab\n");
}

/* The program name is bounded. */
static void test_progname(void **state)
{
	char name[200];
	char got[512];
	struct logline l;
	size_t n;

	memset(name, 'p', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	log_init(name);
	ll_begin(&l, "e");
	ll_emit(&l);
	n = grab(state, got, sizeof(got));
	assert_int_equal(n, 63 + strlen(": event=e\n"));
	log_init("prog");
}

/* log_fatal writes its line and exits 111. */
static void test_fatal(void **state)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		log_fatal("cannot %s", "bind");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 111);
	expect(state, "prog: event=fatal reason=cannot bind\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
