/*
 * test_mailarg.c — unit tests of smtpd/mailarg.c (MAIL FROM / RCPT TO
 * arguments): a table of accepted and refused arguments with the reply
 * code and enhanced status each must give, then the parsed fields of each
 * parameter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../smtpd/mailarg.h"

enum verb { MAIL, RCPT, RCPT8 };

/* One case: verb, argument, 0 or the reply code, path or status prefix. */
struct tcase {
	enum verb verb;
	const char *arg;
	int code;
	const char *want;
};

static const struct tcase cases[] = {
	{ MAIL, "<a@example.org>", 0, "a@example.org" },
	{ MAIL, "<>", 0, "" },
	{ MAIL, "<a.b.c@x.example>", 0, "a.b.c@x.example" },
	{ MAIL, "<!#$%&'*+-/=?^_`{|}~@x.y>", 0, "!#$%&'*+-/=?^_`{|}~@x.y" },
	{ MAIL, "<\"a b>c\"@x.y>", 0, "\"a b>c\"@x.y" },
	{ MAIL, "<\"a\\\"b\"@x.y>", 0, "\"a\\\"b\"@x.y" },
	{ MAIL, "<\"\"@x.y>", 0, "\"\"@x.y" },
	{ MAIL, "<a@[192.0.2.1]>", 0, "a@[192.0.2.1]" },
	{ MAIL, "<a@[IPv6:2001:db8::1]>", 0, "a@[IPv6:2001:db8::1]" },
	{ MAIL, "<a@[ipv6:::1]>", 0, "a@[ipv6:::1]" },
	{ MAIL, "<@r1.example,@r2.example:a@x.y>", 0, "a@x.y" },
	{ MAIL, "<a@x-y.z9>", 0, "a@x-y.z9" },
	{ MAIL, "<a@x.y> SIZE=100 BODY=8BITMIME", 0, "a@x.y" },
	{ MAIL, "<\xc3\xa9@x.y> SMTPUTF8", 0, "\xc3\xa9@x.y" },
	{ MAIL, "<a@\xc3\xa9t\xc3\xa9.example> SMTPUTF8", 0, "a@\xc3\xa9t\xc3\xa9.example" },
	{ MAIL, "<a@x.y> AUTH=<>", 0, "a@x.y" },
	{ MAIL, "<a@x.y> AUTH=user+40x.y", 0, "a@x.y" },
	{ RCPT, "<b@x.y>", 0, "b@x.y" },
	{ RCPT, "<postmaster>", 0, "postmaster" },
	{ RCPT, "<PostMaster>", 0, "PostMaster" },
	{ RCPT, "<Postmaster@x.y>", 0, "Postmaster@x.y" },
	{ RCPT, "<b@x.y> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.y", 0, "b@x.y" },
	{ RCPT8, "<\xe2\x82\xac@x.y>", 0, "\xe2\x82\xac@x.y" },

	/* command syntax */
	{ MAIL, "", 501, "5.5.2" },
	{ MAIL, "a@x.y", 501, "5.5.2" },
	{ MAIL, " <a@x.y>", 501, "5.5.2" },
	{ MAIL, "<a@x.y", 501, "5.5.2" },
	{ MAIL, "<a@x.y>junk", 501, "5.5.2" },
	{ RCPT, "b@x.y", 501, "5.5.2" },
	/* address syntax */
	{ MAIL, "<a>", 501, "5.1.7" },
	{ MAIL, "<postmaster>", 501, "5.1.7" },
	{ MAIL, "<a@>", 501, "5.1.7" },
	{ MAIL, "<@x.y>", 501, "5.1.7" },
	{ MAIL, "<.a@x.y>", 501, "5.1.7" },
	{ MAIL, "<a.@x.y>", 501, "5.1.7" },
	{ MAIL, "<a..b@x.y>", 501, "5.1.7" },
	{ MAIL, "<a b@x.y>", 501, "5.1.7" },
	{ MAIL, "<a@x..y>", 501, "5.1.7" },
	{ MAIL, "<a@x.y.>", 501, "5.1.7" },
	{ MAIL, "<a@-x.y>", 501, "5.1.7" },
	{ MAIL, "<a@x-.y>", 501, "5.1.7" },
	{ MAIL, "<a@x_y.z>", 501, "5.1.7" },
	{ MAIL, "<a@b@x.y>", 501, "5.1.7" },
	{ MAIL, "<\"a\tb\"@x.y>", 501, "5.1.7" },
	{ MAIL, "<\"ab@x.y>", 501, "5.5.2" },
	{ MAIL, "<a@[192.0.2.256]>", 501, "5.1.7" },
	{ MAIL, "<a@[1.2.3]>", 501, "5.1.7" },
	{ MAIL, "<a@[IPv6:1.2.3.4]>", 501, "5.1.7" },
	{ MAIL, "<a@[IPv6:2001:db8:::1]>", 501, "5.1.7" },
	{ MAIL, "<a@[x-tag:whatever]>", 553, "5.1.7" },	/* general literal */
	{ RCPT, "<a@[x-tag:whatever]>", 553, "5.1.2" },
	{ RCPT, "<a@[x-tag:what[ever]>", 501, "5.1.3" },	/* dcontent */
	{ RCPT, "<a@[-tag:x]>", 501, "5.1.3" },
	{ MAIL, "<a@[]>", 501, "5.1.7" },
	{ MAIL, "<@r1:>", 501, "5.1.7" },
	{ MAIL, "<@r1,a@x.y>", 501, "5.1.7" },
	{ MAIL, "<@r1,,@r2:a@x.y>", 501, "5.1.7" },
	{ MAIL, "<@:a@x.y>", 501, "5.1.7" },
	{ RCPT, "<>", 501, "5.1.3" },
	{ RCPT, "<b>", 501, "5.1.3" },
	{ RCPT, "<postmaster@>", 501, "5.1.3" },
	/* UTF-8 */
	{ MAIL, "<\xc3\xa9@x.y>", 553, "5.6.7" },
	{ RCPT, "<\xc3\xa9@x.y>", 553, "5.6.7" },
	{ MAIL, "<\xc0\xa9@x.y> SMTPUTF8", 501, "5.1.7" },	/* overlong */
	{ MAIL, "<\xe0\x80\xaf@x.y> SMTPUTF8", 501, "5.1.7" },	/* overlong */
	{ MAIL, "<\xed\xa0\x80@x.y> SMTPUTF8", 501, "5.1.7" },	/* surrogate */
	{ MAIL, "<\xf4\x90\x80\x80@x.y> SMTPUTF8", 501, "5.1.7" },	/* > 10FFFF */
	{ MAIL, "<\xc3@x.y> SMTPUTF8", 501, "5.1.7" },	/* truncated */
	{ MAIL, "<\xa9@x.y> SMTPUTF8", 501, "5.1.7" },	/* lone continuation */
	{ RCPT8, "<\xff@x.y>", 501, "5.1.3" },
	/* parameters */
	{ MAIL, "<a@x.y> ", 501, "5.5.4" },
	{ MAIL, "<a@x.y>  SIZE=1", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE=1  BODY=7BIT", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE=", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE=12a", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE=-1", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE=18446744073709551616", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE=000000000000000000001", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SIZE=1 size=2", 555, "5.5.4" },
	{ MAIL, "<a@x.y> BODY=BINARYMIME", 555, "5.5.4" },
	{ MAIL, "<a@x.y> BODY=9BIT", 501, "5.5.4" },
	{ MAIL, "<a@x.y> SMTPUTF8=yes", 501, "5.5.4" },
	{ MAIL, "<a@x.y> RET=ALL", 501, "5.5.4" },
	{ MAIL, "<a@x.y> ENVID=a+2", 501, "5.5.4" },
	{ MAIL, "<a@x.y> ENVID=a+2f", 501, "5.5.4" },
	{ MAIL, "<a@x.y> ENVID=a+", 501, "5.5.4" },
	{ MAIL, "<a@x.y> AUTH=a+zz", 501, "5.5.4" },
	{ MAIL, "<a@x.y> FOO=bar", 555, "5.5.4" },
	{ MAIL, "<a@x.y> NOTIFY=NEVER", 555, "5.5.4" },
	{ MAIL, "<a@x.y> -X=1", 501, "5.5.4" },
	{ MAIL, "<a@x.y> =1", 501, "5.5.4" },
	{ MAIL, "<a@x.y> X=a=b", 501, "5.5.4" },
	{ RCPT, "<b@x.y> SIZE=1", 555, "5.5.4" },
	{ RCPT, "<b@x.y> NOTIFY=NEVER,SUCCESS", 501, "5.5.4" },
	{ RCPT, "<b@x.y> NOTIFY=SUCCESS,SUCCESS", 501, "5.5.4" },
	{ RCPT, "<b@x.y> NOTIFY=", 501, "5.5.4" },
	{ RCPT, "<b@x.y> NOTIFY=SUCCESS,", 501, "5.5.4" },
	{ RCPT, "<b@x.y> NOTIFY=DELAY NOTIFY=DELAY", 555, "5.5.4" },
	{ RCPT, "<b@x.y> ORCPT=rfc822", 501, "5.5.4" },
	{ RCPT, "<b@x.y> ORCPT=;b@x.y", 501, "5.5.4" },
	{ RCPT, "<b@x.y> ORCPT=rfc822;", 501, "5.5.4" },
	{ RCPT, "<b@x.y> ORCPT=rfc822;a+4", 501, "5.5.4" },
};

/* Run one case and check it. */
static void run_case(const struct tcase *c)
{
	struct mail_arg a;
	struct mailarg_error e;
	int r;

	if (c->verb == MAIL)
		r = mailarg_parse_mail(c->arg, strlen(c->arg), &a, &e);
	else
		r = mailarg_parse_rcpt(c->arg, strlen(c->arg), c->verb == RCPT8, &a, &e);
	if (c->code == 0) {
		if (r != 0)
			fail_msg("\"%s\": refused %d %s", c->arg, e.code, e.text);
		assert_string_equal(a.path, c->want);
	} else {
		if (r != -1)
			fail_msg("\"%s\": accepted, wanted %d", c->arg, c->code);
		if (e.code != c->code || strncmp(e.text, c->want, strlen(c->want)) != 0)
			fail_msg("\"%s\": got %d %s, wanted %d %s", c->arg, e.code,
			         e.text, c->code, c->want);
		assert_string_equal(a.path, "");
	}
}

static void test_table(void **st)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
}

