/*
 * test_queue_quota.c — postern-queued's quotas (queue/quota.h): a
 * reservation is seen at once by another session of the login, is given
 * back by a release and kept by a settle; a release in a later window
 * touches neither the new window nor anything below zero; the state file
 * (queue/quota_state.c) round-trips, its parser refuses every truncated,
 * altered or forged image; a load after a simulated crash never lets the
 * login pass its limit; a corrupt file closes the limits for the day, and
 * that survives a restart; a state write that fails refuses the
 * reservation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "memcdb.h"
#include <cdb.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../queue/quota.h"

#define HOUR 3600
#define DAY 86400
#define T0 ((uint64_t)20000 * DAY + 10 * HOUR + 5)	/* 10:00:05 of some day */

/* A quotas table with the given login/value pairs. */
static void limits(struct cdbfd *t, const char *const *kv, size_t n)
{
	int fd = memcdb("quotas", kv, n);

	cdbfd_init(t);
	assert_int_equal(cdbfd_attach(t, fd), 0);
}

/* A table with no state file, and login limited by value. */
static void setup(struct quota_table *q, struct cdbfd *t, const char *login, const char *value)
{
	const char *kv[] = { login, value };

	assert_int_equal(quota_init(q), 0);
	limits(t, kv, 2);
}

static void done(struct quota_table *q, struct cdbfd *t)
{
	cdbfd_close(t);
	free(q->v);
}

static int msg(struct quota_table *q, struct cdbfd *t, struct quota_resv *r, uint64_t now)
{
	return quota_reserve_message(q, t, "a@x", r, now);
}

static int rcpt(struct quota_table *q, struct cdbfd *t, struct quota_resv *r, uint64_t now)
{
	return quota_reserve_rcpt(q, t, "a@x", r, now);
}

static void test_parallel_sessions_see_reservations(void **st)
{
	struct quota_table q;
	struct cdbfd t;
	struct quota_resv r[5] = { 0 };

	(void)st;
	setup(&q, &t, "a@x", "messages_per_hour=3 messages_per_day=0");
	/* five sessions at MAIL before any commits: only three pass */
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(&q, &t, &r[i], T0), 0);
	assert_int_equal(msg(&q, &t, &r[3], T0), 1);
	assert_int_equal(msg(&q, &t, &r[4], T0), 1);
	assert_int_equal(quota_reserve_message(&q, &t, "b@x", &r[4], T0), 0);	/* another login */
	quota_release(&q, "b@x", &r[4], T0);
	/* RSET of one frees its unit for another session */
	quota_release(&q, "a@x", &r[0], T0);
	assert_int_equal(msg(&q, &t, &r[3], T0), 0);
	/* a committed message stays counted; releasing after settle is a no-op */
	quota_settle(&r[1]);
	quota_release(&q, "a@x", &r[1], T0);
	assert_int_equal(msg(&q, &t, &r[0], T0), 1);
	/* releasing twice gives back once */
	quota_release(&q, "a@x", &r[2], T0);
	quota_release(&q, "a@x", &r[2], T0);
	assert_int_equal(msg(&q, &t, &r[2], T0), 0);
	assert_int_equal(msg(&q, &t, &r[0], T0), 1);
	done(&q, &t);
}

static void test_recipients_reserved(void **st)
{
	struct quota_table q;
	struct cdbfd t;
	struct quota_resv a = { 0 }, b = { 0 };

	(void)st;
	setup(&q, &t, "a@x", "recipients_per_hour=3");
	assert_int_equal(rcpt(&q, &t, &a, T0), 0);
	assert_int_equal(rcpt(&q, &t, &a, T0), 0);
	assert_int_equal(rcpt(&q, &t, &b, T0), 0);
	assert_int_equal(rcpt(&q, &t, &b, T0), 1);
	quota_release(&q, "a@x", &a, T0);
	assert_int_equal(rcpt(&q, &t, &b, T0), 0);
	assert_int_equal(rcpt(&q, &t, &b, T0), 0);
	assert_int_equal(rcpt(&q, &t, &b, T0), 1);
	done(&q, &t);
}

