/*
 * test_qdir.c — unit tests of qdir_each_id (queue/qdir.c), the one walker
 * of the scheduler's start scan, the control socket's list/stats and the
 * start-up recovery: which names it passes on (queue ids only, or every
 * name but . and ..), what it counts, that a callback can stop it, and
 * that the directory descriptor it walks stays usable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../queue/qdir.h"

static const char *const subdirs[] = { "tmp", "new", "cur", "env", "state" };

/* What the callback saw. */
struct seen {
	int calls, stop_after;
	int names;	/* bit 0: the id, bit 1: "junk", bit 2: "." or ".." */
};

/* qdir_each_id callback: record the name; -1 after stop_after calls. */
static int see(void *ctx, enum qd where, const char *name)
{
	struct seen *s = ctx;

	assert_int_equal(where, QD_NEW);
	if (s->stop_after > 0 && s->calls == s->stop_after)
		return -1;
	s->calls++;
	if (strcmp(name, "aaaaaaaaaaaaaaaaaaaa") == 0 || strcmp(name, "bbbbbbbbbbbbbbbbbbbb") == 0)
		s->names |= 1;
	else if (strcmp(name, "junk") == 0)
		s->names |= 2;
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		s->names |= 4;
	return 0;
}

/* Create path/name as an empty file. */
static void touch(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

/* A queue in a fresh temporary directory, opened into q; its path in dir. */
static void make_queue(struct qdir *q, char *dir, size_t cap)
{
	char err[256], p[512], newdir[512];

	snprintf(dir, cap, "/tmp/test_qdir.XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, subdirs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	snprintf(newdir, sizeof newdir, "%s/new", dir);
	touch(newdir, "aaaaaaaaaaaaaaaaaaaa");
	touch(newdir, "bbbbbbbbbbbbbbbbbbbb");
	touch(newdir, "junk");
	assert_int_equal(qdir_open(q, dir, 0, 0, 0, err, sizeof err), 0);
}

/* Remove what make_queue made. */
static void remove_queue(struct qdir *q, const char *dir)
{
	static const char *const files[] = { "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb", "junk" };
	char p[512];

	qdir_close(q);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/new/%s", dir, files[i]);
		unlink(p);
	}
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, subdirs[i]);
		rmdir(p);
	}
	snprintf(p, sizeof p, "%s/hold", dir);
	rmdir(p);
	rmdir(dir);
}

/* QDIR_IDS: the two ids, counted; the junk name and . / .. never seen. */
static void test_ids_only(void **state)
{
	struct qdir q;
	struct seen s = { 0, 0, 0 };
	char dir[64];

	make_queue(&q, dir, sizeof dir);
	assert_int_equal(qdir_each_id(&q, QD_NEW, QDIR_IDS, see, &s), 2);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.names, 1);
	/* the walked descriptor is still open and usable: walk again */
	s = (struct seen){ 0, 0, 0 };
	assert_int_equal(qdir_each_id(&q, QD_NEW, QDIR_IDS, see, &s), 2);
	remove_queue(&q, dir);
	(void)state;
}

/* QDIR_ALL: every name but . and .. */
static void test_all_names(void **state)
{
	struct qdir q;
	struct seen s = { 0, 0, 0 };
	char dir[64];

	make_queue(&q, dir, sizeof dir);
	assert_int_equal(qdir_each_id(&q, QD_NEW, QDIR_ALL, see, &s), 3);
	assert_int_equal(s.names, 3);
	remove_queue(&q, dir);
	(void)state;
}

/* A callback's -1 stops the walk; that name is not counted. */
static void test_stop(void **state)
{
	struct qdir q;
	struct seen s = { 0, 1, 0 };
	char dir[64];

	make_queue(&q, dir, sizeof dir);
	assert_int_equal(qdir_each_id(&q, QD_NEW, QDIR_ALL, see, &s), 1);
	assert_int_equal(s.calls, 1);
	remove_queue(&q, dir);
	(void)state;
}

/* A directory that cannot be read: -1. */
static void test_unreadable(void **state)
{
	struct qdir q;
	struct seen s = { 0, 0, 0 };
	char dir[64];
	int saved;

	make_queue(&q, dir, sizeof dir);
	saved = q.d[QD_NEW];
	q.d[QD_NEW] = -1;
	assert_int_equal(qdir_each_id(&q, QD_NEW, QDIR_IDS, see, &s), -1);
	assert_int_equal(s.calls, 0);
	q.d[QD_NEW] = saved;
	remove_queue(&q, dir);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_only),
		cmocka_unit_test(test_all_names),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
