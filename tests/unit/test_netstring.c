/*
 * test_netstring.c — unit tests of lib/netstring.c: the netstring parser's
 * caps and rejections, the fail-closed frame reader and the frame writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "netstring.h"

/* Parse a C string with the given cap. */
static enum ns_result parse(const char *s, size_t cap, const unsigned char **p,
                            size_t *n, size_t *used)
{
	return netstring_parse((const unsigned char *)s, strlen(s), cap, p, n, used);
}

/* Well-formed netstrings parse, with used covering the comma only. */
static void test_parse_ok(void **state)
{
	const unsigned char *p;
	size_t n, used;

	assert_int_equal(parse("3:abc,", 10, &p, &n, &used), NS_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(used, 6);

	assert_int_equal(parse("0:,rest", 10, &p, &n, &used), NS_OK);
	assert_int_equal(n, 0);
	assert_int_equal(used, 3);

	/* Trailing bytes are left for the next frame. */
	assert_int_equal(parse("2:hi,2:yo,", 10, &p, &n, &used), NS_OK);
	assert_int_equal(used, 5);

	/* Length exactly at the cap. */
	assert_int_equal(parse("10:0123456789,", 10, &p, &n, &used), NS_OK);
	assert_int_equal(n, 10);

	/* Payload may hold any byte, including NUL and ','. */
	assert_int_equal(netstring_parse((const unsigned char *)"3:\0,\n,", 6, 10,
	                                 &p, &n, &used), NS_OK);
	assert_int_equal(n, 3);
	assert_int_equal(p[1], ',');
}

/* Valid prefixes ask for more. */
static void test_parse_more(void **state)
{
	const unsigned char *p;
	size_t n, used;

	assert_int_equal(parse("", 10, &p, &n, &used), NS_MORE);
	assert_int_equal(parse("1", 10, &p, &n, &used), NS_MORE);
	assert_int_equal(parse("0", 10, &p, &n, &used), NS_MORE);
	assert_int_equal(parse("10", 10, &p, &n, &used), NS_MORE);
	assert_int_equal(parse("3:", 10, &p, &n, &used), NS_MORE);
	assert_int_equal(parse("3:ab", 10, &p, &n, &used), NS_MORE);
	assert_int_equal(parse("3:abc", 10, &p, &n, &used), NS_MORE);
	assert_int_equal(parse("0:", 10, &p, &n, &used), NS_MORE);
}

/* Malformed input and lengths over the cap are rejected. */
static void test_parse_bad(void **state)
{
	const unsigned char *p;
	size_t n, used;

	assert_int_equal(parse("01:a,", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("00:", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("00", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse(":,", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("a:", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("-1:", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("+1:a,", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse(" 1:a,", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("1 :a,", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("3:abc;", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("3:abcd", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("11:0123456789a,", 10, &p, &n, &used), NS_BAD);
	/* Over the cap is decided from the digits alone. */
	assert_int_equal(parse("11", 10, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("2", 1, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("1", 0, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("100", 99, &p, &n, &used), NS_BAD);
	assert_int_equal(parse("99999999999999999999999", SIZE_MAX, &p, &n, &used),
	                 NS_BAD);
}

/* A huge cap does not overflow the length arithmetic. */
static void test_parse_huge_cap(void **state)
{
	const unsigned char *p;
	size_t n, used;

	assert_int_equal(parse("18446744073709551615:", SIZE_MAX, &p, &n, &used),
	                 NS_MORE);
	assert_int_equal(parse("18446744073709551616:", SIZE_MAX, &p, &n, &used),
	                 NS_BAD);
	assert_int_equal(parse("5:abc", SIZE_MAX, &p, &n, &used), NS_MORE);
}

/* Read the typed fields of "13:4:rcpt,3:a@b,,"-style frames. */
static void test_reader_fields(void **state)
{
	static const char pl[] = "4:mail,5:a@b.c,2:42,0:,";
	struct frame_reader r;
	const unsigned char *p;
	size_t n;
	uint64_t v;
	char s[16];

	fr_init(&r, (const unsigned char *)pl, sizeof(pl) - 1);
	assert_int_equal(fr_is(&r, "rcpt"), 0);
	assert_int_equal(fr_is(&r, "mai"), 0);
	assert_int_equal(fr_is(&r, "mail"), 1);
	assert_int_equal(fr_str(&r, s, sizeof(s)), 0);
	assert_string_equal(s, "a@b.c");
	assert_int_equal(fr_u64(&r, &v, 100), 0);
	assert_int_equal(v, 42);
	assert_int_equal(fr_bytes(&r, &p, &n, 0), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fr_end(&r), 0);
}

/* Every failure is sticky. */
static void test_reader_sticky(void **state)
{
	static const char pl[] = "3:abc,1:x,";
	struct frame_reader r;
	const unsigned char *p;
	size_t n;

	fr_init(&r, (const unsigned char *)pl, sizeof(pl) - 1);
	assert_int_equal(fr_bytes(&r, &p, &n, 2), -1);	/* too long */
	assert_null(p);
	assert_int_equal(fr_bytes(&r, &p, &n, 10), -1);	/* still failed */
	assert_int_equal(fr_is(&r, "abc"), -1);
	assert_int_equal(fr_end(&r), -1);
}

/* Leftover bytes, short frames and broken fields fail. */
static void test_reader_shape(void **state)
{
	struct frame_reader r;
	const unsigned char *p;
	size_t n;
	char s[8];

	fr_init(&r, (const unsigned char *)"1:a,1:b,", 8);
	assert_int_equal(fr_bytes(&r, &p, &n, 9), 0);
	assert_int_equal(fr_end(&r), -1);	/* leftover field */

	fr_init(&r, (const unsigned char *)"1:a,", 4);
	assert_int_equal(fr_bytes(&r, &p, &n, 9), 0);
	assert_int_equal(fr_bytes(&r, &p, &n, 9), -1);	/* short frame */
	assert_int_equal(fr_end(&r), -1);

	fr_init(&r, (const unsigned char *)"3:ab", 4);	/* partial field */
	assert_int_equal(fr_str(&r, s, sizeof(s)), -1);
	assert_string_equal(s, "");

	fr_init(&r, (const unsigned char *)"1:a,x", 5);	/* trailing garbage */
	assert_int_equal(fr_bytes(&r, &p, &n, 9), 0);
	assert_int_equal(fr_end(&r), -1);

	fr_init(&r, (const unsigned char *)"", 0);	/* fr_is at the end */
	assert_int_equal(fr_is(&r, "x"), -1);
	assert_int_equal(fr_end(&r), -1);

	fr_init(&r, (const unsigned char *)"", 0);
	assert_int_equal(fr_end(&r), 0);
}

/* fr_str refuses embedded NULs and values that do not fit. */
static void test_reader_str(void **state)
{
	struct frame_reader r;
	char s[4];

	fr_init(&r, (const unsigned char *)"3:a\0b,", 6);
	assert_int_equal(fr_str(&r, s, sizeof(s)), -1);

	fr_init(&r, (const unsigned char *)"3:abc,", 6);
	assert_int_equal(fr_str(&r, s, sizeof(s)), 0);
	assert_string_equal(s, "abc");

	fr_init(&r, (const unsigned char *)"4:abcd,", 7);
	assert_int_equal(fr_str(&r, s, sizeof(s)), -1);
	assert_string_equal(s, "");

	fr_init(&r, (const unsigned char *)"0:,", 3);
	assert_int_equal(fr_str(&r, s, 0), -1);
}

/* Parse one field "<n>:<s>," as a number. */
static int u64_of(const char *field, uint64_t max, uint64_t *v)
{
	struct frame_reader r;

	fr_init(&r, (const unsigned char *)field, strlen(field));
	return fr_u64(&r, v, max);
}

/* Numbers: digits only, no leading zero, within max, no overflow. */
static void test_reader_u64(void **state)
{
	uint64_t v;

	assert_int_equal(u64_of("1:0,", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64_of("2:10,", 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(u64_of("2:11,", 10, &v), -1);
	assert_int_equal(u64_of("1:7,", 5, &v), -1);
	assert_int_equal(u64_of("2:01,", 10, &v), -1);
	assert_int_equal(u64_of("0:,", 10, &v), -1);
	assert_int_equal(u64_of("2:-1,", 10, &v), -1);
	assert_int_equal(u64_of("2:1 ,", 10, &v), -1);
	assert_int_equal(u64_of("20:18446744073709551615,", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(u64_of("20:18446744073709551616,", UINT64_MAX, &v), -1);
	assert_int_equal(u64_of("21:100000000000000000000,", UINT64_MAX, &v), -1);
}

/* The writer produces the documented example and round-trips. */
static void test_writer(void **state)
{
	unsigned char buf[64];
	struct frame_writer w;
	struct frame_reader r;
	const unsigned char *f, *p;
	size_t n, pn, used;
	uint64_t v;

	fw_init(&w, buf, sizeof(buf));
	fw_str(&w, "rcpt");
	fw_str(&w, "a@b");
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_int_equal(n, strlen("13:4:rcpt,3:a@b,,"));
	assert_memory_equal(f, "13:4:rcpt,3:a@b,,", n);

	fw_init(&w, buf, sizeof(buf));
	fw_str(&w, "reply");
	fw_u64(&w, 250);
	fw_bytes(&w, "", 0);
	fw_u64(&w, UINT64_MAX);
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, FRAME_MAX, &p, &pn, &used), NS_OK);
	assert_int_equal(used, n);
	fr_init(&r, p, pn);
	assert_int_equal(fr_is(&r, "reply"), 1);
	assert_int_equal(fr_u64(&r, &v, 599), 0);
	assert_int_equal(v, 250);
	assert_int_equal(fr_bytes(&r, &p, &pn, 10), 0);
	assert_int_equal(pn, 0);
	assert_int_equal(fr_u64(&r, &v, UINT64_MAX), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(fr_end(&r), 0);

	/* An empty frame. */
	fw_init(&w, buf, sizeof(buf));
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_memory_equal(f, "0:,", 3);
	assert_int_equal(n, 3);
}

/* Running out of room fails; the exact fit succeeds. */
static void test_writer_room(void **state)
{
	unsigned char buf[16];
	struct frame_writer w;
	size_t n;
	const unsigned char *f;

	/* cap 12: reserve "NN:" (3) + payload + ',' -> 8 bytes of fields. */
	fw_init(&w, buf, 12);
	fw_str(&w, "abcde");	/* "5:abcde," = 8 bytes */
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_int_equal(n, 11);
	assert_memory_equal(f, "8:5:abcde,,", 11);

	fw_init(&w, buf, 12);
	fw_str(&w, "abcdef");	/* 9 bytes: one too many */
	assert_int_equal(w.failed, 1);
	assert_null(fw_finish(&w, &n));
	assert_int_equal(n, 0);

	fw_init(&w, buf, 12);
	fw_str(&w, "abc");
	fw_str(&w, "a");	/* 6 + 4 = 10 > 8 */
	fw_str(&w, "");		/* later fields do not revive it */
	assert_null(fw_finish(&w, &n));

	fw_init(&w, buf, 2);	/* too small for even "0:," */
	assert_null(fw_finish(&w, &n));
	fw_init(&w, buf, 3);
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_memory_equal(f, "0:,", 3);

	fw_init(&w, buf, sizeof(buf));
	fw_bytes(&w, buf, SIZE_MAX);	/* absurd length, no overflow */
	assert_null(fw_finish(&w, &n));
}

/* A full-size frame fits a FRAME_MAX buffer plus header room. */
static void test_writer_large(void **state)
{
	static unsigned char buf[FRAME_MAX + 32], data[32768];
	struct frame_writer w;
	const unsigned char *f, *p;
	size_t n, pn, used;

	memset(data, 'x', sizeof(data));
	fw_init(&w, buf, sizeof(buf));
	fw_str(&w, "chunk");
	fw_bytes(&w, data, sizeof(data));
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, FRAME_MAX, &p, &pn, &used), NS_OK);
	assert_int_equal(used, n);
	/* A cap one below the payload rejects it from the digits alone. */
	assert_int_equal(netstring_parse(f, 5, pn - 1, &p, &pn, &used), NS_BAD);
	assert_int_equal(netstring_parse(f, 4, pn - 1, &p, &pn, &used), NS_MORE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_more),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_huge_cap),
		cmocka_unit_test(test_reader_fields),
		cmocka_unit_test(test_reader_sticky),
		cmocka_unit_test(test_reader_shape),
		cmocka_unit_test(test_reader_str),
		cmocka_unit_test(test_reader_u64),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_room),
		cmocka_unit_test(test_writer_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
