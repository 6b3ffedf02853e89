/*
 * test_queue_envelope.c — the envelope CDB (queue/envelope.h): what the
 * writer puts in, the reader gets back field for field; the reader fails
 * closed on a missing field, a wrong version, a bad number, a repeated
 * single key and on bytes that are not a CDB at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "memcdb.h"
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../queue/envelope.h"

static int memfd(void)
{
	int fd = memfd_create("env", 0);

	assert_true(fd >= 0);
	return fd;
}

static unsigned char rcpts[1024];
static size_t rcpt_len;

static void fill(struct envelope_in *e)
{
	memset(e, 0, sizeof *e);
	rcpt_len = 0;
	assert_int_equal(envelope_rcpt_encode(rcpts, sizeof rcpts, &rcpt_len, "bob@example.net",
	                                      "SUCCESS,FAILURE", "rfc822;bob@example.net"), 0);
	assert_int_equal(envelope_rcpt_encode(rcpts, sizeof rcpts, &rcpt_len, "carol@example.com",
	                                      "", ""), 0);
	e->id = "abcdefghijklmnopqrst";
	e->sender = "alice@example.org";
	e->user = "alice@example.org";
	e->session = "zzzzzzzzzzzzzzzzzzzz";
	e->ip = "192.0.2.1";
	e->mode = "plain";
	e->port = 4321;
	e->time = 1700000000;
	e->size = 12345;
	e->body = "8bitmime";
	e->ret = "hdrs";
	e->envid = "ENV+2BID";
	e->smtputf8 = 1;
	e->rcpts = rcpts;
	e->rcpt_len = rcpt_len;
	e->header = "Received: by x (postern) with ESMTPA id abcdefghijklmnopqrst;\r\n\tdate\r\n";
	e->header_len = strlen(e->header);
}

static int eqf(const struct env_field *f, const char *s)
{
	return f->n == strlen(s) && memcmp(f->p, s, f->n) == 0;
}

struct seen {
	int n;
	char first[64];
};

static int rcpt_cb(void *ctx, const struct env_field *a, const struct env_field *nt,
                   const struct env_field *o)
{
	struct seen *s = ctx;

	if (s->n++ == 0) {
		memcpy(s->first, a->p, a->n);
		s->first[a->n] = '\0';
		assert_true(eqf(nt, "SUCCESS,FAILURE"));
		assert_true(eqf(o, "rfc822;bob@example.net"));
	}
	return 0;
}

static void test_roundtrip(void **state)
{
	struct envelope_in in;
	struct envelope e;
	struct seen s = { 0 };
	int fd = memfd();

	(void)state;
	fill(&in);
	assert_int_equal(envelope_write(fd, &in), 0);
	assert_int_equal(envelope_load(&e, fd), 0);
	assert_true(eqf(&e.id, "abcdefghijklmnopqrst"));
	assert_true(eqf(&e.sender, "alice@example.org"));
	assert_true(eqf(&e.user, "alice@example.org"));
	assert_true(eqf(&e.ip, "192.0.2.1"));
	assert_true(eqf(&e.body, "8bitmime"));
	assert_true(eqf(&e.ret, "hdrs"));
	assert_true(eqf(&e.smtputf8, "1"));
	assert_true(eqf(&e.header, in.header));
	assert_int_equal(e.size_v, 12345);
	assert_int_equal(e.time_v, 1700000000);
	assert_int_equal(e.nrcpt, 2);
	assert_int_equal(envelope_rcpts(&e, rcpt_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.first, "bob@example.net");
	envelope_free(&e);
	close(fd);
}

#define GOOD "version", "1", "id", "abcdefghijklmnopqrst", "sender", "", \
	"user", "u@example.org", "session", "zzzzzzzzzzzzzzzzzzzz", "ip", "::1", \
	"port", "25", "mode", "plain", "time", "1", "size", "0", "body", "7bit", \
	"smtputf8", "0", "ret", "", "envid", "", "header", "Received: x\r\n"

static void expect(int ok, const char *const *kv, size_t n)
{
	struct envelope e;
	int fd = memcdb("env", kv, n);

	assert_int_equal(envelope_load(&e, fd), ok ? 0 : -1);
	if (ok)
		envelope_free(&e);
	close(fd);
}

static void test_reader_fails_closed(void **state)
{
	static const char *const good[] = { GOOD, "rcpt", "3:a@b,0:,0:," };
	static const char *const norcpt[] = { GOOD };
	static const char *const badver[] = { "version", "2", "id", "abcdefghijklmnopqrst",
		"rcpt", "3:a@b,0:,0:," };
	static const char *const twice[] = { GOOD, "sender", "x@y", "rcpt", "3:a@b,0:,0:," };
	static const char *const badrcpt[] = { GOOD, "rcpt", "3:a@b,0:," };
	static const char *const trailing[] = { GOOD, "rcpt", "3:a@b,0:,0:,x" };
	static const char *const ctl[] = { GOOD, "rcpt", "3:a\nb,0:,0:," };
	(void)state;
	expect(1, good, sizeof good / sizeof good[0]);
	expect(0, norcpt, sizeof norcpt / sizeof norcpt[0]);
	expect(0, badver, sizeof badver / sizeof badver[0]);
	expect(0, twice, sizeof twice / sizeof twice[0]);
	expect(0, badrcpt, sizeof badrcpt / sizeof badrcpt[0]);
	expect(0, trailing, sizeof trailing / sizeof trailing[0]);
	expect(0, ctl, sizeof ctl / sizeof ctl[0]);
}

static void test_not_a_cdb(void **state)
{
	struct envelope e;
	int fd = memfd();

	(void)state;
	assert_int_equal(write(fd, "garbage", 7), 7);
	assert_int_equal(envelope_load(&e, fd), -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_reader_fails_closed),
		cmocka_unit_test(test_not_a_cdb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