static void test_release_across_windows(void **st)
{
	struct quota_table q;
	struct cdbfd t;
	struct quota_resv old = { 0 }, r[4] = { 0 };

	(void)st;
	setup(&q, &t, "a@x", "messages_per_hour=3 messages_per_day=0");
	/* reserved at 10:59, released at 11:00 on an empty hour: no underflow */
	assert_int_equal(msg(&q, &t, &old, T0 + 3590), 0);
	quota_release(&q, "a@x", &old, T0 + HOUR);
	for (int i = 0; i < 3; i++)
		assert_int_equal(msg(&q, &t, &r[i], T0 + HOUR), 0);
	assert_int_equal(msg(&q, &t, &r[3], T0 + HOUR), 1);
	/* reserved in one hour, released in the next: the new hour keeps
	 * what it counted */
	assert_int_equal(msg(&q, &t, &old, T0 + 2 * HOUR + 3590), 0);
	assert_int_equal(msg(&q, &t, &r[0], T0 + 3 * HOUR), 0);
	assert_int_equal(msg(&q, &t, &r[1], T0 + 3 * HOUR), 0);
	quota_release(&q, "a@x", &old, T0 + 3 * HOUR);
	assert_int_equal(msg(&q, &t, &r[2], T0 + 3 * HOUR), 0);
	assert_int_equal(msg(&q, &t, &r[3], T0 + 3 * HOUR), 1);
	done(&q, &t);

	/* the day window still matches: its unit comes back */
	setup(&q, &t, "a@x", "messages_per_hour=0 messages_per_day=2");
	memset(&old, 0, sizeof old);
	memset(r, 0, sizeof r);
	assert_int_equal(msg(&q, &t, &old, T0), 0);
	assert_int_equal(msg(&q, &t, &r[0], T0 + HOUR), 0);
	assert_int_equal(msg(&q, &t, &r[1], T0 + HOUR), 1);
	quota_release(&q, "a@x", &old, T0 + HOUR);
	assert_int_equal(msg(&q, &t, &r[1], T0 + HOUR), 0);
	done(&q, &t);

	/* recipients of one transaction spread over two hours */
	setup(&q, &t, "a@x", "recipients_per_hour=2");
	memset(&old, 0, sizeof old);
	memset(r, 0, sizeof r);
	assert_int_equal(rcpt(&q, &t, &old, T0 + 3590), 0);
	assert_int_equal(rcpt(&q, &t, &old, T0 + HOUR), 0);
	assert_int_equal(rcpt(&q, &t, &r[0], T0 + HOUR), 0);
	assert_int_equal(rcpt(&q, &t, &r[0], T0 + HOUR), 1);
	quota_release(&q, "a@x", &old, T0 + HOUR);	/* gives back its 11:00 unit only */
	assert_int_equal(rcpt(&q, &t, &r[0], T0 + HOUR), 0);
	assert_int_equal(rcpt(&q, &t, &r[0], T0 + HOUR), 1);
	done(&q, &t);
}

/* A queue-like directory for the state file; its fd. */
static int state_dir(char *path, size_t cap)
{
	int fd;

	snprintf(path, cap, "/tmp/test-quota.XXXXXX");
	assert_non_null(mkdtemp(path));
	fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static void rm_dir(const char *path, int fd)
{
	(void)unlinkat(fd, "quota", 0);
	(void)unlinkat(fd, "quota.tmp", 0);
	close(fd);
	(void)rmdir(path);
}

/* A fresh table loaded from dirfd at now, as a restarted queued. */
static int restart(struct quota_table *q, int dirfd, uint64_t now)
{
	free(q->v);
	assert_int_equal(quota_init(q), 0);
	return quota_load(q, dirfd, now);
}

static void test_limit_holds_across_crashes(void **st)
{
	static const char *const values[] = {
		"messages_per_hour=3 messages_per_day=0", "messages_per_hour=7 messages_per_day=0",
		"messages_per_hour=40 messages_per_day=0", "messages_per_hour=200 messages_per_day=0",
	};
	char path[64];
	int dirfd = state_dir(path, sizeof path);

	(void)st;
	srand(7);
	for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
		struct quota_table q;
		struct cdbfd t;
		struct quota_resv r[5];
		int open[5] = { 0 };
		uint64_t committed = 0, limit = strtoull(values[v] + 18, NULL, 10);

		(void)unlinkat(dirfd, "quota", 0);
		setup(&q, &t, "a@x", values[v]);
		assert_int_equal(quota_load(&q, dirfd, T0), 0);
		memset(r, 0, sizeof r);
		for (int step = 0; step < 3000; step++) {
			int s = rand() % 5, op = rand() % 200;

			if (op == 0) {		/* kill -9: sessions gone, state from the file */
				assert_int_equal(restart(&q, dirfd, T0), 0);
				memset(r, 0, sizeof r);
				memset(open, 0, sizeof open);
			} else if (!open[s]) {
				open[s] = msg(&q, &t, &r[s], T0) == 0;
			} else if (op < 80) {
				quota_release(&q, "a@x", &r[s], T0);
				open[s] = 0;
			} else {
				quota_settle(&r[s]);
				open[s] = 0;
				committed++;
			}
			assert_true(committed <= limit);
		}
		assert_true(committed >= limit / 4);	/* not vacuous */
		/* a clean shutdown saves the exact count */
		assert_int_equal(quota_save(&q, 1), 0);
		free(q.v);
		cdbfd_close(&t);
	}
	rm_dir(path, dirfd);
}