static void test_mail_fields(void **st)
{
	struct mail_arg a;
	struct mailarg_error e;
	const char *s = "<> size=18446744073709551615 Body=8bitmime SMTPUTF8 RET=hdrs "
	                "ENVID=QQ+2B1 AUTH=x";

	assert_int_equal(mailarg_parse_mail(s, strlen(s), &a, &e), 0);
	assert_true(a.null_path);
	assert_string_equal(a.path, "");
	assert_true(a.has_size);
	assert_true(a.size == UINT64_MAX);
	assert_int_equal(a.body, BODY_8BITMIME);
	assert_true(a.smtputf8);
	assert_string_equal(a.ret, "hdrs");
	assert_string_equal(a.envid, "QQ+2B1");
	assert_string_equal(a.notify, "");
	assert_string_equal(a.orcpt, "");

	s = "<a@x.y>";
	assert_int_equal(mailarg_parse_mail(s, strlen(s), &a, &e), 0);
	assert_false(a.null_path);
	assert_false(a.has_size);
	assert_int_equal(a.body, BODY_7BIT);
	assert_false(a.smtputf8);
	assert_string_equal(a.ret, "");
	assert_string_equal(a.envid, "");
}

static void test_rcpt_fields(void **st)
{
	struct mail_arg a;
	struct mailarg_error e;
	const char *s = "<b@x.y> notify=delay,Failure ORCPT=rfc822;b+40x.y";

	assert_int_equal(mailarg_parse_rcpt(s, strlen(s), 0, &a, &e), 0);
	assert_string_equal(a.notify, "delay,Failure");
	assert_string_equal(a.orcpt, "rfc822;b+40x.y");
	s = "<b@x.y> NOTIFY=never";
	assert_int_equal(mailarg_parse_rcpt(s, strlen(s), 0, &a, &e), 0);
	assert_string_equal(a.notify, "never");
}

