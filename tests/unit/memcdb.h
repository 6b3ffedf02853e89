/*
 * memcdb.h — for unit tests: a CDB table made with cdb_make in a memfd
 * from key/value pairs (kv[0] kv[1] is the first record), as the master
 * would hand a daemon its table descriptor.
 */
#ifndef POSTERN_TESTS_MEMCDB_H
#define POSTERN_TESTS_MEMCDB_H

#include <cdb.h>
#include <string.h>
#include <sys/mman.h>

/* A memfd holding the table of the n/2 records in kv (asserts on
 * failure). */
static inline int memcdb(const char *name, const char *const *kv, size_t n)
{
	struct cdb_make m;
	int fd = memfd_create(name, 0);

	assert_true(fd >= 0);
	assert_int_equal(cdb_make_start(&m, fd), 0);
	for (size_t i = 0; i + 1 < n; i += 2)
		assert_int_equal(cdb_make_add(&m, kv[i], (unsigned)strlen(kv[i]), kv[i + 1],
		                              (unsigned)strlen(kv[i + 1])), 0);
	assert_int_equal(cdb_make_finish(&m), 0);
	return fd;
}

#endif
