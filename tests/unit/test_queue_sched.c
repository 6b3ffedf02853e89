/*
 * test_queue_sched.c — the pure parts of postern-queued's scheduler
 * (queue/sched_route.h, queue/sched_state.h): the backoff doubles from
 * -R and stops at -X; recipients are grouped per destination, in order,
 * and split at the byte budget and the recipient cap; the routes.cdb
 * lookup (exact domain lower-cased, then "*", values outside the grammar
 * ignored, no table = -1); the state file round trip and its reader
 * failing closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "memcdb.h"
#include <cdb.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../queue/args.h"
#include "../../queue/sched_route.h"
#include "../../queue/sched_state.h"

static void test_backoff(void **st)
{
	(void)st;
	assert_int_equal(sched_backoff(1, 300, 3600), 300);
	assert_int_equal(sched_backoff(2, 300, 3600), 600);
	assert_int_equal(sched_backoff(3, 300, 3600), 1200);
	assert_int_equal(sched_backoff(4, 300, 3600), 2400);
	assert_int_equal(sched_backoff(5, 300, 3600), 3600);
	assert_int_equal(sched_backoff(1000000, 300, 3600), 3600);
	assert_int_equal(sched_backoff(64, 1, UINT64_MAX), 1ULL << 63);
	assert_int_equal(sched_backoff(70, 1, UINT64_MAX), UINT64_MAX);	/* no overflow */
	assert_int_equal(sched_backoff(0, 5, 10), 5);
	assert_int_equal(sched_backoff(3, 7, 7), 7);
}

static void test_grouping(void **st)
{
	const char *dest[] = { "mx:a.test", "mx:b.test", "mx:a.test", "relay:s:25", "mx:b.test" };
	size_t bytes[] = { 10, 10, 10, 10, 10 }, of[5];

	(void)st;
	assert_int_equal(sched_group(dest, bytes, 5, 1000, 1000, of), 3);
	assert_int_equal(of[0], 0);
	assert_int_equal(of[1], 1);
	assert_int_equal(of[2], 0);
	assert_int_equal(of[3], 2);
	assert_int_equal(of[4], 1);
	/* a byte budget of 25 splits a.test's two recipients (20 fits, a third would not) */
	const char *same[] = { "d", "d", "d", "d", "d" };

	assert_int_equal(sched_group(same, bytes, 5, 25, 1000, of), 3);
	assert_int_equal(of[0], 0);
	assert_int_equal(of[1], 0);
	assert_int_equal(of[2], 1);
	assert_int_equal(of[3], 1);
	assert_int_equal(of[4], 2);
	/* the recipient cap */
	assert_int_equal(sched_group(same, bytes, 5, 1000, 2, of), 3);
	assert_int_equal(sched_group(same, bytes, 0, 1000, 2, of), 0);
}

static void test_domain(void **st)
{
	char d[SROUTE_DOMAIN_MAX + 1];
	char longaddr[400];

	(void)st;
	assert_int_equal(sroute_domain((const unsigned char *)"Bob@Example.NET", 15, d), 0);
	assert_string_equal(d, "example.net");
	assert_int_equal(sroute_domain((const unsigned char *)"a@b@c.test.", 11, d), 0);
	assert_string_equal(d, "c.test");
	assert_int_equal(sroute_domain((const unsigned char *)"nodomain", 8, d), -1);
	assert_int_equal(sroute_domain((const unsigned char *)"a@", 2, d), -1);
	assert_int_equal(sroute_domain((const unsigned char *)"a@.", 3, d), -1);
	assert_int_equal(sroute_domain((const unsigned char *)"a@x y", 5, d), -1);
	assert_int_equal(sroute_domain((const unsigned char *)"a@x/y", 5, d), -1);
	assert_int_equal(sroute_domain((const unsigned char *)"a@x\ny", 5, d), -1);
	/* U-labels: routed by their A-labels, one form for any case */
	assert_int_equal(sroute_domain((const unsigned char *)"j@B\xc3\xbc" "cher.Test", 14, d), 0);
	assert_string_equal(d, "xn--bcher-kva.test");
	assert_int_equal(sroute_domain((const unsigned char *)"j@\xe2\x98\x83.test", 10, d), -1);
	memset(longaddr, 'x', sizeof longaddr);
	longaddr[0] = 'a';
	longaddr[1] = '@';
	assert_int_equal(sroute_domain((const unsigned char *)longaddr, 258, d), -1);
	assert_int_equal(sroute_domain((const unsigned char *)longaddr, 257, d), 0);
}

