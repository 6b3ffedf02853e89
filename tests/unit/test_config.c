/*
 * test_config.c — unit tests of lib/config.c: the key = value grammar, the
 * exact "FILE:LINE: reason" errors, and the value helpers' ranges and
 * overflow checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* What the callback saw. */
struct seen {
	int n;
	char keys[8][64];
	char vals[8][CONF_LINE_MAX];
	const char *reject;	/* key to refuse */
};

/* Record each pair; refuse seen->reject. */
static int record(void *ctx, const char *key, const char *value, char *err,
                  size_t errcap)
{
	struct seen *s = ctx;

	if (s->reject != NULL && strcmp(key, s->reject) == 0) {
		snprintf(err, errcap, "unknown key %s", key);
		return -1;
	}
	if (s->n < 8) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		snprintf(s->vals[s->n], sizeof(s->vals[0]), "%s", value);
	}
	s->n++;
	return 0;
}

/* Parse a C string named "t.conf". */
static int parse(const char *text, struct seen *s, char *err)
{
	memset(err, 0, CONF_ERR_MAX);
	return conf_parse_buf("t.conf", text, strlen(text), record, s, err, CONF_ERR_MAX);
}

/* Comments, blanks, trimming, CRLF and a last line without LF. */
static void test_grammar(void **state)
{
	struct seen s = { 0 };
	char err[CONF_ERR_MAX];

	assert_int_equal(parse("# comment\n\n   \t\n  # indented\n"
	                       "a = 1\n"
	                       "\tkey_2=\tvalue with  spaces  \r\n"
	                       "x = y = z # not a comment\n"
	                       "last=1", &s, err), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.keys[0], "a");
	assert_string_equal(s.vals[0], "1");
	assert_string_equal(s.keys[1], "key_2");
	assert_string_equal(s.vals[1], "value with  spaces");
	assert_string_equal(s.keys[2], "x");
	assert_string_equal(s.vals[2], "y = z # not a comment");
	assert_string_equal(s.keys[3], "last");
	assert_string_equal(s.vals[3], "1");

	memset(&s, 0, sizeof(s));
	assert_int_equal(parse("", &s, err), 0);
	assert_int_equal(s.n, 0);
}

/* Each error names the file, the line and the reason. */
static void test_errors(void **state)
{
	struct seen s = { 0 };
	char err[CONF_ERR_MAX];

	assert_int_equal(parse("a = 1\nbogus\n", &s, err), -1);
	assert_string_equal(err, "t.conf:2: expected key = value");
	assert_int_equal(parse("a = \n", &s, err), -1);
	assert_string_equal(err, "t.conf:1: empty value");
	assert_int_equal(parse("\n\nA = 1\n", &s, err), -1);
	assert_string_equal(err, "t.conf:3: invalid key (allowed: a-z 0-9 _)");
	assert_int_equal(parse("my-key = 1\n", &s, err), -1);
	assert_string_equal(err, "t.conf:1: invalid key (allowed: a-z 0-9 _)");
	assert_int_equal(parse("my key = 1\n", &s, err), -1);
	assert_string_equal(err, "t.conf:1: invalid key (allowed: a-z 0-9 _)");
	assert_int_equal(parse(" = 1\n", &s, err), -1);
	assert_string_equal(err, "t.conf:1: empty key");
	assert_int_equal(parse("a = b\x01\n", &s, err), -1);
	assert_string_equal(err, "t.conf:1: control character");
	assert_int_equal(parse("a = b\rc\n", &s, err), -1);
	assert_string_equal(err, "t.conf:1: control character");

	s.reject = "bad";
	s.n = 0;
	assert_int_equal(parse("good = 1\nbad = 2\ngood = 3\n", &s, err), -1);
	assert_string_equal(err, "t.conf:2: unknown key bad");
	assert_int_equal(s.n, 1);	/* parsing stopped at the error */
}

/* A NUL byte anywhere in a line is an error. */
static void test_nul(void **state)
{
	struct seen s = { 0 };
	char err[CONF_ERR_MAX];
	static const char text[] = "a = 1\nb = x\0y\n";

	assert_int_equal(conf_parse_buf("n.conf", text, sizeof(text) - 1, record, &s,
	                                err, sizeof(err)), -1);
	assert_string_equal(err, "n.conf:2: NUL byte");
	assert_int_equal(conf_parse_buf("n.conf", "# \0\n", 4, record, &s,
	                                err, sizeof(err)), -1);
	assert_string_equal(err, "n.conf:1: NUL byte");
}

/* Lines of CONF_LINE_MAX - 1 bytes pass; one more is "line too long". */
static void test_line_length(void **state)
{
	static char text[CONF_LINE_MAX * 2];
	struct seen s = { 0 };
	char err[CONF_ERR_MAX];
	size_t n;

	memcpy(text, "k = ", 4);
	memset(text + 4, 'v', CONF_LINE_MAX - 1 - 4);
	n = CONF_LINE_MAX - 1;
	text[n] = '\n';
	assert_int_equal(conf_parse_buf("l", text, n + 1, record, &s, err,
	                                sizeof(err)), 0);
	assert_int_equal(strlen(s.vals[0]), CONF_LINE_MAX - 1 - 4);

	memset(text + 4, 'v', CONF_LINE_MAX - 4);
	text[CONF_LINE_MAX] = '\n';
	assert_int_equal(conf_parse_buf("l", text, CONF_LINE_MAX + 1, record, &s,
	                                err, sizeof(err)), -1);
	assert_string_equal(err, "l:1: line too long");
	/* Also without the final LF. */
	assert_int_equal(conf_parse_buf("l", text, CONF_LINE_MAX, record, &s,
	                                err, sizeof(err)), -1);
	assert_string_equal(err, "l:1: line too long");
}

