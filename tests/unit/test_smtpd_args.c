/*
 * test_smtpd_args.c — unit tests of smtpd/args.c: postern-smtpd's command
 * line (all options required, once, in range).  The host name syntax
 * itself is tested in test_hostname.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../smtpd/args.h"

#define NARGS 29

/* A full, valid argv; slot i+1 holds the value of the option in slot i. */
static void good_argv(char *argv[NARGS])
{
	static char *const good[NARGS] = {
		"postern-smtpd", "-s", "abc123", "-m", "plain", "-h", "mx.example.org",
		"-a", "2001:db8::1", "-p", "40000", "-z", "26214400", "-n", "100",
		"-t", "300", "-T", "3600", "-c", "120", "-P", "60", "-u", "65534",
		"-g", "65534", "-r", "/var/empty",
	};
	memcpy(argv, good, sizeof good);
}

/* Parse argv with option opt's value replaced by value (NULL: as is). */
static int parse_with(const char *opt, char *value, struct smtpd_args *a)
{
	char *argv[NARGS];
	const char *why = NULL;
	int rc;

	good_argv(argv);
	for (int i = 1; opt && i < NARGS - 1; i += 2)
		if (strcmp(argv[i], opt) == 0)
			argv[i + 1] = value;
	rc = args_parse(NARGS, argv, a, &why);
	if (rc < 0)
		assert_non_null(why);
	return rc;
}

/* Every field lands where it should. */
static void test_good(void **state)
{
	struct smtpd_args a;

	assert_int_equal(parse_with(NULL, NULL, &a), 0);
	assert_string_equal(a.session_id, "abc123");
	assert_int_equal(a.mode, MODE_PLAIN);
	assert_string_equal(a.hostname, "mx.example.org");
	assert_string_equal(a.client_ip, "2001:db8::1");
	assert_int_equal(a.client_port, 40000);
	assert_int_equal(a.size_max, 26214400);
	assert_int_equal(a.rcpt_max, 100);
	assert_int_equal(a.idle_s, 300);
	assert_int_equal(a.session_s, 3600);
	assert_int_equal(a.command_s, 120);
	assert_int_equal(a.preauth_s, 60);
	assert_int_equal(a.uid, 65534);
	assert_int_equal(a.gid, 65534);
	assert_string_equal(a.root, "/var/empty");
	assert_string_equal(args_mode_name(a.mode), "plain");
}

/* Each option missing in turn: refused. */
static void test_missing(void **state)
{
	char *argv[NARGS], *shorter[NARGS];
	struct smtpd_args a;
	const char *why;

	good_argv(argv);
	for (int skip = 1; skip < NARGS; skip += 2) {
		int n = 0;
		for (int i = 0; i < NARGS; i++)
			if (i != skip && i != skip + 1)
				shorter[n++] = argv[i];
		why = NULL;
		assert_int_equal(args_parse(n, shorter, &a, &why), -1);
		assert_string_equal(why, "missing option");
	}
}

/* Bad values, one option at a time. */
static void test_bad_values(void **state)
{
	static const struct { const char *opt; char *value; } bad[] = {
		{ "-m", "smtps" }, { "-m", "" }, { "-h", "a..b" }, { "-h", "-a.b" },
		{ "-h", "a b" }, { "-h", "x\r\n250" }, { "-a", "1.2.3" },
		{ "-a", "::g" }, { "-p", "65536" }, { "-p", "01" }, { "-z", "0" },
		{ "-z", "18446744073709551616" }, { "-n", "-1" }, { "-t", "0" },
		{ "-T", "1s" }, { "-u", "4294967295" }, { "-u", "0" }, { "-g", "0" },
		{ "-g", "" }, { "-c", "0" }, { "-c", "86401" }, { "-c", "5m" },
		{ "-P", "0" }, { "-P", "604801" }, { "-P", "" },
		{ "-r", "var/empty" }, { "-s", "" }, { "-s", "a\tb" },
	};
	struct smtpd_args a;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(parse_with(bad[i].opt, bad[i].value, &a), -1);
}

/* Unknown, repeated and dangling options. */
static void test_shape(void **state)
{
	char *argv[NARGS + 2];
	struct smtpd_args a;
	const char *why;

	good_argv(argv);
	argv[NARGS] = "-t";
	argv[NARGS + 1] = "5";
	assert_int_equal(args_parse(NARGS + 2, argv, &a, &why), -1);
	assert_string_equal(why, "option given twice");
	argv[NARGS] = "-x";
	assert_int_equal(args_parse(NARGS + 2, argv, &a, &why), -1);
	assert_int_equal(args_parse(NARGS + 1, argv, &a, &why), -1);
	argv[NARGS] = "-t";
	assert_int_equal(args_parse(NARGS + 1, argv, &a, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
