/*
 * test_routespec.c — unit tests of lib/routespec.c: every route form with
 * its fields, options once each, the maildir path rules, lengths, and the
 * key rules (lower case, "*", no trailing dot).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "routespec.h"

/* routespec_parse on a C string; 0 or -1. */
static int parse(const char *s, struct routespec *r)
{
	const char *why = NULL;
	int rc = routespec_parse(s, strlen(s), r, &why);

	if (rc != 0)
		assert_non_null(why);
	return rc;
}

/* A route that must be refused. */
static void bad(const char *s)
{
	struct routespec r;

	if (parse(s, &r) == 0)
		fail_msg("accepted: \"%s\"", s);
}

/* mx and the relay forms with their fields. */
static void test_mx_relay(void **state)
{
	struct routespec r;

	assert_int_equal(parse("mx", &r), 0);
	assert_int_equal(r.kind, ROUTE_MX);
	assert_int_equal(parse("relay:smtp.example.org:587", &r), 0);
	assert_int_equal(r.kind, ROUTE_RELAY);
	assert_string_equal(r.host, "smtp.example.org");
	assert_int_equal(r.port, 587);
	assert_int_equal(r.tls, ROUTE_TLS_OPPORTUNISTIC);
	assert_string_equal(r.auth, "");
	assert_int_equal(parse("relay:127.0.0.1:2525 tls=verify auth=corp", &r), 0);
	assert_string_equal(r.host, "127.0.0.1");
	assert_int_equal(r.tls, ROUTE_TLS_VERIFY);
	assert_string_equal(r.auth, "corp");
	assert_int_equal(parse("relay:[::1]:25 auth=x tls=required", &r), 0);
	assert_string_equal(r.host, "::1");
	assert_int_equal(r.port, 25);
	assert_int_equal(r.tls, ROUTE_TLS_REQUIRED);
	assert_int_equal(parse("relay:h:1 tls=opportunistic", &r), 0);
	bad("");
	bad("MX");
	bad("mx ");
	bad("mx tls=verify");
	bad("relay:");
	bad("relay:host");
	bad("relay:host:");
	bad("relay::25");
	bad("relay:host:0");
	bad("relay:host:65536");
	bad("relay:host:025");
	bad("relay:host:25x");
	bad("relay:::1:25");
	bad("relay:[::1]25");
	bad("relay:[nothost]:25");
	bad("relay:[::1:25");
	bad("relay:-bad-.example:25");
	bad("relay:host:25 ");
	bad("relay:host:25  tls=verify");
	bad("relay:host:25\ttls=verify");
	bad("relay:host:25 tls=maybe");
	bad("relay:host:25 tls=verify tls=required");
	bad("relay:host:25 auth=a auth=b");
	bad("relay:host:25 auth=");
	bad("relay:host:25 user=x");
	bad("smtp:host:25");
}

/* auth NAME length limit. */
static void test_auth_length(void **state)
{
	char buf[200];
	struct routespec r;

	memcpy(buf, "relay:h:25 auth=", 16);
	memset(buf + 16, 'n', 128);
	buf[16 + 128] = '\0';
	assert_int_equal(parse(buf, &r), 0);
	assert_int_equal(strlen(r.auth), 128);
	buf[16 + 128] = 'n';
	buf[16 + 129] = '\0';
	bad(buf);
}

/* maildir paths. */
static void test_maildir(void **state)
{
	struct routespec r;
	char buf[ROUTESPEC_VALUE_MAX + 8];

	assert_int_equal(parse("maildir:/var/mail/outbox", &r), 0);
	assert_int_equal(r.kind, ROUTE_MAILDIR);
	assert_string_equal(r.path, "/var/mail/outbox");
	assert_int_equal(parse("maildir:/m", &r), 0);
	bad("maildir:");
	bad("maildir:/");
	bad("maildir:relative/box");
	bad("maildir://box");
	bad("maildir:/var//box");
	bad("maildir:/var/box/");
	bad("maildir:/var/../etc");
	bad("maildir:/var/./box");
	bad("maildir:/..");
	bad("maildir:/var/my box");
	bad("maildir:/var/box\x7f");
	/* the whole value at most 400 bytes (it travels in a `worker` frame) */
	memcpy(buf, "maildir:/", 9);
	memset(buf + 9, 'a', ROUTESPEC_VALUE_MAX - 9);
	buf[ROUTESPEC_VALUE_MAX] = '\0';
	assert_int_equal(parse(buf, &r), 0);
	assert_int_equal(strlen(r.path), ROUTESPEC_PATH_MAX);
	buf[ROUTESPEC_VALUE_MAX] = 'a';
	buf[ROUTESPEC_VALUE_MAX + 1] = '\0';
	bad(buf);
}

/* Length is explicit: a NUL inside the value is not an end. */
static void test_embedded_nul(void **state)
{
	struct routespec r;
	const char *why;

	assert_int_equal(routespec_parse("mx\0x", 4, &r, &why), -1);
	assert_int_equal(routespec_parse("maildir:/a\0b", 12, &r, &why), -1);
	assert_int_equal(routespec_parse("mxyz", 2, &r, &why), 0);
}

/* Keys: "*" or a lower-case domain. */
static void test_keys(void **state)
{
	const char *why;

	assert_int_equal(routespec_key_ok("*", 1, &why), 0);
	assert_int_equal(routespec_key_ok("example.org", 11, &why), 0);
	assert_int_equal(routespec_key_ok("localhost", 9, &why), 0);
	assert_int_equal(routespec_key_ok("Example.org", 11, &why), -1);
	assert_int_equal(routespec_key_ok("example.org.", 12, &why), -1);
	assert_int_equal(routespec_key_ok("*.example.org", 13, &why), -1);
	assert_int_equal(routespec_key_ok("**", 2, &why), -1);
	assert_int_equal(routespec_key_ok("a@b", 3, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_relay),
		cmocka_unit_test(test_auth_length),
		cmocka_unit_test(test_maildir),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
