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

/* One test's queue: the descriptors and the temporary directory. */
struct fixture {
	struct qdir q;
	char dir[64];
};

/* setup: a queue in a fresh temporary directory with two ids and "junk"
 * in new/, opened. */
static int make_queue(void **state)
{
	static struct fixture f;
	char err[256], p[512], newdir[512];

	snprintf(f.dir, sizeof f.dir, "/tmp/test_qdir.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", f.dir, subdirs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	snprintf(newdir, sizeof newdir, "%s/new", f.dir);
	touch(newdir, "aaaaaaaaaaaaaaaaaaaa");
	touch(newdir, "bbbbbbbbbbbbbbbbbbbb");
	touch(newdir, "junk");
	assert_int_equal(qdir_open(&f.q, f.dir, 0, 0, 0, err, sizeof err), 0);
	*state = &f;
	return 0;
}

/* teardown: close and remove what make_queue made. */
static int remove_queue(void **state)
{
	static const char *const files[] = { "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb", "junk" };
	struct fixture *f = *state;
	char p[512];

	qdir_close(&f->q);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/new/%s", f->dir, files[i]);
		unlink(p);
	}
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", f->dir, subdirs[i]);
		rmdir(p);
	}
	snprintf(p, sizeof p, "%s/hold", f->dir);
	rmdir(p);
	return rmdir(f->dir);
}

/* QDIR_IDS: the two ids, counted; the junk name and . / .. never seen;
 * the walked descriptor stays open and usable (a second walk). */
static void test_ids_only(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0, 0, 0 };

	assert_int_equal(qdir_each_id(&f->q, QD_NEW, QDIR_IDS, see, &s), 2);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.names, 1);
	assert_int_equal(qdir_each_id(&f->q, QD_NEW, QDIR_IDS, see, &s), 2);
	assert_int_equal(s.calls, 4);
}

/* QDIR_ALL: every name but . and .. */
static void test_all_names(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0, 0, 0 };

	assert_int_equal(qdir_each_id(&f->q, QD_NEW, QDIR_ALL, see, &s), 3);
	assert_int_equal(s.names, 3);
}

/* A callback's -1 stops the walk; that name is not counted. */
static void test_stop(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0, 1, 0 };

	assert_int_equal(qdir_each_id(&f->q, QD_NEW, QDIR_ALL, see, &s), 1);
	assert_int_equal(s.calls, 1);
}

/* A directory that cannot be read: -1, no call. */
static void test_unreadable(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0, 0, 0 };
	int saved = f->q.d[QD_NEW];

	f->q.d[QD_NEW] = -1;
	assert_int_equal(qdir_each_id(&f->q, QD_NEW, QDIR_IDS, see, &s), -1);
	assert_int_equal(s.calls, 0);
	f->q.d[QD_NEW] = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids_only, make_queue, remove_queue),
		cmocka_unit_test_setup_teardown(test_all_names, make_queue, remove_queue),
		cmocka_unit_test_setup_teardown(test_stop, make_queue, remove_queue),
		cmocka_unit_test_setup_teardown(test_unreadable, make_queue, remove_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
