/*
 * test_jobchan.c — unit tests of the job channel, lib/jobchan.c: a frame
 * written by queued's writer (job_write_head/job_write_rcpt) reads back
 * field for field; content outside the envelope grammar (addresses,
 * NOTIFY, ORCPT, ENVID, RET, the destination domain) is flagged for a
 * per-recipient answer and never refuses the frame; only the framing and
 * the caps refuse it; a worker's result frames read back in queued's
 * reader, which refuses what the writer refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "jobchan.h"
#include "netstring.h"

/* One recipient given to the writer. */
struct in_rcpt {
	const char *addr, *notify, *orcpt;
};

/* A C string as bytes. */
static struct bytes b(const char *s)
{
	struct bytes x = { (const unsigned char *)s, strlen(s) };

	return x;
}

/* Write a job with the given head fields and recipients, parse it back
 * into j; job_parse's result. */
static int round_trip(struct job *j, const char *domain, const char *sender, const char *ret,
                      const char *envid, const struct in_rcpt *r, size_t nr)
{
	static unsigned char buf[8192];
	struct job_head h = { .id = 42, .route = "mx", .domain = domain, .helo = "out.test",
	                      .sender = b(sender), .ret = b(ret), .envid = b(envid),
	                      .header = b("Received: x\r\n"), .nrcpt = nr };
	struct frame_writer w;
	const unsigned char *f, *payload;
	size_t n, plen, used;

	fw_init(&w, buf, sizeof buf);
	job_write_head(&w, &h);
	for (size_t i = 0; i < nr; i++) {
		struct bytes a = b(r[i].addr), nt = b(r[i].notify), o = b(r[i].orcpt);

		job_write_rcpt(&w, &a, &nt, &o);
	}
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, sizeof buf, &payload, &plen, &used), NS_OK);
	return job_parse(j, payload, plen);
}

static void test_round_trip(void **state)
{
	static struct job j;
	static const struct in_rcpt r[] = {
		{ "\"a b\"@dest.test", "SUCCESS,DELAY", "rfc822;a+20b@dest.test" },
		{ "PostMaster", "", "" },
		{ "c@[192.0.2.1]", "NEVER", "" },
	};

	(void)state;
	assert_int_equal(round_trip(&j, "dest.test", "s@src.test", "hdrs", "ID+2B1", r, 3), 0);
	assert_int_equal(j.id, 42);
	assert_true(job_route_is(&j, "mx"));
	assert_string_equal(j.domain, "dest.test");
	assert_true(j.domain_valid);
	assert_string_equal(j.helo, "out.test");
	assert_true(j.sender_valid);
	assert_int_equal(j.nrcpt, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(j.rcpt[i].valid);
		assert_int_equal(j.rcpt[i].addr.n, strlen(r[i].addr));
		assert_memory_equal(j.rcpt[i].addr.p, r[i].addr, j.rcpt[i].addr.n);
	}
	assert_int_equal(j.header.n, 13);
}

static void test_destinations(void **state)
{
	static struct job j;
	static const struct in_rcpt r[] = { { "a@x.test", "", "" } };

	(void)state;
	assert_int_equal(round_trip(&j, "[192.0.2.1]", "", "", "", r, 1), 0);
	assert_true(j.domain_valid);
	assert_int_equal(round_trip(&j, "[ipv6:2001:db8::1]", "", "", "", r, 1), 0);
	assert_true(j.domain_valid);
	assert_int_equal(round_trip(&j, "b\xc3\xbc" "cher.test", "", "", "", r, 1), 0);
	assert_true(j.domain_valid);
	assert_string_equal(j.domain, "b\xc3\xbc" "cher.test");
	/* Outside the grammar: flagged and emptied, not refused. */
	assert_int_equal(round_trip(&j, "bad domain", "", "", "", r, 1), 0);
	assert_false(j.domain_valid);
	assert_string_equal(j.domain, "");
	assert_int_equal(round_trip(&j, "[x-tag:y]", "", "", "", r, 1), 0);
	assert_false(j.domain_valid);
	assert_int_equal(round_trip(&j, "", "", "", "", r, 1), 0);
	assert_true(j.domain_valid);	/* a relay's job may have none */
}