static int lookup(struct cdbfd *t, const char *addr, struct sroute *r)
{
	return sroute_lookup(t, (const unsigned char *)addr, strlen(addr), r);
}

static void test_routes_lookup(void **st)
{
	static const char *const kv[] = {
		"example.net", "mx",
		"smart.test", "relay:smtp.example.com:587 tls=required auth=main",
		"local.test", "maildir:/var/mail/outbox",
		"bad.test", "frobnicate",
		"*", "relay:fallback.test:25",
	};
	static const char *const nostar[] = { "example.net", "mx" };
	struct cdbfd t;
	struct sroute r;

	(void)st;
	cdbfd_init(&t);
	assert_int_equal(lookup(&t, "a@example.net", &r), -1);	/* no table */
	assert_int_equal(cdbfd_attach(&t, memcdb("routes", kv, 10)), 0);
	assert_int_equal(lookup(&t, "a@EXAMPLE.net", &r), 1);
	assert_string_equal(r.value, "mx");
	assert_string_equal(r.dest, "mx:example.net");
	assert_string_equal(r.domain, "example.net");
	assert_int_equal(r.maildir, 0);
	assert_int_equal(lookup(&t, "b@smart.test", &r), 1);
	assert_string_equal(r.dest, "relay:smtp.example.com:587 tls=required auth=main");
	assert_int_equal(lookup(&t, "c@local.test", &r), 1);
	assert_int_equal(r.maildir, 1);
	assert_string_equal(r.value, "maildir:/var/mail/outbox");
	assert_int_equal(lookup(&t, "d@elsewhere.test", &r), 1);	/* "*" */
	assert_string_equal(r.value, "relay:fallback.test:25");
	assert_int_equal(lookup(&t, "e@bad.test", &r), 0);		/* not of the grammar */
	assert_int_equal(lookup(&t, "nodomain", &r), 0);
	/* sub.example.net is not example.net: exact keys only */
	assert_int_equal(cdbfd_attach(&t, memcdb("routes", nostar, 2)), 0);
	assert_int_equal(lookup(&t, "a@sub.example.net", &r), 0);
	assert_int_equal(lookup(&t, "a@example.net.", &r), 1);
	cdbfd_close(&t);
}

static char qroot[] = "/tmp/test_queue_sched.XXXXXX";

