/*
 * test_ticketkeys.c — the master's TLS 1.3 ticket-key rotation
 * (master/ticketkeys.c): a key is current for one period, then previous
 * for one more, then gone; idle for two periods, nothing old survives;
 * period 0 hands out no key and wipes the ring; the keys a tlsd gets
 * survive the `keys` frame (lib/tlsfacts.h) unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "../../master/ticketkeys.h"

#define HOUR 3600u
#define MS(s) ((uint64_t)(s) * 1000u)

static int setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	return 0;
}

/* 1 if the key is all zero bytes. */
static int zero(const unsigned char *k)
{
	static const unsigned char z[TLS_TICKET_KEY_LEN];

	return memcmp(k, z, TLS_TICKET_KEY_LEN) == 0;
}

static void test_first_key_then_stable(void **state)
{
	struct ticket_keyring r;
	struct tls_ticket_keys a, b;

	(void)state;
	ticketkeys_init(&r);
	ticketkeys_get(&r, MS(100), HOUR, &a);
	assert_int_equal(a.n, 1);
	assert_false(zero(a.key[0]));
	ticketkeys_get(&r, MS(100 + HOUR - 1), HOUR, &b);
	assert_int_equal(b.n, 1);
	assert_memory_equal(a.key[0], b.key[0], TLS_TICKET_KEY_LEN);
}

static void test_rotation_keeps_previous(void **state)
{
	struct ticket_keyring r;
	struct tls_ticket_keys a, b, c;

	(void)state;
	ticketkeys_init(&r);
	ticketkeys_get(&r, MS(0), HOUR, &a);
	ticketkeys_get(&r, MS(HOUR), HOUR, &b);
	assert_int_equal(b.n, 2);
	assert_memory_not_equal(b.key[0], a.key[0], TLS_TICKET_KEY_LEN);
	assert_memory_equal(b.key[1], a.key[0], TLS_TICKET_KEY_LEN);
	/* The key names differ too: tlsd picks the key by name. */
	assert_memory_not_equal(b.key[0], b.key[1], TLS_TICKET_NAME_LEN);
	ticketkeys_get(&r, MS(2 * HOUR + 10), HOUR, &c);
	assert_int_equal(c.n, 2);
	assert_memory_equal(c.key[1], b.key[0], TLS_TICKET_KEY_LEN);
	/* The first key is gone for good. */
	assert_memory_not_equal(c.key[0], a.key[0], TLS_TICKET_KEY_LEN);
	assert_memory_not_equal(c.key[1], a.key[0], TLS_TICKET_KEY_LEN);
}

static void test_idle_two_periods_drops_old(void **state)
{
	struct ticket_keyring r;
	struct tls_ticket_keys a, b;

	(void)state;
	ticketkeys_init(&r);
	ticketkeys_get(&r, MS(0), HOUR, &a);
	ticketkeys_get(&r, MS(2 * HOUR), HOUR, &b);
	assert_int_equal(b.n, 1);
	assert_memory_not_equal(b.key[0], a.key[0], TLS_TICKET_KEY_LEN);
	assert_true(zero(r.k.key[1]));
}

static void test_period_zero_is_off(void **state)
{
	struct ticket_keyring r;
	struct tls_ticket_keys a, b;

	(void)state;
	ticketkeys_init(&r);
	ticketkeys_get(&r, MS(0), HOUR, &a);
	ticketkeys_get(&r, MS(1), 0, &b);
	assert_int_equal(b.n, 0);
	assert_true(zero(b.key[0]) && zero(b.key[1]));
	assert_true(zero(r.k.key[0]) && zero(r.k.key[1]));
	/* Turned on again: a fresh key, not the old one. */
	ticketkeys_get(&r, MS(2), HOUR, &b);
	assert_int_equal(b.n, 1);
	assert_memory_not_equal(b.key[0], a.key[0], TLS_TICKET_KEY_LEN);
}

static void test_keys_frame_round_trip(void **state)
{
	struct ticket_keyring r;
	struct tls_ticket_keys a, back;
	unsigned char buf[TLSFACTS_FRAME_MAX];
	const unsigned char *f;
	size_t n;

	(void)state;
	ticketkeys_init(&r);
	ticketkeys_get(&r, MS(0), 60, &a);
	ticketkeys_get(&r, MS(60), 60, &a);
	assert_int_equal(a.n, 2);
	f = tlskeys_build(buf, sizeof buf, &a, &n);
	assert_non_null(f);
	/* netstring "LEN:" prefix, payload, ","; parse the payload. */
	{
		const unsigned char *colon = memchr(f, ':', n);

		assert_non_null(colon);
		assert_int_equal(tlskeys_parse(colon + 1, n - (size_t)(colon + 1 - f) - 1, &back), 0);
	}
	assert_int_equal(back.n, 2);
	assert_memory_equal(back.key, a.key, sizeof a.key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_key_then_stable),
		cmocka_unit_test(test_rotation_keeps_previous),
		cmocka_unit_test(test_idle_two_periods_drops_old),
		cmocka_unit_test(test_period_zero_is_off),
		cmocka_unit_test(test_keys_frame_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
