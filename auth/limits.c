/*
 * limits.c — failure counting and the delay/refusal decision (limits.h).
 * Process: postern-authd, main thread.  Pure computation over fixed
 * arrays; time is passed in, so unit tests drive it (test_auth_limits.c).
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "limits.h"

/* The address bytes that identify a client: IPv4 whole, IPv6 its /64.
 * An unparsable string is used as is (it came from the master). */
static size_t ip_bytes(const char *ip, unsigned char out[16])
{
	if (inet_pton(AF_INET, ip, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, ip, out) == 1) {
		memset(out + 8, 0, 8);
		return 16;
	}
	return 0;
}

/* Key of ip (login == NULL) or of (login, ip). */
static void make_key(const struct limits *l, const char *ip, const char *login,
                     unsigned char key[LIMITS_KEY_LEN])
{
	crypto_generichash_state st;
	unsigned char a[16];
	size_t n = ip_bytes(ip, a);
	unsigned char tag = login == NULL ? 'i' : 'l';

	crypto_generichash_init(&st, l->hkey, sizeof(l->hkey), LIMITS_KEY_LEN);
	crypto_generichash_update(&st, &tag, 1);
	if (n > 0)
		crypto_generichash_update(&st, a, n);
	else
		crypto_generichash_update(&st, (const unsigned char *)ip, strlen(ip) + 1);
	if (login != NULL)
		crypto_generichash_update(&st, (const unsigned char *)login, strlen(login));
	crypto_generichash_final(&st, key, LIMITS_KEY_LEN);
}

/* The live entry for key, or NULL (expired entries count as absent). */
static struct fail_entry *find(struct fail_entry *v, size_t cap, const unsigned char *key,
                               uint64_t now, uint64_t window)
{
	for (size_t i = 0; i < cap; i++) {
		if (v[i].last_ms != 0 && memcmp(v[i].key, key, LIMITS_KEY_LEN) == 0) {
			if (now - v[i].last_ms >= window) {
				v[i].last_ms = 0;
				return NULL;
			}
			return &v[i];
		}
	}
	return NULL;
}

/* A slot for a new entry: free, else expired, else the oldest. */
static struct fail_entry *slot(struct fail_entry *v, size_t cap, uint64_t now,
                               uint64_t window)
{
	struct fail_entry *oldest = &v[0];

	for (size_t i = 0; i < cap; i++) {
		if (v[i].last_ms == 0 || now - v[i].last_ms >= window)
			return &v[i];
		if (v[i].last_ms < oldest->last_ms)
			oldest = &v[i];
	}
	return oldest;
}

/* Count one failure for key. */
static uint64_t bump(struct fail_entry *v, size_t cap, const unsigned char *key,
                     uint64_t now, uint64_t window)
{
	struct fail_entry *e = find(v, cap, key, now, window);

	if (e == NULL) {
		e = slot(v, cap, now, window);
		memcpy(e->key, key, LIMITS_KEY_LEN);
		e->count = 0;
	}
	e->count++;
	e->last_ms = now ? now : 1;
	return e->count;
}

/* 2^(over-1) seconds capped at max_ms; 0 when over is 0. */
static uint64_t delay_for(uint64_t over, uint64_t max_ms)
{
	uint64_t d;

	if (over == 0)
		return 0;
	d = over > 20 ? max_ms : 1000ull << (over - 1);
	return d < max_ms ? d : max_ms;
}

/* How many steps count is into the delayed range: after `after`
 * failures every attempt waits (1 for the first); after == 0 disables. */
static uint64_t over(uint64_t count, uint64_t after)
{
	return after > 0 && count >= after ? count - after + 1 : 0;
}

/* Set the policy and key. */
void faillim_init(struct limits *l, const struct fail_policy *pol)
{
	memset(l, 0, sizeof(*l));
	l->pol = *pol;
	randombytes_buf(l->hkey, sizeof(l->hkey));
}

/* Refuse, or how long to wait (see limits.h). */
int64_t faillim_check(struct limits *l, const char *ip, const char *login, uint64_t now_ms)
{
	unsigned char k[LIMITS_KEY_LEN];
	const struct fail_entry *e;
	uint64_t ipc = 0, lc = 0, d1, d2;

	make_key(l, ip, NULL, k);
	e = find(l->ip, LIMITS_IP_MAX, k, now_ms, l->pol.window_ms);
	if (e != NULL)
		ipc = e->count;
	if (ipc >= l->pol.ip_refuse_after)
		return -1;
	make_key(l, ip, login, k);
	e = find(l->login, LIMITS_LOGIN_MAX, k, now_ms, l->pol.window_ms);
	if (e != NULL)
		lc = e->count;
	d1 = delay_for(over(ipc, l->pol.ip_delay_after), l->pol.delay_max_ms);
	d2 = delay_for(over(lc, l->pol.login_delay_after), l->pol.delay_max_ms);
	return (int64_t)(d1 > d2 ? d1 : d2);
}

/* Record a failure. */
void faillim_fail(struct limits *l, const char *ip, const char *login, uint64_t now_ms)
{
	unsigned char k[LIMITS_KEY_LEN];

	make_key(l, ip, NULL, k);
	(void)bump(l->ip, LIMITS_IP_MAX, k, now_ms, l->pol.window_ms);
	make_key(l, ip, login, k);
	(void)bump(l->login, LIMITS_LOGIN_MAX, k, now_ms, l->pol.window_ms);
}

/* Record a success. */
void faillim_success(struct limits *l, const char *ip, const char *login, uint64_t now_ms)
{
	unsigned char k[LIMITS_KEY_LEN];
	struct fail_entry *e;

	make_key(l, ip, login, k);
	e = find(l->login, LIMITS_LOGIN_MAX, k, now_ms, l->pol.window_ms);
	if (e != NULL)
		e->last_ms = 0;
}