/* A path of exactly 256 octets (with <>) passes, 257 does not. */
static void test_path_length(void **st)
{
	char s[400];
	struct mail_arg a;
	struct mailarg_error e;

	/* "<" + 64 local + "@" + domain + ">" */
	memset(s, 'a', sizeof s);
	s[0] = '<';
	s[65] = '@';
	/* domain of labels "bbbbbbbbb." */
	for (size_t i = 66; i < 255; i++)
		s[i] = (i - 66) % 10 == 9 ? '.' : 'b';
	s[254] = 'c';
	s[255] = '>';
	assert_int_equal(mailarg_parse_mail(s, 256, &a, &e), 0);
	assert_int_equal(strlen(a.path), 254);
	s[255] = 'c';
	s[256] = '>';
	assert_int_equal(mailarg_parse_mail(s, 257, &a, &e), -1);
	assert_int_equal(e.code, 501);
	assert_string_equal(e.text, "5.1.7 Sender address too long");
	assert_int_equal(mailarg_parse_rcpt(s, 257, 0, &a, &e), -1);
	assert_string_equal(e.text, "5.1.3 Recipient address too long");
}

/* A local part of 64 octets as sent passes, 65 does not (RFC 5321
 * §4.5.3.1.1), for MAIL and RCPT, dot-string and quoted. */
