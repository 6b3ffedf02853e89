/*
 * test_readfull.c — read_full and pread_full (lib/readfull.c): fill the
 * buffer across several short reads, stop short only at end of file,
 * report a failed read as -1 with its errno; pread_full leaves the file
 * offset alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readfull.h"

/* A pipe delivers what was written in pieces; read_full gathers it. */
static void test_fills_across_short_reads(void **state)
{
	int p[2];
	char buf[16];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(write(p[1], "defgh", 5), 5);
	close(p[1]);
	memset(buf, 0, sizeof buf);
	assert_int_equal(read_full(p[0], buf, 6), 6);
	assert_memory_equal(buf, "abcdef", 6);
	/* the rest is shorter than asked: short only because the file ended */
	assert_int_equal(read_full(p[0], buf, sizeof buf), 2);
	assert_memory_equal(buf, "gh", 2);
	assert_int_equal(read_full(p[0], buf, sizeof buf), 0);
	close(p[0]);
}

/* A read that fails is -1 with its errno, not a short count. */
static void test_error(void **state)
{
	char buf[4];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	errno = 0;
	assert_int_equal(read_full(p[0], buf, sizeof buf), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(read_full(p[1], buf, sizeof buf), -1);	/* write end */
	assert_int_equal(errno, EBADF);
	close(p[1]);
}

/* pread_full reads at an offset and leaves the file offset alone. */
static void test_pread(void **state)
{
	char path[] = "/tmp/test_readfull.XXXXXX", buf[8];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	assert_int_equal(lseek(fd, 2, SEEK_SET), 2);
	assert_int_equal(pread_full(fd, buf, 4, 5), 4);
	assert_memory_equal(buf, "5678", 4);
	assert_int_equal(pread_full(fd, buf, sizeof buf, 7), 3);	/* end of file */
	assert_memory_equal(buf, "789", 3);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 2);
	close(fd);
	assert_int_equal(pread_full(fd, buf, 1, 0), -1);
	assert_int_equal(errno, EBADF);
}

/* Nothing asked, nothing read. */
static void test_zero(void **state)
{
	char buf[1];

	(void)state;
	assert_int_equal(read_full(0, buf, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fills_across_short_reads),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_pread),
		cmocka_unit_test(test_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
