/*
 * test_deliver_reply.c — cmocka units for postern-deliver's pure parts:
 * the SMTP reply parser (deliver/reply.c: grammar, caps, EHLO keywords,
 * sanitizing, enhanced status), dot-stuffing and the terminator
 * (deliver/body.c), routes and job frames (lib/jobchan.c), and the DNS
 * answer parser's null-MX rule (deliver/dns.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../deliver/body.h"
#include "../../deliver/dns.h"
#include "jobchan.h"
#include "netstring.h"
#include "../../deliver/reply.h"

/* Feed a whole buffer line by line; the final state. */
static enum reply_state feed(struct smtp_reply *r, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), ll, used;
	enum reply_state st = REPLY_MORE;

	while (len > 0 && st == REPLY_MORE) {
		if (reply_take_line(p, len, &ll, &used) != 1)
			return REPLY_BAD;
		st = reply_feed_line(r, p, ll);
		p += used;
		len -= used;
	}
	return st;
}

static void test_reply_multiline_and_status(void **state)
{
	struct smtp_reply r;
	char st[REPLY_STATUS_MAX];

	reply_init(&r, NULL);
	assert_int_equal(feed(&r, "550-5.1.1 no such\r\n550 5.1.1 user\x01\r\n"), REPLY_DONE);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.status, "5.1.1");
	assert_string_equal(r.text, "5.1.1 no such 5.1.1 user?");
	reply_init(&r, NULL);
	assert_int_equal(feed(&r, "250\r\n"), REPLY_DONE);
	assert_string_equal(reply_status(&r, st), "2.0.0");
	/* an enhanced code of another class is not believed */
	reply_init(&r, NULL);
	assert_int_equal(feed(&r, "451 5.1.1 odd\r\n"), REPLY_DONE);
	assert_string_equal(reply_status(&r, st), "4.0.0");
	(void)state;
}

static void test_reply_grammar_violations(void **state)
{
	static const char *const bad[] = {
		"25\r\n", "650 x\r\n", "2a0 x\r\n", "250x\r\n", "250-a\r\n251 b\r\n", "\r\n",
	};
	struct smtp_reply r;
	unsigned char big[REPLY_LINE_MAX + 10];
	size_t ll, used;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reply_init(&r, NULL);
		assert_int_equal(feed(&r, bad[i]), REPLY_BAD);
	}
	memset(big, 'a', sizeof(big));
	assert_int_equal(reply_take_line(big, sizeof(big), &ll, &used), -1);
	assert_int_equal(reply_take_line(big, 10, &ll, &used), 0);
	/* total cap */
	reply_init(&r, NULL);
	{
		unsigned char line[900];
		enum reply_state s = REPLY_MORE;
		int n = 0;

		memset(line, 'x', sizeof(line));
		memcpy(line, "250-", 4);
		while (s == REPLY_MORE && n++ < 1000)
			s = reply_feed_line(&r, line, sizeof(line));
		assert_int_equal(s, REPLY_BAD);
		assert_true(r.textlen <= REPLY_TEXT_MAX);
	}
	(void)state;
}

static void test_ehlo_keywords(void **state)
{
	struct smtp_reply r;
	struct ehlo_caps c;

	reply_init(&r, &c);
	assert_int_equal(feed(&r, "250-mx hello\r\n250-pipelining\r\n250-SIZE 1000\r\n"
	                          "250-8BITMIME\r\n250-AUTH=LOGIN\r\n250-AUTH PLAIN\r\n"
	                          "250-STARTTLSX\r\n250 DSN\r\n"), REPLY_DONE);
	assert_true(c.pipelining && c.eightbit && c.dsn && c.auth_plain && c.auth_login);
	assert_false(c.starttls);
	assert_false(c.smtputf8);
	assert_true(c.size_given);
	assert_int_equal(c.size, 1000);
	(void)state;
}

static void test_dot_stuffing(void **state)
{
	struct dotstuff d;
	unsigned char out[64];
	size_t n, en;
	const char *in = ".a\r\nb\r\n..c\r\n.";

	dot_init(&d);
	assert_int_equal(dot_stuff(&d, (const unsigned char *)in, strlen(in), out, sizeof(out), &n), 0);
	assert_int_equal(n, strlen(in) + 3);
	assert_memory_equal(out, "..a\r\nb\r\n...c\r\n..", n);
	assert_string_equal(dot_end(&d, &en), "\r\n.\r\n");
	dot_init(&d);
	assert_string_equal(dot_end(&d, &en), ".\r\n");
	assert_int_equal(dot_stuff(&d, (const unsigned char *)"x\r\n", 3, out, sizeof(out), &n), 0);
	assert_string_equal(dot_end(&d, &en), ".\r\n");
	(void)state;
}

/* Stuff the pieces in turn: their joined output, or -1 at the first
 * refusal. */
static int stuff_pieces(struct dotstuff *d, const char *const *pieces, size_t np,
                        unsigned char *out, size_t cap, size_t *total)
{
	*total = 0;
	for (size_t i = 0; i < np; i++) {
		size_t n, len = strlen(pieces[i]);

		if (dot_stuff(d, (const unsigned char *)pieces[i], len, out + *total,
		              cap - *total, &n) != 0) {
			assert_int_equal(n, 0);
			return -1;
		}
		*total += n;
	}
	return 0;
}

/* A bare CR, a bare LF or a NUL is never written out: the stuffer
 * refuses it, whole or split between pieces, and a refused stuffer
 * gives no terminator.  A CRLF split between pieces is fine. */
