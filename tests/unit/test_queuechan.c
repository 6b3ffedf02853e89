/*
 * test_queuechan.c — unit tests of lib/queuechan.c, the smtpd <-> queued
 * grammar both ends link: each request and the reply read back as
 * written; the envelope fields are held to the shared envelope grammar by
 * the writer and the reader alike; a frame outside the grammar is -1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "netstring.h"
#include "queuechan.h"

/* Copy the C string v into dst[cap]. */
static void set(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	assert_true(n < cap);
	memcpy(dst, v, n + 1);
}

/* Write q, read it back into out; the reader's result (the writer must
 * take q). */
static int round_trip(const struct qc_request *q, struct qc_request *out)
{
	static unsigned char buf[QUEUECHAN_FRAME_MAX];
	const unsigned char *f, *p;
	size_t n, pl, used;

	f = queuechan_write(buf, sizeof buf, &n, q);
	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, sizeof buf, &p, &pl, &used), NS_OK);
	return queuechan_read(p, pl, out);
}

/* 1 if the writer refuses q. */
static int refused(const struct qc_request *q)
{
	static unsigned char buf[QUEUECHAN_FRAME_MAX];
	size_t n;

	return queuechan_write(buf, sizeof buf, &n, q) == NULL;
}

static void test_requests_round_trip(void **state)
{
	static struct qc_request q, out;
	static const unsigned char tk[4] = "tick";

	(void)state;
	memset(&q, 0, sizeof q);
	q.verb = QC_MAIL;
	q.ticket = tk;
	q.ticket_len = 4;
	set(q.sender, sizeof q.sender, "\"a b\"@example.net");
	q.size = 1234;
	q.eightbit = 1;
	set(q.ret, sizeof q.ret, "hdrs");
	set(q.envid, sizeof q.envid, "ID+2B1");
	assert_int_equal(round_trip(&q, &out), 0);
	assert_int_equal(out.verb, QC_MAIL);
	assert_int_equal(out.ticket_len, 4);
	assert_memory_equal(out.ticket, tk, 4);
	assert_string_equal(out.sender, q.sender);
	assert_int_equal(out.size, 1234);
	assert_true(out.eightbit);
	assert_false(out.smtputf8);
	assert_string_equal(out.ret, "hdrs");
	assert_string_equal(out.envid, "ID+2B1");
	memset(&q, 0, sizeof q);
	q.verb = QC_RCPT;
	set(q.addr, sizeof q.addr, "b@[IPv6:2001:db8::1]");
	set(q.notify, sizeof q.notify, "SUCCESS,DELAY");
	set(q.orcpt, sizeof q.orcpt, "rfc822;b@x.y");
	assert_int_equal(round_trip(&q, &out), 0);
	assert_string_equal(out.addr, q.addr);
	assert_string_equal(out.notify, q.notify);
	assert_string_equal(out.orcpt, q.orcpt);
	memset(&q, 0, sizeof q);
	q.verb = QC_CHUNK;
	q.chunk = (const unsigned char *)"a\r\n";
	q.chunk_len = 3;
	assert_int_equal(round_trip(&q, &out), 0);
	assert_int_equal(out.chunk_len, 3);
	memset(&q, 0, sizeof q);
	q.verb = QC_ABORT;
	set(q.reason, sizeof q.reason, "bare-lf");
	assert_int_equal(round_trip(&q, &out), 0);
	assert_string_equal(out.reason, "bare-lf");
	for (int v = QC_DATA; v <= QC_RSET; v++) {
		if (v == QC_CHUNK || v == QC_ABORT)
			continue;
		memset(&q, 0, sizeof q);
		q.verb = (enum qc_verb)v;
		assert_int_equal(round_trip(&q, &out), 0);
		assert_int_equal(out.verb, v);
	}
}

static void test_envelope_grammar_enforced(void **state)
{
	static struct qc_request q;

	(void)state;
	memset(&q, 0, sizeof q);
	q.verb = QC_MAIL;
	set(q.sender, sizeof q.sender, "a b@x.y");
	assert_true(refused(&q));
	set(q.sender, sizeof q.sender, "\xc3\xa9@x.y");
	assert_true(refused(&q));	/* UTF-8 without SMTPUTF8 */
	q.smtputf8 = 1;
	assert_false(refused(&q));
	set(q.envid, sizeof q.envid, "a=b");
	assert_true(refused(&q));
	q.envid[0] = '\0';
	set(q.ret, sizeof q.ret, "FULL");
	assert_true(refused(&q));
	memset(&q, 0, sizeof q);
	q.verb = QC_RCPT;
	assert_true(refused(&q));	/* no recipient */
	set(q.addr, sizeof q.addr, "PostMaster");
	assert_false(refused(&q));
	set(q.addr, sizeof q.addr, "a@[x-tag:y]");
	assert_true(refused(&q));
	set(q.addr, sizeof q.addr, "a@x.y");
	set(q.notify, sizeof q.notify, "NEVER,DELAY");
	assert_true(refused(&q));
	memset(&q, 0, sizeof q);
	q.verb = QC_CHUNK;
	assert_true(refused(&q));	/* empty chunk */
	q.verb = QC_ABORT;
	set(q.reason, sizeof q.reason, "two words");
	assert_true(refused(&q));
}

static void test_reader_refuses(void **state)
{
	static struct qc_request q;

	(void)state;
	/* a raw frame the writer would never make */
	assert_int_equal(queuechan_read((const unsigned char *)"4:rcpt,7:a b@x.y,0:,0:,", 23, &q),
	                 -1);
	assert_int_equal(queuechan_read((const unsigned char *)"4:rset,1:x,", 11, &q), -1);
	assert_int_equal(queuechan_read((const unsigned char *)"4:quit,", 7, &q), -1);
	assert_int_equal(queuechan_read((const unsigned char *)"4:rset,", 7, &q), 0);
	assert_int_equal(q.verb, QC_RSET);
}

static void test_reply(void **state)
{
	unsigned char buf[600];
	char text[QUEUECHAN_TEXT_MAX + 1];
	const unsigned char *f, *p;
	size_t n, pl, used, tl;
	unsigned code;

	(void)state;
	f = queuechan_write_reply(buf, sizeof buf, &n, 250, "2.0.0 Ok: queued as x");
	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, sizeof buf, &p, &pl, &used), NS_OK);
	assert_int_equal(queuechan_read_reply(p, pl, &code, text, &tl), 0);
	assert_int_equal(code, 250);
	assert_string_equal(text, "2.0.0 Ok: queued as x");
	assert_int_equal(tl, 21);
	assert_null(queuechan_write_reply(buf, sizeof buf, &n, 199, "x"));
	assert_null(queuechan_write_reply(buf, sizeof buf, &n, 250, ""));
	assert_null(queuechan_write_reply(buf, sizeof buf, &n, 250, "a\r\nb"));
	assert_int_equal(queuechan_read_reply((const unsigned char *)"5:reply,3:600,1:x,", 18, &code,
	                                      text, &tl), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_round_trip),
		cmocka_unit_test(test_envelope_grammar_enforced),
		cmocka_unit_test(test_reader_refuses),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
