/*
 * test_factorychan.c — unit tests of lib/factorychan.c, the grammar the
 * master and a tlsd factory share: every frame written reads back the
 * same, and what is outside the grammar (another verb, a bad pid or error
 * name, a leftover byte, a raw packet of the old unframed form) is -1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "factorychan.h"

/* Write m and parse it back into out. */
static int round_trip(const struct factorychan_msg *m, struct factorychan_msg *out)
{
	unsigned char buf[FACTORYCHAN_MAX];
	const unsigned char *f;
	size_t n;

	f = factorychan_write(buf, sizeof buf, &n, m);
	assert_non_null(f);
	return factorychan_parse(f, n, out);
}

/* Parse a C string packet. */
static int parse(const char *s, struct factorychan_msg *m)
{
	return factorychan_parse((const unsigned char *)s, strlen(s), m);
}

static void test_round_trips(void **state)
{
	struct factorychan_msg m = { .verb = FC_PID, .pid = 2147483647 }, out;

	(void)state;
	assert_int_equal(round_trip(&m, &out), 0);
	assert_int_equal(out.verb, FC_PID);
	assert_int_equal(out.pid, 2147483647);
	m = (struct factorychan_msg){ .verb = FC_ERR, .err = "EAGAIN" };
	assert_int_equal(round_trip(&m, &out), 0);
	assert_int_equal(out.verb, FC_ERR);
	assert_string_equal(out.err, "EAGAIN");
	m = (struct factorychan_msg){ .verb = FC_READY };
	assert_int_equal(round_trip(&m, &out), 0);
	assert_int_equal(out.verb, FC_READY);
	m = (struct factorychan_msg){ .verb = FC_FORK };
	assert_int_equal(round_trip(&m, &out), 0);
	assert_int_equal(out.verb, FC_FORK);
}

static void test_writer_refuses(void **state)
{
	unsigned char buf[FACTORYCHAN_MAX];
	struct factorychan_msg m = { .verb = FC_PID, .pid = 0 };
	size_t n;

	(void)state;
	assert_null(factorychan_write(buf, sizeof buf, &n, &m));
	m = (struct factorychan_msg){ .verb = FC_ERR, .err = "" };
	assert_null(factorychan_write(buf, sizeof buf, &n, &m));
	m = (struct factorychan_msg){ .verb = FC_ERR, .err = "E AGAIN" };
	assert_null(factorychan_write(buf, sizeof buf, &n, &m));
	m = (struct factorychan_msg){ .verb = FC_READY };
	assert_null(factorychan_write(buf, 4, &n, &m));
}

static void test_parser_refuses(void **state)
{
	struct factorychan_msg m;

	(void)state;
	assert_int_equal(parse("8:5:ready,,", &m), 0);
	assert_int_equal(parse("12:3:pid,3:123,,", &m), 0);
	assert_int_equal(m.pid, 123);
	assert_int_equal(parse("ready", &m), -1);		/* the old unframed form */
	assert_int_equal(parse("pid 12", &m), -1);
	assert_int_equal(parse("8:5:ready,,x", &m), -1);	/* leftover byte */
	assert_int_equal(parse("12:5:ready,1:x,,", &m), -1);	/* leftover field */
	assert_int_equal(parse("10:3:pid,1:0,,", &m), -1);	/* pid 0 */
	assert_int_equal(parse("20:3:pid,10:2147483648,,", &m), -1);
	assert_int_equal(parse("11:3:pid,2:07,,", &m), -1);	/* leading zero */
	assert_int_equal(parse("10:3:err,1: ,,", &m), -1);
	assert_int_equal(parse("6:3:err,,", &m), -1);
	assert_int_equal(parse("7:4:kill,,", &m), -1);
	assert_int_equal(parse("", &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_parser_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
