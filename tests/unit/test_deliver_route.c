/*
 * test_deliver_route.c — unit tests of deliver/route.c: the worker reads a
 * job's route with lib/routespec.c, takes only mx and relay, and refuses
 * everything the table builder would refuse (fail closed), including
 * forms its own parser used to let through (options on mx, an option
 * twice, a non-address in [], a malformed host name, an over-long route).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../deliver/route.h"
#include "routespec.h"

/* The worker's parse of a NUL-terminated route. */
static int rp(struct route *r, const char *text)
{
	size_t n = strlen(text);

	return route_parse(r, (const unsigned char *)text, n);
}

/* mx and relay with their fields, mapped from routespec's (the forms
 * test_deliver_reply.c reads are not repeated here). */
static void test_accepted(void **state)
{
	struct route r;

	assert_int_equal(rp(&r, "relay:127.0.0.1:2525 tls=required"), 0);
	assert_true(r.relay);
	assert_string_equal(r.host, "127.0.0.1");
	assert_int_equal(r.port, 2525);
	assert_int_equal(r.tls, TLS_REQUIRED);
	assert_string_equal(r.auth, "");
	assert_int_equal(rp(&r, "relay:[::1]:25 auth=corp tls=opportunistic"), 0);
	assert_string_equal(r.host, "::1");
	assert_int_equal(r.tls, TLS_OPPORTUNISTIC);
	assert_string_equal(r.auth, "corp");
	/* a relay's fields do not leak into the next parse */
	assert_int_equal(rp(&r, "mx"), 0);
	assert_false(r.relay);
	assert_int_equal(r.port, 25);
	assert_string_equal(r.host, "");
	assert_string_equal(r.auth, "");
	(void)state;
}

/* Every route routespec refuses, and maildir routes, are refused. */
static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "MX", "mx ", "mx tls=verify", "mx auth=x", "maildir", "maildir:/var/mail/x",
		"relay:", "relay:host", "relay:host:", "relay::25", "relay:host:0",
		"relay:host:65536", "relay:host:25x", "relay:::1:25", "relay:[::1]25",
		"relay:[nothost]:25", "relay:[a.b]:25", "relay:[::1:25", "relay:-bad-.example:25",
		"relay:a..b:25", "relay:host:25 ", "relay:host:25  tls=verify",
		"relay:host:25\ttls=verify", "relay:host:25 tls=maybe",
		"relay:host:25 tls=verify tls=required", "relay:host:25 auth=a auth=b",
		"relay:host:25 auth=", "relay:host:25 user=x", "smtp:host:25",
	};
	struct route r;
	struct routespec rs;
	const char *why;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (rp(&r, bad[i]) == 0)
			fail_msg("worker accepted: \"%s\"", bad[i]);
	}
	/* a NUL inside the route is not the end of it */
	assert_int_equal(route_parse(&r, (const unsigned char *)"mx\0x", 4), -1);
	/* maildir is refused by the worker although routespec accepts it */
	assert_int_equal(routespec_parse("maildir:/var/mail/x", 19, &rs, &why), 0);
	(void)state;
}

/* Append s to buf at *n. */
static void put(char *buf, size_t *n, const char *s)
{
	memcpy(buf + *n, s, strlen(s) + 1);
	*n += strlen(s);
}

/* auth NAME at most 128 bytes; a route over ROUTESPEC_VALUE_MAX bytes is
 * refused even when each part is in its limits. */
static void test_length(void **state)
{
	char buf[ROUTESPEC_VALUE_MAX + 64], label[62], auth[129];
	struct route r;
	size_t n = 0;

	memset(label, 'a', 61);
	label[61] = '\0';
	memset(auth, 'n', 128);
	auth[128] = '\0';
	put(buf, &n, "relay:");
	for (int i = 0; i < 4; i++) {
		put(buf, &n, label);
		put(buf, &n, i < 3 ? "." : ":25 auth=");
	}
	put(buf, &n, auth);
	assert_true(n <= ROUTESPEC_VALUE_MAX);
	assert_int_equal(rp(&r, buf), 0);
	assert_int_equal(strlen(r.host), 4 * 61 + 3);
	assert_int_equal(strlen(r.auth), 128);
	put(buf, &n, "n");
	assert_int_equal(rp(&r, buf), -1);	/* auth of 129 */
	buf[--n] = '\0';
	put(buf, &n, " tls=opportunistic");
	assert_true(n > ROUTESPEC_VALUE_MAX);
	assert_int_equal(rp(&r, buf), -1);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
