/*
 * test_queue_parsers.c — queued's small parsers of untrusted bytes: the
 * From:/Sender: address lists (queue/addrlist.h), the header section
 * scanner (queue/hdrscan.h), the quotas record (queue/quota.h) and the
 * sender policy (queue/senders.h) without a table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../queue/addrlist.h"
#include "../../queue/hdrscan.h"
#include "../../queue/quota.h"
#include "../../queue/senders.h"

struct got {
	int n;
	char a[8][128];
};

static int collect(void *ctx, const char *addr, size_t n)
{
	struct got *g = ctx;

	if (g->n < 8 && n < 128) {
		memcpy(g->a[g->n], addr, n);
		g->a[g->n][n] = '\0';
	}
	g->n++;
	return 0;
}

static int parse(const char *s, struct got *g)
{
	memset(g, 0, sizeof *g);
	return addrlist_parse((const unsigned char *)s, strlen(s), collect, g);
}

static void test_addrlist(void **state)
{
	struct got g;

	(void)state;
	assert_int_equal(parse(" alice@example.org", &g), 1);
	assert_string_equal(g.a[0], "alice@example.org");
	assert_int_equal(parse(" \"Smith, John\" <j@x.example> (work), b@y.example", &g), 2);
	assert_string_equal(g.a[0], "j@x.example");
	assert_string_equal(g.a[1], "b@y.example");
	assert_int_equal(parse(" Team: a@x.example, b@x.example;", &g), 2);
	assert_int_equal(parse(" a@x.example (comment, with <angle>)", &g), 1);
	assert_string_equal(g.a[0], "a@x.example");
	/* fail closed */
	assert_int_equal(parse("", &g), -1);
	assert_int_equal(parse(" undisclosed-recipients:;", &g), -1);
	assert_int_equal(parse(" <a@x.example", &g), -1);
	assert_int_equal(parse(" \"unterminated <a@x>", &g), -1);
	assert_int_equal(parse(" (unterminated a@x", &g), -1);
	assert_int_equal(parse(" <a@x> <b@y>", &g), -1);
	assert_int_equal(parse(" John Smith", &g), -1);
	assert_int_equal(parse(" <>", &g), -1);
	assert_int_equal(parse(" <a@x> trailing", &g), -1);
}

static int count_field(void *ctx, const char *name, const unsigned char *v, size_t n)
{
	char *out = ctx;

	(void)name;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

static void test_hdrscan(void **state)
{
	struct hdrscan h;
	unsigned char scratch[256];
	char val[256];
	const char *msg = "Subject: x\r\nFrom: a@x,\r\n b@y\r\nDATE : now\r\n\r\nFrom: body@z\r\n";

	(void)state;
	assert_int_equal(hdrscan_begin(&h), 0);
	/* byte by byte: the end of the header may straddle feeds */
	for (size_t i = 0; msg[i]; i++)
		hdrscan_feed(&h, (const unsigned char *)msg + i, 1);
	assert_true(h.done);
	assert_false(h.overflow);
	assert_int_equal(hdrscan_fields(&h, "From", count_field, val, scratch, sizeof scratch), 1);
	assert_string_equal(val, " a@x, b@y");
	assert_int_equal(hdrscan_fields(&h, "date", NULL, NULL, scratch, 0), 1);
	assert_int_equal(hdrscan_fields(&h, "Message-ID", NULL, NULL, scratch, 0), 0);
	hdrscan_end(&h);

	assert_int_equal(hdrscan_begin(&h), 0);
	hdrscan_feed(&h, (const unsigned char *)"\r\nFrom: x@y\r\n", 13);
	assert_int_equal(hdrscan_fields(&h, "From", NULL, NULL, scratch, 0), 0);
	hdrscan_end(&h);

	assert_int_equal(hdrscan_begin(&h), 0);
	for (int i = 0; i < 3000; i++)
		hdrscan_feed(&h, (const unsigned char *)"X-Long: aaaaaaaaaaaaaaaaaaaaaa\r\n", 32);
	assert_true(h.overflow);
	hdrscan_end(&h);
}

static void test_quota_parse(void **state)
{
	struct quota_limits l = { 1, 2, 3, 4 };
	const char *v = "messages_per_hour=10, recipients_per_day=0";

	(void)state;
	assert_int_equal(quota_parse((const unsigned char *)v, strlen(v), &l), 0);
	assert_int_equal(l.msg_hour, 10);
	assert_int_equal(l.msg_day, 2);
	assert_int_equal(l.rcpt_day, 0);
	v = "messages_per_week=1";
	assert_int_equal(quota_parse((const unsigned char *)v, strlen(v), &l), -1);
	v = "messages_per_hour=x";
	assert_int_equal(quota_parse((const unsigned char *)v, strlen(v), &l), -1);
	v = "messages_per_hour";
	assert_int_equal(quota_parse((const unsigned char *)v, strlen(v), &l), -1);
}

static void test_quota_counting(void **state)
{
	struct quota_table q;
	struct quota_resv r = { 0 };
	struct cdbfd none;

	(void)state;
	cdbfd_init(&none);
	assert_int_equal(quota_init(&q), 0);
	for (int i = 0; i < QUOTA_DEFAULT_MSG_HOUR; i++) {
		assert_int_equal(quota_reserve_message(&q, &none, "a@x", &r, 7200), 0);
		quota_settle(&r);
	}
	assert_int_equal(quota_reserve_message(&q, &none, "a@x", &r, 7200), 1);
	assert_int_equal(quota_reserve_message(&q, &none, "b@x", &r, 7200), 0);
	/* the next hour starts afresh */
	assert_int_equal(quota_reserve_message(&q, &none, "a@x", &r, 10800), 0);
	free(q.v);
}

static void test_senders_default(void **state)
{
	struct cdbfd none;

	(void)state;
	cdbfd_init(&none);
	assert_int_equal(senders_allowed(&none, "alice@example.org", "Alice@Example.ORG", 17), 1);
	assert_int_equal(senders_allowed(&none, "alice@example.org", "bob@example.org", 15), 0);
	assert_int_equal(senders_allowed(&none, "alice@example.org", "", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addrlist),
		cmocka_unit_test(test_hdrscan),
		cmocka_unit_test(test_quota_parse),
		cmocka_unit_test(test_quota_counting),
		cmocka_unit_test(test_senders_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