static void test_content_is_flagged_not_fatal(void **state)
{
	static struct job j;
	char envid[400], notify[80];
	struct in_rcpt r[4] = {
		{ "ok@dest.test", "", "" },
		{ "c@dest.test>\r\nRSET", "", "" },
		{ "d@dest.test", notify, "" },
		{ "e@dest.test", "", "x;a b" },
	};

	(void)state;
	memset(notify, 'N', 65);	/* over the old 64-octet cap */
	notify[65] = '\0';
	for (int i = 0; i < 100; i++)
		memcpy(envid + 3 * i, "+41", 4);	/* 300 raw, 100 decoded */
	assert_int_equal(round_trip(&j, "dest.test", "s@src.test", "full", envid, r, 4), 0);
	assert_true(j.sender_valid);
	assert_true(j.rcpt[0].valid);
	assert_false(j.rcpt[1].valid);
	assert_false(j.rcpt[2].valid);
	assert_false(j.rcpt[3].valid);
	memcpy(envid + 300, "+41", 4);	/* 101 decoded */
	assert_int_equal(round_trip(&j, "dest.test", "s@src.test", "", envid, r, 1), 0);
	assert_false(j.sender_valid);
	assert_int_equal(round_trip(&j, "dest.test", "s@src.test", "FULL", "", r, 1), 0);
	assert_false(j.sender_valid);
	assert_int_equal(round_trip(&j, "dest.test", "s p@src.test", "", "", r, 1), 0);
	assert_false(j.sender_valid);
}

static void test_framing_and_caps_refuse(void **state)
{
	static struct job j;
	static char big[600];
	struct in_rcpt r[1] = { { big, "", "" } };

	(void)state;
	memset(big, 'a', 513);
	big[513] = '\0';
	assert_int_equal(round_trip(&j, "dest.test", "", "", "", r, 1), -1);
	r[0].addr = "a@dest.test";
	assert_int_equal(round_trip(&j, "dest.test", big, "", "", r, 1), -1);
	big[256] = '\0';
	assert_int_equal(round_trip(&j, big, "", "", "", r, 1), -1);	/* domain cap 255 */
}

static void test_results_round_trip(void **state)
{
	unsigned char buf[2048];
	struct job_expect x = { 1, 9, 2 };
	struct job_result r;
	const unsigned char *f, *p;
	size_t n, pl, used;

	(void)state;
	f = frame_rcpt(buf, sizeof buf, &n, 9, 1, "perm", 550, "5.1.10", "no such user");
	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, sizeof buf, &p, &pl, &used), NS_OK);
	assert_int_equal(job_result_parse(p, pl, &x, &r), 0);
	assert_int_equal(r.kind, JOB_R_RCPT);
	assert_int_equal(r.index, 1);
	assert_int_equal(r.cls, 'p');
	assert_int_equal(r.code, 550);
	assert_string_equal(r.status, "5.1.10");
	assert_string_equal(r.text, "no such user");
	x.job_id = 8;	/* another job's result */
	assert_int_equal(job_result_parse(p, pl, &x, &r), -1);
	x.job_id = 9;
	x.n = 1;	/* index out of the job */
	assert_int_equal(job_result_parse(p, pl, &x, &r), -1);
	/* the writer refuses what the reader would */
	assert_null(frame_rcpt(buf, sizeof buf, &n, 9, 0, "perm", 550, "5.1", "x"));
	assert_null(frame_rcpt(buf, sizeof buf, &n, 9, 0, "perm", 550, "3.0.0", "x"));
	assert_null(frame_rcpt(buf, sizeof buf, &n, 9, 0, "perm", 550, "5.0.0", "a\r\nb"));
	assert_null(frame_rcpt(buf, sizeof buf, &n, 9, 0, "fine", 250, "2.0.0", "x"));
	f = frame_done(buf, sizeof buf, &n, 9);
	assert_int_equal(netstring_parse(f, n, sizeof buf, &p, &pl, &used), NS_OK);
	assert_int_equal(job_result_parse(p, pl, &x, &r), 0);
	assert_int_equal(r.kind, JOB_R_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_content_is_flagged_not_fatal),
		cmocka_unit_test(test_framing_and_caps_refuse),
		cmocka_unit_test(test_results_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