static void test_state_file_charge_ahead(void **st)
{
	struct quota_table q, crash;
	struct cdbfd t;
	struct quota_resv r = { 0 };
	char path[64];
	int dirfd = state_dir(path, sizeof path);
	int n;

	(void)st;
	setup(&q, &t, "a@x", "messages_per_hour=3 messages_per_day=160");
	assert_int_equal(quota_load(&q, dirfd, T0), 0);	/* no file yet */
	assert_int_equal(msg(&q, &t, &r, T0), 0);	/* saved before returning */
	quota_release(&q, "a@x", &r, T0);
	/* crash: the released unit stays charged, never fewer */
	assert_int_equal(restart(&q, dirfd, T0), 0);
	for (n = 0; n < 10 && msg(&q, &t, &r, T0) == 0; n++)
		quota_settle(&r);
	assert_int_equal(n, 2);
	/* the day counter was charged a block ahead (160 / 16 = 10) */
	assert_int_equal(q.v[0].c[QC_MSG_D], 12);
	/* what a crash now would find */
	assert_int_equal(quota_init(&crash), 0);
	assert_int_equal(quota_load(&crash, dirfd, T0), 0);
	assert_int_equal(crash.v[0].c[QC_MSG_H], 3);
	assert_int_equal(crash.v[0].c[QC_MSG_D], 20);
	/* a clean shutdown drops the marks to the counts */
	assert_int_equal(quota_save(&q, 1), 0);
	assert_int_equal(restart(&crash, dirfd, T0), 0);
	assert_int_equal(crash.v[0].c[QC_MSG_D], 12);
	free(crash.v);
	assert_int_equal(restart(&q, dirfd, T0 + HOUR), 0);
	assert_int_equal(q.v[0].c[QC_MSG_H], 0);	/* a new hour */
	assert_int_equal(q.v[0].c[QC_MSG_D], 12);
	/* the next day starts at zero */
	assert_int_equal(restart(&q, dirfd, T0 + DAY), 0);
	assert_int_equal(q.n, 0);
	done(&q, &t);
	rm_dir(path, dirfd);
}

static void test_state_write_failure_refuses(void **st)
{
	struct quota_table q;
	struct cdbfd t;
	struct quota_resv r = { 0 };
	char path[64];
	int dirfd = state_dir(path, sizeof path);

	(void)st;
	setup(&q, &t, "a@x", "messages_per_hour=3");
	assert_int_equal(quota_load(&q, dirfd, T0), 0);
	assert_int_equal(rmdir(path), 0);	/* no file can be created there now */
	assert_int_equal(msg(&q, &t, &r, T0), -1);
	assert_int_equal(q.v[0].c[QC_MSG_H], 0);	/* nothing reserved */
	assert_int_equal(r.n[QC_MSG_H], 0);
	close(dirfd);
	done(&q, &t);
}

/* Re-sign a forged image so that only the forgery is wrong. */
static void resign(unsigned char *b, size_t n)
{
	crypto_generichash(b + 8, 16, b + 24, n - 24, NULL, 0);
}

/* A valid image of two logins; malloc'd. */
static unsigned char *image(size_t *n)
{
	struct quota_table q;
	struct cdbfd t;
	struct quota_resv r = { 0 };
	unsigned char *b;

	setup(&q, &t, "a@x", "messages_per_hour=9");
	assert_int_equal(msg(&q, &t, &r, T0), 0);
	assert_int_equal(quota_reserve_rcpt(&q, &t, "bob@example.org", &r, T0), 0);
	b = quota_state_encode(&q, n);
	assert_non_null(b);
	done(&q, &t);
	return b;
}

static int parse(unsigned char *b, size_t n)
{
	struct quota_table q;
	const char *why;
	int rc;

	assert_int_equal(quota_init(&q), 0);
	rc = quota_state_parse(&q, b, n, T0, &why);
	if (rc < 0) {
		assert_non_null(why);
		assert_int_equal(q.n, 0);
	}
	free(q.v);
	return rc;
}