static void test_local_part_length(void **st)
{
	char s[200];
	struct mail_arg a;
	struct mailarg_error e;

	s[0] = '<';
	memset(s + 1, 'l', 64);
	memcpy(s + 65, "@x.y>", 5);
	assert_int_equal(mailarg_parse_mail(s, 70, &a, &e), 0);
	assert_int_equal(mailarg_parse_rcpt(s, 70, 0, &a, &e), 0);
	memset(s + 1, 'l', 65);
	memcpy(s + 66, "@x.y>", 5);
	assert_int_equal(mailarg_parse_mail(s, 71, &a, &e), -1);
	assert_int_equal(e.code, 501);
	assert_string_equal(e.text, "5.1.7 Sender local part too long");
	assert_string_equal(a.path, "");
	assert_int_equal(mailarg_parse_rcpt(s, 71, 0, &a, &e), -1);
	assert_int_equal(e.code, 501);
	assert_string_equal(e.text, "5.1.3 Recipient local part too long");
	/* quoted: the quotes count */
	s[1] = '"';
	s[64] = '"';
	memcpy(s + 65, "@x.y>", 5);
	assert_int_equal(mailarg_parse_mail(s, 70, &a, &e), 0);
	s[64] = 'l';
	s[65] = '"';
	memcpy(s + 66, "@x.y>", 5);
	assert_int_equal(mailarg_parse_rcpt(s, 71, 0, &a, &e), -1);
	assert_string_equal(e.text, "5.1.3 Recipient local part too long");
}

/* Labels of 63 octets pass, 64 do not. */
static void test_label_length(void **st)
{
	char s[200];
	struct mail_arg a;
	struct mailarg_error e;

	memcpy(s, "<a@", 3);
	memset(s + 3, 'l', 64);
	memcpy(s + 3 + 63, ".org>", 5);
	assert_int_equal(mailarg_parse_mail(s, 3 + 63 + 5, &a, &e), 0);
	memset(s + 3, 'l', 64);
	memcpy(s + 3 + 64, ".org>", 5);
	assert_int_equal(mailarg_parse_mail(s, 3 + 64 + 5, &a, &e), -1);
	assert_int_equal(e.code, 501);
}

/* A NUL anywhere is refused, never truncates the address. */
static void test_nul(void **st)
{
	struct mail_arg a;
	struct mailarg_error e;
	const char s[] = "<a\0b@x.y>";

	assert_int_equal(mailarg_parse_mail(s, sizeof s - 1, &a, &e), -1);
	const char t[] = "<a@x.y> ENVID=a\0";
	assert_int_equal(mailarg_parse_mail(t, sizeof t - 1, &a, &e), -1);
	const char u[] = "<\"a\0\"@x.y>";
	assert_int_equal(mailarg_parse_mail(u, sizeof u - 1, &a, &e), -1);
}

/* ENVID: 100 decoded characters pass, 101 do not. */
static void test_envid_length(void **st)
{
	char s[400];
	struct mail_arg a;
	struct mailarg_error e;
	size_t n = 0;

	memcpy(s, "<> ENVID=", 9);
	n = 9;
	for (int i = 0; i < 99; i++)
		s[n++] = 'e';
	memcpy(s + n, "+41", 3);
	n += 3;
	assert_int_equal(mailarg_parse_mail(s, n, &a, &e), 0);
	assert_int_equal(strlen(a.envid), 102);
	s[n++] = 'e';
	assert_int_equal(mailarg_parse_mail(s, n, &a, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_mail_fields),
		cmocka_unit_test(test_rcpt_fields),
		cmocka_unit_test(test_path_length),
		cmocka_unit_test(test_local_part_length),
		cmocka_unit_test(test_label_length),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_envid_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
