/*
 * test_queue_commit.c — the grouped commit of queue/commit.c on a real
 * queue directory under /tmp: every message of a group ends in new/ with
 * its envelope in env/ and nothing left in tmp/; a message that fails its
 * fdatasync fails alone (the others of the group are still committed) and
 * commit_undo leaves nothing of it; an undone placed message leaves
 * neither file; the failure replies are 452 for a full disk, else 451.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../queue/commit.h"

static const char *const subs[] = { "tmp", "new", "cur", "env", "state", "hold" };
static char top[64];
static struct qdir q;

/* Entries of sub (not . and ..), removing them when clean is set. */
static size_t entries(const char *sub, int clean)
{
	char p[128];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(p, sizeof p, "%s/%s", top, sub);
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (clean)
			assert_int_equal(unlinkat(dirfd(d), e->d_name, 0), 0);
	}
	closedir(d);
	return n;
}

static int setup(void **state)
{
	char p[128], err[256];

	(void)state;
	assert_true(sodium_init() >= 0);
	snprintf(top, sizeof top, "/tmp/test-queue-commit.XXXXXX");
	assert_non_null(mkdtemp(top));
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", top, subs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(qdir_open(&q, top, 0, 0, 0, err, sizeof err), 0);
	return 0;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	qdir_close(&q);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		(void)entries(subs[i], 1);
		snprintf(p, sizeof p, "%s/%s", top, subs[i]);
		rmdir(p);
	}
	rmdir(top);
	return 0;
}

/* Begin, write body, prepare one message. */
static void start(struct commit *c, const char *body)
{
	static unsigned char rcpts[256];
	struct envelope_in e;
	size_t rl = 0;

	assert_int_equal(commit_begin(c, &q), 0);
	assert_int_equal(commit_write(c, &q, body, strlen(body)), 0);
	memset(&e, 0, sizeof e);
	assert_int_equal(envelope_rcpt_encode(rcpts, sizeof rcpts, &rl, "bob@example.net", "", ""),
	                 0);
	e.id = c->id;
	e.sender = e.user = "alice@example.org";
	e.session = "zzzzzzzzzzzzzzzzzzzz";
	e.ip = "192.0.2.1";
	e.mode = "plain";
	e.port = 1;
	e.time = 1700000000;
	e.size = c->size;
	e.body = "7bit";
	e.ret = e.envid = "";
	e.rcpts = rcpts;
	e.rcpt_len = rl;
	e.header = "Received: by x (postern) with ESMTPA;\r\n";
	e.header_len = strlen(e.header);
	assert_int_equal(commit_prepare(c, &q, &e), 0);
	assert_int_equal(c->stage, CS_WRITTEN);
}

/* new/<id> holds exactly body and env/<id> is a valid envelope. */
static void assert_committed(const struct commit *c, const char *body)
{
	char buf[256];
	struct envelope e;
	int fd = openat(q.d[QD_NEW], c->id, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf);
	close(fd);
	assert_int_equal(n, (ssize_t)strlen(body));
	assert_memory_equal(buf, body, strlen(body));
	fd = openat(q.d[QD_ENV], c->id, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(envelope_load(&e, fd), 0);
	assert_int_equal(e.size_v, strlen(body));
	envelope_free(&e);
	close(fd);
}

static void test_group_commits_every_message(void **state)
{
	static const char *bodies[] = { "From: a\r\n\r\none\r\n", "From: a\r\n\r\ntwo\r\n",
		                        "From: a\r\n\r\nthree\r\n" };
	struct commit c[3], *cs[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		start(&c[i], bodies[i]);
		cs[i] = &c[i];
	}
	assert_int_equal(entries("new", 0), 0);		/* nothing visible before */
	commit_group(cs, 3, &q);
	for (int i = 0; i < 3; i++) {
		assert_true(commit_ok(&c[i]));
		assert_committed(&c[i], bodies[i]);
		commit_done(&c[i]);
	}
	assert_int_equal(entries("tmp", 0), 0);
	assert_int_equal(entries("new", 0), 3);
	assert_int_equal(entries("env", 0), 3);
}

static void test_one_failure_fails_alone(void **state)
{
	struct commit c[3], *cs[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		start(&c[i], "From: a\r\n\r\nx\r\n");
		cs[i] = &c[i];
	}
	/* The middle message's descriptor goes bad: its fdatasync fails. */
	close(c[1].msgfd);
	c[1].msgfd = -1;
	commit_group(cs, 3, &q);
	assert_true(commit_ok(&c[0]));
	assert_false(commit_ok(&c[1]));
	assert_int_equal(c[1].err, EBADF);
	assert_true(commit_ok(&c[2]));
	commit_undo(&c[1], &q);
	commit_done(&c[0]);
	commit_done(&c[2]);
	assert_int_equal(entries("tmp", 0), 0);
	assert_int_equal(entries("new", 0), 2);
	assert_int_equal(entries("env", 0), 2);
	assert_int_not_equal(faccessat(q.d[QD_NEW], c[1].id, F_OK, 0), 0);
}

static void test_undo_of_a_placed_message(void **state)
{
	struct commit c, *cs = &c;

	(void)state;
	start(&c, "From: a\r\n\r\nx\r\n");
	commit_group(&cs, 1, &q);
	assert_true(commit_ok(&c));
	commit_undo(&c, &q);
	assert_int_equal(entries("new", 0), 0);
	assert_int_equal(entries("env", 0), 0);
	assert_int_equal(entries("tmp", 0), 0);
}

static void test_undo_before_the_group(void **state)
{
	struct commit c;

	(void)state;
	start(&c, "From: a\r\n\r\nx\r\n");
	assert_int_equal(entries("tmp", 0), 2);		/* message and envelope */
	commit_undo(&c, &q);
	assert_int_equal(entries("tmp", 0), 0);
	assert_int_equal(c.msgfd, -1);
	assert_int_equal(c.envfd, -1);
}

static void test_reply_codes(void **state)
{
	const char *t;

	(void)state;
	assert_int_equal(commit_reply_code(ENOSPC, &t), 452);
	assert_string_equal(t, "4.3.1 Insufficient system storage");
	assert_int_equal(commit_reply_code(EDQUOT, &t), 452);
	assert_int_equal(commit_reply_code(EIO, &t), 451);
	assert_int_equal(commit_reply_code(EBADF, &t), 451);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commits_every_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_failure_fails_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo_of_a_placed_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo_before_the_group, setup, teardown),
		cmocka_unit_test(test_reply_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