/* A queue directory with tmp/ and state/ (and the rest qdir_open wants). */
static void make_queue(struct qdir *q)
{
	char err[256], p[128];
	static const char *const subs[] = { "tmp", "new", "cur", "env", "state", "hold" };

	assert_non_null(mkdtemp(qroot));
	for (size_t i = 0; i < 6; i++) {
		snprintf(p, sizeof p, "%s/%s", qroot, subs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(qdir_open(q, qroot, 0, 0, 0, err, sizeof err), 0);
}

static void remove_queue(struct qdir *q)
{
	char cmd[256];

	qdir_close(q);
	snprintf(cmd, sizeof cmd, "rm -rf %s", qroot);
	assert_int_equal(system(cmd), 0);
	memcpy(qroot + sizeof qroot - 7, "XXXXXX", 6);
}

static const char *const ID = "abcdefghijklmnopqrst";

static void fill_state(struct sstate *s)
{
	assert_int_equal(sstate_alloc(s, 3), 0);
	s->attempts = 2;
	s->next = 1800000000;
	s->delay_sent = 1;
	s->r[0].st = RS_OK;
	s->r[0].attempts = 1;
	s->r[0].code = 250;
	memcpy(s->r[0].status, "2.0.0", 6);
	memcpy(s->r[0].text, "queued as X", 12);
	s->r[0].last = 1700000000;
	s->r[1].st = RS_PENDING;
	s->r[1].attempts = 2;
	s->r[1].code = 451;
	memcpy(s->r[1].status, "4.7.1", 6);
	memcpy(s->r[1].text, "greylisted, try again", 22);
	s->r[2].st = RS_OWED;
	s->r[2].code = 550;
	memcpy(s->r[2].status, "5.1.1", 6);
}

static int open_state(struct qdir *q)
{
	int fd = openat(q->d[QD_STATE], ID, O_RDONLY);

	assert_true(fd >= 0);
	return fd;
}

static void test_state_roundtrip(void **st)
{
	struct qdir q;
	struct sstate a, b;
	int fd;

	(void)st;
	make_queue(&q);
	fill_state(&a);
	assert_int_equal(sstate_write(&q, ID, &a), 0);
	/* nothing left in tmp/ */
	assert_int_equal(faccessat(q.d[QD_TMP], "abcdefghijklmnopqrst.st", F_OK, 0), -1);
	assert_int_equal(sstate_alloc(&b, 3), 0);
	fd = open_state(&q);
	assert_int_equal(sstate_read(fd, ID, &b), 0);
	close(fd);
	assert_int_equal(b.attempts, 2);
	assert_int_equal(b.next, 1800000000);
	assert_int_equal(b.delay_sent, 1);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(b.r[i].st, a.r[i].st);
		assert_int_equal(b.r[i].attempts, a.r[i].attempts);
		assert_int_equal(b.r[i].code, a.r[i].code);
		assert_string_equal(b.r[i].status, a.r[i].status);
		assert_string_equal(b.r[i].text, a.r[i].text);
		assert_int_equal(b.r[i].last, a.r[i].last);
	}
	/* a rewrite replaces it */
	a.r[1].st = RS_OK;
	assert_int_equal(sstate_write(&q, ID, &a), 0);
	fd = open_state(&q);
	assert_int_equal(sstate_read(fd, ID, &b), 0);
	close(fd);
	assert_int_equal(b.r[1].st, RS_OK);
	/* the wrong recipient count or another id: invalid */
	sstate_free(&b);
	assert_int_equal(sstate_alloc(&b, 2), 0);
	fd = open_state(&q);
	assert_int_equal(sstate_read(fd, ID, &b), -1);
	close(fd);
	sstate_free(&b);
	assert_int_equal(sstate_alloc(&b, 3), 0);
	fd = open_state(&q);
	assert_int_equal(sstate_read(fd, "bbbbbbbbbbbbbbbbbbbb", &b), -1);
	close(fd);
	sstate_free(&a);
	sstate_free(&b);
	remove_queue(&q);
}

/* A state CDB with the given records in a memfd. */
static int state_fd(const char *const *kv, size_t n)
{
	return memcdb("routes", kv, n);
}


static void test_state_fails_closed(void **st)
{
	static const char *const good[] = {
		"version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		"delay", "0", "rcpt", "1:p,1:1,3:451,5:4.0.0,2:hi,1:9,",
	};
	static const char *const cases[][12] = {
		{ "version", "2", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "rcpt", "1:p,1:1,3:451,5:4.0.0,2:hi,1:9," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "01", "next", "5",
		  "delay", "0", "rcpt", "1:p,1:1,3:451,5:4.0.0,2:hi,1:9," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "2", "rcpt", "1:p,1:1,3:451,5:4.0.0,2:hi,1:9," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "rcpt", "1:z,1:1,3:451,5:4.0.0,2:hi,1:9," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "rcpt", "1:p,1:1,4:1451,5:4.0.0,2:hi,1:9," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "rcpt", "1:p,1:1,3:451,3:4.0,2:hi,1:9," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "rcpt", "1:p,1:1,3:451,5:4.0.0,2:h\x01,1:9," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "rcpt", "1:p,1:1,3:451,5:4.0.0,2:hi,1:9,X" },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "rcpt", "1:p,1:1,3:451,5:4.0.0,2:hi," },
		{ "version", "1", "id", "abcdefghijklmnopqrst", "attempts", "1", "next", "5",
		  "delay", "0", "next", "6" },
	};
	struct sstate s;
	int fd;

	(void)st;
	assert_int_equal(sstate_alloc(&s, 1), 0);
	fd = state_fd(good, 12);
	assert_int_equal(sstate_read(fd, ID, &s), 0);
	assert_int_equal(s.r[0].code, 451);
	assert_string_equal(s.r[0].text, "hi");
	close(fd);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fd = state_fd(cases[i], 12);
		assert_int_equal(sstate_read(fd, ID, &s), -1);
		close(fd);
	}
	/* a missing key, and bytes that are not a CDB */
	fd = state_fd(good, 10);
	assert_int_equal(sstate_read(fd, ID, &s), -1);
	close(fd);
	fd = memfd_create("junk", 0);
	assert_int_equal(write(fd, "not a cdb", 9), 9);
	assert_int_equal(sstate_read(fd, ID, &s), -1);
	close(fd);
	sstate_free(&s);
}