static void test_state_parser(void **st)
{
	struct quota_table q;
	const char *why;
	size_t n;
	unsigned char *b = image(&n), *big;

	(void)st;
	assert_int_equal(quota_init(&q), 0);
	assert_int_equal(quota_state_parse(&q, b, n, T0, &why), 0);
	assert_int_equal(q.n, 2);
	assert_string_equal(q.v[1].login, "bob@example.org");
	assert_int_equal(q.v[0].c[QC_MSG_H], 1);
	assert_int_equal(q.v[1].c[QC_RCPT_D], 312);	/* charged a block ahead */
	free(q.v);
	/* every truncation, every flipped byte */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(parse(b, k), -1);
	for (size_t k = 0; k < n; k++) {
		b[k] ^= 0x40;
		assert_int_equal(parse(b, n), -1);
		b[k] ^= 0x40;
	}
	/* a trailing byte, with a good checksum */
	big = malloc(n + 1);
	assert_non_null(big);
	memcpy(big, b, n);
	big[n] = 0;
	resign(big, n + 1);
	assert_int_equal(parse(big, n + 1), -1);
	free(big);
	/* forged with good checksums: count too large, login length 0 and
	 * past the end, a NUL in a login, a huge counter, a duplicate */
	b[39] = 1;
	resign(b, n);
	assert_int_equal(parse(b, n), -1);
	b[39] = 0;
	b[40 + 48] = 0;
	resign(b, n);
	assert_int_equal(parse(b, n), -1);
	b[40 + 48] = 200;
	resign(b, n);
	assert_int_equal(parse(b, n), -1);
	b[40 + 48] = 3;
	b[40 + 50 + 1] = 0;
	resign(b, n);
	assert_int_equal(parse(b, n), -1);
	b[40 + 50 + 1] = '@';
	b[40 + 16 + 7] = 0x7f;
	resign(b, n);
	assert_int_equal(parse(b, n), -1);
	b[40 + 16 + 7] = 0;
	memcpy(b + 40 + 53 + 50, "a@x\0\0\0\0\0\0\0\0\0\0\0\0", 15);
	b[40 + 53 + 48] = 3;
	resign(b, n - 12);
	assert_int_equal(parse(b, n - 12), -1);
	free(b);
}

/* Write bytes as the state file. */
static void plant(int dirfd, const void *p, size_t n)
{
	int fd = openat(dirfd, "quota", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void test_corrupt_file_closes_the_day(void **st)
{
	struct quota_table q;
	struct cdbfd t;
	struct quota_resv r = { 0 };
	char path[64];
	int dirfd = state_dir(path, sizeof path);
	const char *kv[] = { "a@x", "messages_per_hour=3", "free@x",
	                     "messages_per_hour=0 messages_per_day=0" };

	(void)st;
	limits(&t, kv, 4);
	q.v = NULL;
	plant(dirfd, "PQUOTA1\ngarbage", 15);
	assert_int_equal(restart(&q, dirfd, T0), 1);
	assert_int_equal(msg(&q, &t, &r, T0), 1);
	assert_int_equal(quota_reserve_message(&q, &t, "free@x", &r, T0), 0);	/* no limit */
	quota_release(&q, "free@x", &r, T0);
	/* the mark is saved at the first tick and survives a restart */
	quota_tick(&q, 1000000);
	assert_int_equal(restart(&q, dirfd, T0 + HOUR), 0);
	assert_int_equal(msg(&q, &t, &r, T0 + HOUR), 1);
	/* the next day is open again */
	assert_int_equal(msg(&q, &t, &r, T0 + DAY), 0);
	/* an empty file and a symlink are corrupt too */
	plant(dirfd, "", 0);
	assert_int_equal(restart(&q, dirfd, T0), 1);
	assert_int_equal(unlinkat(dirfd, "quota", 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", dirfd, "quota"), 0);
	assert_int_equal(restart(&q, dirfd, T0), 1);
	free(q.v);
	cdbfd_close(&t);
	rm_dir(path, dirfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel_sessions_see_reservations),
		cmocka_unit_test(test_recipients_reserved),
		cmocka_unit_test(test_release_across_windows),
		cmocka_unit_test(test_limit_holds_across_crashes),
		cmocka_unit_test(test_state_file_charge_ahead),
		cmocka_unit_test(test_state_write_failure_refuses),
		cmocka_unit_test(test_state_parser),
		cmocka_unit_test(test_corrupt_file_closes_the_day),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
