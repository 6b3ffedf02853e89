/*
 * test_cdbfd.c — unit tests of lib/cdbfd.c: tables built with cdb_make in
 * temporary files, looked up through a descriptor, switched to a second
 * table (the old descriptor closed), and a bad file refused while the old
 * table stays in service.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdbfd.h"

/* A read-only descriptor of a fresh CDB holding the pairs kv[0..2n). */
static int make_table(const char *const *kv, size_t n)
{
	char path[] = "/tmp/postern-cdb-XXXXXX";
	struct cdb_make m;
	int fd = mkstemp(path), ro;

	assert_true(fd >= 0);
	assert_int_equal(cdb_make_start(&m, fd), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cdb_make_add(&m, kv[2 * i], (unsigned)strlen(kv[2 * i]),
		                              kv[2 * i + 1],
		                              (unsigned)strlen(kv[2 * i + 1])), 0);
	assert_int_equal(cdb_make_finish(&m), 0);
	close(fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	unlink(path);
	return ro;
}

/* Look key up and compare the value (NULL: expect not found). */
static void expect(struct cdbfd *t, const char *key, const char *want)
{
	const unsigned char *v;
	size_t n;
	int r = cdbfd_find(t, key, strlen(key), &v, &n);

	if (want == NULL) {
		assert_int_equal(r, 0);
		assert_null(v);
		return;
	}
	assert_int_equal(r, 1);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

/* Attach, look up, switch, and close. */
static void test_switch(void **state)
{
	static const char *const one[] = { "alice", "hash-a1", "bob", "hash-b1",
	                                   "empty", "" };
	static const char *const two[] = { "alice", "hash-a2", "carol", "hash-c2" };
	struct cdbfd t;
	int fd1 = make_table(one, 3), fd2 = make_table(two, 2);

	cdbfd_init(&t);
	assert_int_equal(t.fd, -1);
	assert_int_equal(cdbfd_attach(&t, fd1), 0);
	assert_int_equal(t.fd, fd1);
	expect(&t, "alice", "hash-a1");
	expect(&t, "bob", "hash-b1");
	expect(&t, "empty", "");
	expect(&t, "carol", NULL);
	expect(&t, "", NULL);

	assert_int_equal(cdbfd_attach(&t, fd2), 0);
	assert_int_equal(t.fd, fd2);
	assert_int_equal(fcntl(fd1, F_GETFD), -1);	/* old one closed */
	assert_int_equal(errno, EBADF);
	expect(&t, "alice", "hash-a2");
	expect(&t, "bob", NULL);
	expect(&t, "carol", "hash-c2");

	cdbfd_close(&t);
	assert_int_equal(fcntl(fd2, F_GETFD), -1);
	assert_int_equal(t.ready, 0);
	cdbfd_close(&t);	/* twice is harmless */
}

/* A file that is not a CDB is refused; the old table stays. */
static void test_bad_file(void **state)
{
	static const char *const one[] = { "k", "v" };
	char path[] = "/tmp/postern-cdb-XXXXXX";
	struct cdbfd t;
	int fd1 = make_table(one, 1), bad, bad2;
	const unsigned char *v;
	size_t n;

	cdbfd_init(&t);
	/* No table yet: an error, not "not found". */
	assert_int_equal(cdbfd_find(&t, "k", 1, &v, &n), -1);

	assert_int_equal(cdbfd_attach(&t, fd1), 0);
	bad = mkstemp(path);
	assert_true(bad >= 0);
	unlink(path);
	assert_int_equal(write(bad, "short", 5), 5);	/* < 2048-byte header */
	assert_int_equal(cdbfd_attach(&t, bad), -1);
	assert_int_equal(fcntl(bad, F_GETFD), -1);	/* taken and closed */
	assert_int_equal(t.fd, fd1);
	assert_true(fcntl(fd1, F_GETFD) >= 0);
	expect(&t, "k", "v");

	assert_int_equal(cdbfd_attach(&t, -1), -1);
	bad2 = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);	/* a directory */
	assert_true(bad2 >= 0);
	assert_int_equal(cdbfd_attach(&t, bad2), -1);
	expect(&t, "k", "v");
	cdbfd_close(&t);
}

/* An empty table: everything is not found. */
static void test_empty(void **state)
{
	struct cdbfd t;

	cdbfd_init(&t);
	assert_int_equal(cdbfd_attach(&t, make_table(NULL, 0)), 0);
	expect(&t, "anything", NULL);
	cdbfd_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_bad_file),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
