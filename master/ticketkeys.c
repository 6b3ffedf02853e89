/*
 * ticketkeys.c — making and rotating the TLS 1.3 ticket keys (see
 * ticketkeys.h).  Process: postern (master).  Keys come from libsodium's
 * randombytes_buf (the kernel CSPRNG) and are wiped with sodium_memzero
 * when they leave the ring.  Failure policy: none possible (randombytes_buf
 * cannot fail once sodium_init succeeded).
 */
#include <sodium.h>
#include <string.h>

#include "ticketkeys.h"

/* An empty keyring. */
void ticketkeys_init(struct ticket_keyring *r)
{
	sodium_memzero(r, sizeof(*r));
}

/* Wipe every key. */
void ticketkeys_wipe(struct ticket_keyring *r)
{
	sodium_memzero(r, sizeof(*r));
}

/* Make a fresh current key; the old current becomes previous if keep. */
static void rotate(struct ticket_keyring *r, uint64_t now_ms, int keep)
{
	if (keep && r->k.n > 0) {
		memcpy(r->k.key[1], r->k.key[0], TLS_TICKET_KEY_LEN);
		r->k.n = 2;
	} else {
		sodium_memzero(r->k.key[1], TLS_TICKET_KEY_LEN);
		r->k.n = 1;
	}
	randombytes_buf(r->k.key[0], TLS_TICKET_KEY_LEN);
	r->made_ms = now_ms;
}

/* Rotate as due and copy out the keys (see ticketkeys.h). */
void ticketkeys_get(struct ticket_keyring *r, uint64_t now_ms, uint64_t period_s,
                    struct tls_ticket_keys *out)
{
	uint64_t period_ms = period_s * 1000u;

	sodium_memzero(out, sizeof(*out));
	if (period_s == 0) {
		ticketkeys_wipe(r);
		return;
	}
	if (r->k.n == 0 || now_ms < r->made_ms)
		rotate(r, now_ms, 0);
	else if (now_ms - r->made_ms >= 2 * period_ms)
		rotate(r, now_ms, 0);	/* idle for two periods: the old key is stale too */
	else if (now_ms - r->made_ms >= period_ms)
		rotate(r, now_ms, 1);
	*out = r->k;
}
