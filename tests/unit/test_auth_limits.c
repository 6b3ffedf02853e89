/*
 * test_auth_limits.c — postern-authd's failure limits (auth/limits.h) and
 * success cache (auth/cache.h): delays grow then cap, refusal comes per
 * IP only, the per-login limit never locks the login out from another
 * address, a success clears its pair, the window forgets, IPv6 counts
 * per /64; the cache hits only for the same login, password and hash,
 * expires, and is off with ttl 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "../../auth/cache.h"
#include "../../auth/limits.h"

static struct limits lim;
static const struct fail_policy pol = { 3, 8, 2, 8000, 60000 };

static int setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	faillim_init(&lim, &pol);
	return 0;
}

/* Fail n times from ip as login at time t. */
static void fail_n(const char *ip, const char *login, int n, uint64_t t)
{
	for (int i = 0; i < n; i++)
		faillim_fail(&lim, ip, login, t);
}

static void test_ip_delays_then_refusal(void **state)
{
	(void)state;
	/* Different logins: only the IP count grows. */
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "a@x.org", 1000), 0);
	faillim_fail(&lim, "192.0.2.1", "a@x.org", 1000);
	faillim_fail(&lim, "192.0.2.1", "b@x.org", 1000);
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "c@x.org", 1000), 0);
	faillim_fail(&lim, "192.0.2.1", "c@x.org", 1000);          /* 3 */
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "d@x.org", 1000), 1000);
	faillim_fail(&lim, "192.0.2.1", "d@x.org", 1000);          /* 4 */
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "e@x.org", 1000), 2000);
	faillim_fail(&lim, "192.0.2.1", "e@x.org", 1000);          /* 5 */
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "f@x.org", 1000), 4000);
	fail_n("192.0.2.1", "f@x.org", 1, 1000);                   /* 6 */
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "g@x.org", 1000), 8000);
	fail_n("192.0.2.1", "g@x.org", 1, 1000);                   /* 7: capped */
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "h@x.org", 1000), 8000);
	fail_n("192.0.2.1", "h@x.org", 1, 1000);                   /* 8 */
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "h@x.org", 1000), -1);
	/* Another address is not affected; the window forgets. */
	assert_int_equal(faillim_check(&lim, "192.0.2.2", "h@x.org", 1000), 0);
	assert_int_equal(faillim_check(&lim, "192.0.2.1", "h@x.org", 1000 + 60000), 0);
}

static void test_login_limit_only_slows_one_ip(void **state)
{
	(void)state;
	fail_n("198.51.100.7", "victim@x.org", 2, 5000);
	assert_int_equal(faillim_check(&lim, "198.51.100.7", "victim@x.org", 5000), 1000);
	fail_n("198.51.100.7", "victim@x.org", 6, 5000);
	/* The attacker's IP is refused; the victim elsewhere is not slowed. */
	assert_int_equal(faillim_check(&lim, "198.51.100.7", "victim@x.org", 5000), -1);
	assert_int_equal(faillim_check(&lim, "203.0.113.9", "victim@x.org", 5000), 0);
}

static void test_success_clears_pair_not_ip(void **state)
{
	(void)state;
	fail_n("192.0.2.50", "u@x.org", 2, 7000);
	assert_int_equal(faillim_check(&lim, "192.0.2.50", "u@x.org", 7000), 1000);
	faillim_success(&lim, "192.0.2.50", "u@x.org", 7000);
	assert_int_equal(faillim_check(&lim, "192.0.2.50", "u@x.org", 7000), 0);
	fail_n("192.0.2.50", "v@x.org", 6, 7000);
	faillim_success(&lim, "192.0.2.50", "u@x.org", 7000);
	assert_int_equal(faillim_check(&lim, "192.0.2.50", "u@x.org", 7000), -1);
}

static void test_ipv6_counts_per_64(void **state)
{
	(void)state;
	fail_n("2001:db8:1:2::1", "a@x.org", 4, 9000);
	fail_n("2001:db8:1:2:ffff::9", "b@x.org", 4, 9000);
	assert_int_equal(faillim_check(&lim, "2001:db8:1:2::77", "c@x.org", 9000), -1);
	assert_int_equal(faillim_check(&lim, "2001:db8:1:3::1", "c@x.org", 9000), 0);
}

static void test_cache(void **state)
{
	static struct auth_cache c;
	unsigned char d1[CACHE_DIGEST], d2[CACHE_DIGEST], d3[CACHE_DIGEST];

	(void)state;
	cache_init(&c, 300000);
	cache_digest(&c, "a@x.org", "pw", 2, "$argon2id$h1", 12, d1);
	cache_digest(&c, "a@x.org", "pw", 2, "$argon2id$h2", 12, d2);  /* new hash */
	cache_digest(&c, "a@x.org", "pX", 2, "$argon2id$h1", 12, d3);  /* other pw */
	assert_false(cache_hit(&c, d1, 10));
	cache_put(&c, d1, 10);
	assert_true(cache_hit(&c, d1, 10));
	assert_false(cache_hit(&c, d2, 10));
	assert_false(cache_hit(&c, d3, 10));
	assert_false(cache_hit(&c, d1, 10 + 300000));                  /* expired */
	cache_init(&c, 0);
	cache_put(&c, d1, 10);
	assert_false(cache_hit(&c, d1, 10));                           /* disabled */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ip_delays_then_refusal, setup),
		cmocka_unit_test_setup(test_login_limit_only_slows_one_ip, setup),
		cmocka_unit_test_setup(test_success_clears_pair_not_ip, setup),
		cmocka_unit_test_setup(test_ipv6_counts_per_64, setup),
		cmocka_unit_test_setup(test_cache, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