static void test_dot_stuffing_refuses_bare_cr_lf(void **state)
{
	static const char *const cr_dot_cr[] = { "a\r\n\r.\r\nMAIL FROM:<x@y>\r\n" };
	static const char *const split_cr[] = { "a\r", ".\r\nb\r\n" };
	static const char *const split_lf[] = { "a", "\n.\n" };
	static const char *const lf_after_crlf[] = { "a\r\n", "\n" };
	static const char *const split_crlf[] = { "a\r", "\n.", "b\r", "\n" };
	struct dotstuff d;
	unsigned char out[256];
	size_t n, en;

	dot_init(&d);
	assert_int_equal(stuff_pieces(&d, cr_dot_cr, 1, out, sizeof(out), &n), -1);
	assert_null(dot_end(&d, &en));
	/* the CR that ended the first piece was held back, never written */
	dot_init(&d);
	assert_int_equal(stuff_pieces(&d, split_cr, 1, out, sizeof(out), &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(out, "a", 1);
	assert_null(dot_end(&d, &en));	/* a message ending in a bare CR */
	assert_int_equal(stuff_pieces(&d, split_cr + 1, 1, out, sizeof(out), &n), -1);
	assert_null(dot_end(&d, &en));
	/* refused once, refused for good */
	assert_int_equal(dot_stuff(&d, (const unsigned char *)"ok\r\n", 4, out, sizeof(out), &n), -1);
	dot_init(&d);
	assert_int_equal(stuff_pieces(&d, split_lf, 2, out, sizeof(out), &n), -1);
	dot_init(&d);
	assert_int_equal(stuff_pieces(&d, lf_after_crlf, 2, out, sizeof(out), &n), -1);
	dot_init(&d);
	assert_int_equal(dot_stuff(&d, (const unsigned char *)"a\0b\r\n", 5, out, sizeof(out), &n), -1);
	dot_init(&d);
	assert_int_equal(stuff_pieces(&d, split_crlf, 4, out, sizeof(out), &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "a\r\n..b\r\n", 8);
	assert_string_equal(dot_end(&d, &en), ".\r\n");
	/* cap under 2n is refused before anything is looked at */
	dot_init(&d);
	assert_int_equal(dot_stuff(&d, (const unsigned char *)"abc", 3, out, 5, &n), -1);
	(void)state;
}

/* route_parse of a C string. */
static int rp(struct route *r, const char *s)
{
	return route_parse(r, (const unsigned char *)s, strlen(s));
}

static void test_routes(void **state)
{
	struct route r;

	assert_int_equal(rp(&r, "mx"), 0);
	assert_false(r.relay);
	assert_int_equal(rp(&r, "relay:smtp.example:587 tls=verify auth=isp"), 0);
	assert_true(r.relay);
	assert_string_equal(r.host, "smtp.example");
	assert_int_equal(r.port, 587);
	assert_int_equal(r.tls, TLS_VERIFY);
	assert_string_equal(r.auth, "isp");
	assert_int_equal(rp(&r, "relay:[::1]:25"), 0);
	assert_string_equal(r.host, "::1");
	assert_int_equal(rp(&r, "relay:h:0"), -1);
	assert_int_equal(rp(&r, "mx tls=maybe"), -1);
	assert_int_equal(rp(&r, "maildir"), -1);
	(void)state;
}

static void test_job_frame(void **state)
{
	static struct job j;
	unsigned char buf[1024];
	struct frame_writer w;
	const unsigned char *f, *payload;
	size_t n, plen, used;

	fw_init(&w, buf, sizeof(buf));
	fw_str(&w, "job");
	fw_u64(&w, 7);
	fw_str(&w, "mx");
	fw_str(&w, "dest.test");
	fw_str(&w, "");
	fw_str(&w, "a@src.test");
	fw_str(&w, "full");
	fw_str(&w, "ID1");
	fw_str(&w, "Received: x\r\n");
	fw_u64(&w, 2);
	fw_str(&w, "b@dest.test");
	fw_str(&w, "NEVER");
	fw_str(&w, "");
	fw_str(&w, "c@dest.test>\r\nRSET");
	fw_str(&w, "");
	fw_str(&w, "");
	f = fw_finish(&w, &n);
	assert_non_null(f);
	assert_int_equal(netstring_parse(f, n, sizeof(buf), &payload, &plen, &used), NS_OK);
	assert_int_equal(job_parse(&j, payload, plen), 0);
	assert_int_equal(j.id, 7);
	assert_int_equal(j.nrcpt, 2);
	assert_true(j.sender_valid);
	assert_true(j.rcpt[0].valid);
	assert_false(j.rcpt[1].valid);
	/* one byte short: refused */
	assert_int_equal(job_parse(&j, payload, plen - 1), -1);
	(void)state;
}

static void test_null_mx(void **state)
{
	/* header: id, flags (response), 1 question, 1 answer */
	static const unsigned char ans[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'n', 4, 't', 'e', 's', 't', 0, 0, 15, 0, 1,
		0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 3, 0, 0, 0,
	};
	char hosts[2][JOB_HOST_MAX + 1];
	unsigned prefs[2];
	int nullmx = 0;

	assert_int_equal(dns_parse_mx(ans, sizeof(ans), hosts, prefs, 2, &nullmx), 0);
	assert_int_equal(nullmx, 1);
	assert_int_equal(dns_parse_mx(ans, sizeof(ans) - 2, hosts, prefs, 2, &nullmx), -1);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_multiline_and_status),
		cmocka_unit_test(test_reply_grammar_violations),
		cmocka_unit_test(test_ehlo_keywords),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_dot_stuffing_refuses_bare_cr_lf),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_job_frame),
		cmocka_unit_test(test_null_mx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