/* A small error buffer truncates but stays terminated. */
static void test_small_err(void **state)
{
	struct seen s = { 0 };
	char err[8];

	assert_int_equal(conf_parse_buf("t.conf", "x\n", 2, record, &s, err,
	                                sizeof(err)), -1);
	assert_string_equal(err, "t.conf:");
	assert_int_equal(conf_parse_buf("t.conf", "x\n", 2, record, &s, NULL, 0), -1);
}

/* Files: read, missing, not regular. */
static void test_file(void **state)
{
	char path[] = "/tmp/postern-conf-XXXXXX";
	char err[CONF_ERR_MAX];
	struct seen s = { 0 };
	int fd = mkstemp(path);
	static const char text[] = "a = 1\nb c\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	assert_int_equal(conf_parse_file(path, record, &s, err, sizeof(err)), -1);
	{
		char want[CONF_ERR_MAX];

		snprintf(want, sizeof(want), "%s:2: expected key = value", path);
		assert_string_equal(err, want);
	}
	assert_int_equal(s.n, 1);
	unlink(path);
	assert_int_equal(conf_parse_file(path, record, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": cannot open: "));
	assert_int_equal(conf_parse_file("/tmp", record, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: cannot read: not a regular file");
}

/* conf_u64: digits only, in range, no overflow. */
static void test_u64(void **state)
{
	char err[CONF_ERR_MAX];
	uint64_t v = 7;

	assert_int_equal(conf_u64("42", 0, 100, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 42);
	assert_int_equal(conf_u64("18446744073709551615", 0, UINT64_MAX, &v, err,
	                          sizeof(err)), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(conf_u64("18446744073709551616", 0, UINT64_MAX, &v, err,
	                          sizeof(err)), -1);
	assert_string_equal(err, "number too large");
	assert_int_equal(conf_u64("101", 1, 100, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "out of range (1..100)");
	assert_int_equal(conf_u64("0", 1, 100, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_u64("", 0, 100, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "expected a decimal number");
	assert_int_equal(conf_u64("-1", 0, 100, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_u64("1x", 0, 100, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_u64("1 ", 0, 100, &v, err, sizeof(err)), -1);
	assert_int_equal(v, UINT64_MAX);	/* untouched on failure */
}

/* conf_size: K, M, G suffixes as powers of 1024, overflow checked. */
static void test_size(void **state)
{
	char err[CONF_ERR_MAX];
	uint64_t v;

	assert_int_equal(conf_size("25M", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 25u * 1024 * 1024);
	assert_int_equal(conf_size("1024", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(conf_size("10K", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 10240);
	assert_int_equal(conf_size("10k", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 10240);
	assert_int_equal(conf_size("2G", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_true(v == 2ull * 1024 * 1024 * 1024);
	assert_int_equal(conf_size("17179869184G", 0, UINT64_MAX, &v, err,
	                           sizeof(err)), -1);
	assert_string_equal(err, "number too large");
	assert_int_equal(conf_size("17179869183G", 0, UINT64_MAX, &v, err,
	                           sizeof(err)), 0);
	assert_int_equal(conf_size("1T", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_size("1MB", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_size("M", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_size("1.5M", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_size("2M", 0, 1024 * 1024, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "out of range (0..1048576 bytes)");
}

/* conf_duration: s, m, h, d; plain numbers are seconds. */
static void test_duration(void **state)
{
	char err[CONF_ERR_MAX];
	uint64_t v;

	assert_int_equal(conf_duration("300", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 300);
	assert_int_equal(conf_duration("30s", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 30);
	assert_int_equal(conf_duration("5m", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 300);
	assert_int_equal(conf_duration("1h", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(conf_duration("2d", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 172800);
	assert_int_equal(conf_duration("5M", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_duration("5ms", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_duration("h", 0, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(conf_duration("999999999999999999d", 0, UINT64_MAX, &v,
	                               err, sizeof(err)), -1);
	assert_string_equal(err, "number too large");
	assert_int_equal(conf_duration("0", 1, 60, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "out of range (1..60 seconds)");
}

/* conf_bool: the six words and 1/0. */
static void test_bool(void **state)
{
	char err[CONF_ERR_MAX];
	int b = -1;

	assert_int_equal(conf_bool("yes", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1);
	assert_int_equal(conf_bool("off", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 0);
	assert_int_equal(conf_bool("TRUE", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1);
	assert_int_equal(conf_bool("0", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 0);
	assert_int_equal(conf_bool("on", &b, err, sizeof(err)), 0);
	assert_int_equal(conf_bool("false", &b, err, sizeof(err)), 0);
	assert_int_equal(conf_bool("1", &b, err, sizeof(err)), 0);
	assert_int_equal(conf_bool("no", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 0);
	assert_int_equal(conf_bool("y", &b, err, sizeof(err)), -1);
	assert_string_equal(err, "expected yes or no");
	assert_int_equal(conf_bool("", &b, err, sizeof(err)), -1);
	assert_int_equal(conf_bool("yess", &b, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_small_err),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
