/*
 * test_auth_request.c — postern-authd's frame readers: the `auth` frame
 * from smtpd (auth/request.c) and login syntax (auth/login.c); the
 * master's control frames are lib/ctlchan.c's (test_ctlchan.c).  Fail
 * closed on every deviation; the password is wiped whenever a request is
 * refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../auth/login.h"
#include "../../auth/request.h"
#include "netstring.h"

/* Payload of a frame with the NUL-terminated fields (NULL ends). */
static size_t payload(unsigned char *out, size_t cap, const char *const *f)
{
	unsigned char buf[4096];
	struct frame_writer w;
	const unsigned char *fr, *p;
	size_t n, plen, used;

	fw_init(&w, buf, sizeof(buf));
	for (; *f != NULL; f++)
		fw_str(&w, *f);
	fr = fw_finish(&w, &n);
	assert_non_null(fr);
	assert_int_equal(netstring_parse(fr, n, sizeof(buf), &p, &plen, &used), NS_OK);
	assert_true(plen <= cap);
	memcpy(out, p, plen);
	return plen;
}

/* Parse a request made of fields. */
static enum req_result req(const char *const *f, struct auth_request *r)
{
	unsigned char p[4096];
	size_t n = payload(p, sizeof(p), f);

	return auth_request_parse(p, n, r);
}

static void test_request_ok(void **state)
{
	struct auth_request r;
	const char *const a[] = { "auth", "plain", "", "Alice@Example.ORG", "pw x", NULL };
	const char *const b[] = { "auth", "login", "alice@example.org", "alice@EXAMPLE.org",
	                          "pw", NULL };

	(void)state;
	assert_int_equal(req(a, &r), REQ_OK);
	assert_string_equal(r.mech, "plain");
	assert_string_equal(r.login, "Alice@example.org");
	assert_string_equal(r.password, "pw x");
	assert_int_equal(r.password_len, 4);
	assert_int_equal(req(b, &r), REQ_OK);
}

static void test_request_refused(void **state)
{
	struct auth_request r;
	const char *const authz[] = { "auth", "plain", "bob@example.org", "alice@example.org",
	                              "pw", NULL };
	const char *const badlogin[] = { "auth", "plain", "", "alice", "pw", NULL };
	const char *const mech[] = { "auth", "cram-md5", "", "a@b.org", "pw", NULL };
	const char *const verb[] = { "mail", "plain", "", "a@b.org", "pw", NULL };
	const char *const extra[] = { "auth", "plain", "", "a@b.org", "pw", "x", NULL };
	const char *const shortf[] = { "auth", "plain", "", "a@b.org", NULL };
	const char *const nopw[] = { "auth", "plain", "", "a@b.org", "", NULL };

	(void)state;
	assert_int_equal(req(authz, &r), REQ_AUTHZID);
	assert_int_equal(r.password_len, 0);
	assert_int_equal(r.password[0], 0);
	assert_int_equal(req(badlogin, &r), REQ_BAD_LOGIN);
	assert_int_equal(r.password[0], 0);
	assert_int_equal(req(mech, &r), REQ_MALFORMED);
	assert_int_equal(req(verb, &r), REQ_MALFORMED);
	assert_int_equal(req(extra, &r), REQ_MALFORMED);
	assert_int_equal(req(shortf, &r), REQ_MALFORMED);
	assert_int_equal(req(nopw, &r), REQ_MALFORMED);
	assert_int_equal(auth_request_parse((const unsigned char *)"4:auth", 6, &r), REQ_MALFORMED);
}

static void test_login_syntax(void **state)
{
	char out[LOGIN_MAX + 1];
	static const char *const good[] = { "a@b.org", "first.last+tag@mail.example.COM",
	                                    "demo@localhost", "x!#$%&'*/=?^_`{|}~-@a-b.c", NULL };
	static const char *const bad[] = { "", "a", "@b.org", "a@", "a..b@c.org", ".a@c.org",
	                                   "a.@c.org", "a b@c.org", "a@-c.org", "a@c-.org",
	                                   "a@c..org", "\"q\"@c.org", "a@[127.0.0.1]",
	                                   "a@b@c.org", "\xc3\xa9@c.org", NULL };
	char longlocal[80];

	(void)state;
	for (int i = 0; good[i]; i++)
		assert_int_equal(login_normalize(good[i], strlen(good[i]), out), 0);
	assert_string_equal(out, "x!#$%&'*/=?^_`{|}~-@a-b.c");
	login_normalize("A.B@EX.Org", 10, out);
	assert_string_equal(out, "A.B@ex.org");
	for (int i = 0; bad[i]; i++)
		assert_int_equal(login_normalize(bad[i], strlen(bad[i]), out), -1);
	memset(longlocal, 'a', 65);
	memcpy(longlocal + 65, "@b.org", 7);
	assert_int_equal(login_normalize(longlocal, strlen(longlocal), out), -1);
	assert_int_equal(login_normalize("a\0b@c.org", 9, out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_login_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
