/*
 * test_bounce_orig.c — unit tests of the chunked reads of
 * queue/bounce_orig.c (orig_has, orig_copy) on a memfd larger than one
 * 64 KiB chunk: a needle across a chunk boundary is found, a copy as is
 * is byte-exact, and a file shorter than the length asked for fails with
 * EIO (the message shrank under the reader) in both.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../queue/bounce_orig.h"

#define SIZE (3 * 65536 + 123)

/* A sink that collects into a heap buffer of SIZE bytes. */
struct collect {
	unsigned char *p;
	size_t n;
};

/* bounce_sink write: append, refusing an overflow. */
static int collect_write(void *ctx, const void *p, size_t n)
{
	struct collect *c = ctx;

	if (n > SIZE - c->n)
		return -1;
	memcpy(c->p + c->n, p, n);
	c->n += n;
	return 0;
}

/* A memfd of SIZE bytes of 'a'..'z' lines with "NEEDLE" across the first
 * chunk boundary; the bytes are also left in *copy. */
static int make_file(unsigned char **copy)
{
	unsigned char *b = malloc(SIZE);
	int fd = memfd_create("orig", 0);

	assert_non_null(b);
	assert_true(fd >= 0);
	for (size_t i = 0; i < SIZE; i++)
		b[i] = i % 64 == 63 ? '\n' : (unsigned char)('a' + i % 26);
	memcpy(b + 65536 - 3, "NEEDLE", 6);
	assert_int_equal(write(fd, b, SIZE), SIZE);
	*copy = b;
	return fd;
}

/* orig_has: across a chunk boundary, absent, and a shrunk file. */
static void test_has(void **state)
{
	unsigned char *b;
	int fd = make_file(&b);

	assert_int_equal(orig_has(fd, SIZE, "NEEDLE"), 1);
	assert_int_equal(orig_has(fd, SIZE, "NOTTHERE"), 0);
	assert_int_equal(orig_has(fd, 65536 - 1, "NEEDLE"), 0);
	errno = 0;
	assert_int_equal(orig_has(fd, SIZE + 10, "NOTTHERE"), -1);
	assert_int_equal(errno, EIO);
	close(fd);
	free(b);
	(void)state;
}

/* orig_copy as is: byte-exact over several chunks; a shrunk file: EIO. */
static void test_copy(void **state)
{
	unsigned char *b;
	int fd = make_file(&b);
	struct collect c = { malloc(SIZE), 0 };
	struct bounce_sink s = { collect_write, &c };

	assert_non_null(c.p);
	assert_int_equal(orig_copy(fd, SIZE, 0, &s), 0);
	assert_int_equal(c.n, SIZE);
	assert_memory_equal(c.p, b, SIZE);
	c.n = 0;
	errno = 0;
	assert_int_equal(orig_copy(fd, SIZE + 1, 0, &s), -1);
	assert_int_equal(errno, EIO);
	close(fd);
	free(c.p);
	free(b);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