static void test_status_shape(void **st)
{
	(void)st;
	assert_true(sstate_status_ok("2.0.0"));
	assert_true(sstate_status_ok("5.1.10"));
	assert_true(sstate_status_ok("4.999.999"));
	assert_false(sstate_status_ok("3.0.0"));
	assert_false(sstate_status_ok("4.0"));
	assert_false(sstate_status_ok("4.0.0.0"));
	assert_false(sstate_status_ok("4..0"));
	assert_false(sstate_status_ok("4.1000.0"));
	assert_false(sstate_status_ok(""));
}

/* Parse a NULL-terminated argument list. */
static int parse(struct queued_args *a, const char **why, ...)
{
	char *argv[40] = { "postern-queued", "-u", "5", "-g", "6", "-r", "/q", "-h", "mx.test" };
	int argc = 9;
	va_list ap;
	char *v;

	va_start(ap, why);
	while ((v = va_arg(ap, char *)) != NULL && argc < 39)
		argv[argc++] = v;
	va_end(ap);
	return queued_args_parse(argc, argv, a, why);
}

static void test_sched_args(void **st)
{
	static struct queued_args a;
	const char *why = "";

	(void)st;
	assert_int_equal(parse(&a, &why, NULL), 0);
	assert_string_equal(a.conf.helo, "mx.test");	/* defaults to -h */
	assert_int_equal(a.conf.retry_min_s, 300);
	assert_int_equal(a.conf.retry_max_s, 3600);
	assert_int_equal(a.conf.lifetime_s, 432000);
	assert_int_equal(a.conf.delay_notice_s, 14400);
	assert_int_equal(a.conf.concurrency, 20);
	assert_int_equal(a.conf.per_destination, 4);
	assert_int_equal(parse(&a, &why, "-O", "out.test", "-R", "1", "-X", "2", "-L", "3",
	                       "-D", "0", "-W", "5", "-P", "9", NULL), 0);
	assert_string_equal(a.conf.helo, "out.test");
	assert_int_equal(a.conf.retry_min_s, 1);
	assert_int_equal(a.conf.retry_max_s, 2);
	assert_int_equal(a.conf.lifetime_s, 3);
	assert_int_equal(a.conf.delay_notice_s, 0);
	assert_int_equal(a.conf.concurrency, 5);
	assert_int_equal(a.conf.per_destination, 5);	/* lowered to -W */
	assert_int_equal(parse(&a, &why, "-R", "600", "-X", "60", NULL), 0);
	assert_int_equal(a.conf.retry_max_s, 600);	/* raised to -R */
	assert_int_equal(parse(&a, &why, "-R", "0", NULL), -1);
	assert_int_equal(parse(&a, &why, "-W", "0", NULL), -1);
	assert_int_equal(parse(&a, &why, "-L", "x", NULL), -1);
	assert_int_equal(parse(&a, &why, "-O", "", NULL), -1);
	assert_int_equal(parse(&a, &why, "-P", NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_routes_lookup),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_fails_closed),
		cmocka_unit_test(test_status_shape),
		cmocka_unit_test(test_sched_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
