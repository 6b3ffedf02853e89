/*
 * test_table_src.c — the text table grammar and its atomic compilation to
 * CDB (lib/tablesrc.h): comments, blanks, values with spaces, and the
 * errors with FILE:LINE (no value, duplicate key, CR, control bytes,
 * over-long key); a failed build leaves the previous FILE.cdb intact and
 * no temporary file behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cdb.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tablesrc.h"

static char dir[] = "/tmp/postern-test-table.XXXXXX";
static char src[PATH_MAX], out[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/routes", dir);
	snprintf(out, sizeof(out), "%s/routes.cdb", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(src);
	unlink(out);
	rmdir(dir);
	return 0;
}

/* Write text to src. */
static void put(const char *text)
{
	FILE *f = fopen(src, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The value of key in out, or NULL; into buf. */
static const char *lookup(const char *key, char *buf, size_t cap)
{
	struct cdb c;
	int fd = open(out, O_RDONLY);
	const char *r = NULL;

	assert_true(fd >= 0);
	assert_int_equal(cdb_init(&c, fd), 0);
	if (cdb_find(&c, key, (unsigned)strlen(key)) > 0 && cdb_datalen(&c) < cap) {
		cdb_read(&c, buf, cdb_datalen(&c), cdb_datapos(&c));
		buf[cdb_datalen(&c)] = 0;
		r = buf;
	}
	cdb_free(&c);
	close(fd);
	return r;
}

/* Build and expect the error to contain want. */
static void build_fails(const char *text, const char *want)
{
	char err[TABLESRC_ERR_MAX];

	put(text);
	err[0] = 0;
	assert_int_equal(tablesrc_build(src, 0644, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

/* No temporary files left in dir. */
static void no_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		assert_null(strstr(e->d_name, ".tmp."));
	closedir(d);
}

static void test_build_and_lookup(void **state)
{
	char err[TABLESRC_ERR_MAX], buf[256];

	(void)state;
	put("# routes\n\n   example.org\tmx  \n* relay:smarthost.example:587 tls=required\n"
	    "  # indented comment\nlast.example maildir:/var/mail/x");
	assert_int_equal(tablesrc_build(src, 0644, err, sizeof(err)), 0);
	assert_string_equal(lookup("example.org", buf, sizeof(buf)), "mx");
	assert_string_equal(lookup("*", buf, sizeof(buf)),
	                    "relay:smarthost.example:587 tls=required");
	assert_string_equal(lookup("last.example", buf, sizeof(buf)), "maildir:/var/mail/x");
	assert_null(lookup("#", buf, sizeof(buf)));
	no_tmp();
}

static void test_errors_keep_old_table(void **state)
{
	char err[TABLESRC_ERR_MAX], buf[256], key[300];

	(void)state;
	put("a 1\n");
	assert_int_equal(tablesrc_build(src, 0644, err, sizeof(err)), 0);
	build_fails("a 1\nb\n", ":2: key \"b\" has no value");
	build_fails("a 1\n\n# c\na 2\n", ":4: duplicate key \"a\"");
	build_fails("a 1\r\n", ":1: byte 0x0d");
	build_fails("ok v\nx \x01y\n", ":2: byte 0x01");
	memset(key, 'k', 299);
	key[299] = 0;
	put(key);
	assert_int_equal(tablesrc_build(src, 0644, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: key longer"));
	assert_non_null(strstr(err, src));
	/* The table built first is still there, and nothing else. */
	assert_string_equal(lookup("a", buf, sizeof(buf)), "1");
	no_tmp();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_lookup),
		cmocka_unit_test(test_errors_keep_old_table),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
