/*
 * test_argpairs.c — unit tests of lib/argpairs.c: every option required,
 * repeats only for the "multi" letters, values handed over in order, and
 * each constant reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "argpairs.h"

/* What apply saw: "a=1;b=x;..." */
struct seen {
	char log[128];
	size_t len;
};

/* Record the pair; the value "bad" is invalid. */
static int record(void *ctx, char opt, const char *v)
{
	struct seen *s = ctx;
	size_t n = strlen(v);

	if (strcmp(v, "bad") == 0)
		return -1;
	assert_true(s->len + n + 3 < sizeof s->log);
	s->log[s->len++] = opt;
	s->log[s->len++] = '=';
	memcpy(s->log + s->len, v, n);
	s->len += n;
	s->log[s->len++] = ';';
	s->log[s->len] = '\0';
	return 0;
}

/* Parse argv (NULL-terminated) with options "ab", "b" repeatable. */
static int parse(char *const *argv, struct seen *s, const char **why)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	memset(s, 0, sizeof *s);
	*why = NULL;
	return argpairs_parse(argc, argv, "ab", "b", record, s, why);
}

static void test_good(void **state)
{
	char *ok[] = { "p", "-b", "1", "-a", "x", "-b", "2", NULL };
	struct seen s;
	const char *why;

	assert_int_equal(parse(ok, &s, &why), 0);
	assert_string_equal(s.log, "b=1;a=x;b=2;");
	assert_null(why);
}

static void test_reasons(void **state)
{
	char *missing[] = { "p", "-a", "x", NULL };
	char *twice[] = { "p", "-a", "x", "-a", "y", "-b", "1", NULL };
	char *unknown[] = { "p", "-c", "x", NULL };
	char *long_opt[] = { "p", "-ab", "x", NULL };
	char *no_dash[] = { "p", "a", "x", NULL };
	char *novalue[] = { "p", "-b", "1", "-a", NULL };
	char *bad[] = { "p", "-b", "1", "-a", "bad", NULL };
	struct seen s;
	const char *why;

	assert_int_equal(parse(missing, &s, &why), -1);
	assert_string_equal(why, "missing option");
	assert_int_equal(parse(twice, &s, &why), -1);
	assert_string_equal(why, "option given twice");
	assert_int_equal(parse(unknown, &s, &why), -1);
	assert_string_equal(why, "unknown argument");
	assert_int_equal(parse(long_opt, &s, &why), -1);
	assert_string_equal(why, "unknown argument");
	assert_int_equal(parse(no_dash, &s, &why), -1);
	assert_string_equal(why, "unknown argument");
	assert_int_equal(parse(novalue, &s, &why), -1);
	assert_string_equal(why, "option without a value");
	assert_int_equal(parse(bad, &s, &why), -1);
	assert_string_equal(why, "invalid value for -a");
}

/* argpairs_token: printable non-blank ASCII that fits with its NUL. */
static void test_token(void **state)
{
	char out[8];

	(void)state;
	memcpy(out, "keep", 5);
	assert_int_equal(argpairs_token("abc-1.2", out, sizeof out), 0);
	assert_string_equal(out, "abc-1.2");
	assert_int_equal(argpairs_token("1234567", out, sizeof out), 0);
	memcpy(out, "keep", 5);
	assert_int_equal(argpairs_token("12345678", out, sizeof out), -1);	/* no room for NUL */
	assert_int_equal(argpairs_token("", out, sizeof out), -1);
	assert_int_equal(argpairs_token("a b", out, sizeof out), -1);
	assert_int_equal(argpairs_token("a\tb", out, sizeof out), -1);
	assert_int_equal(argpairs_token("a\x7f", out, sizeof out), -1);
	assert_int_equal(argpairs_token("\xc3\xa9", out, sizeof out), -1);
	assert_string_equal(out, "keep");	/* untouched on refusal */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
