/*
 * ticketkeys.h — the TLS 1.3 session-ticket keys, held by the master
 * (DESIGN invariant 5: master and tlsd only) and handed to each new
 * postern-tlsd in the `keys` frame on its facts socket (lib/tlsfacts.h).
 *
 * A key is made with randombytes_buf when first needed and is current for
 * tls_ticket_rotate seconds; then a new key becomes current and the old
 * one is kept as previous (tlsd still opens tickets sealed with it) for
 * one more period, after which it is wiped.  So a ticket is accepted for
 * at most two periods, and a key taken from one tlsd's memory opens
 * nothing older than that.  A period of 0 turns resumption off: no key is
 * handed out and both are wiped.
 *
 * Process: postern (master).  Never in argv, never logged.
 */
#ifndef POSTERN_MASTER_TICKETKEYS_H
#define POSTERN_MASTER_TICKETKEYS_H

#include <stdint.h>

#include "tlsfacts.h"

struct ticket_keyring {
	struct tls_ticket_keys k;	/* k.key[0] current, k.key[1] previous */
	uint64_t made_ms;		/* when k.key[0] became current */
};

/* An empty keyring (no key yet). */
void ticketkeys_init(struct ticket_keyring *r);

/* Rotate r as due at now_ms for period_s (see above) and copy the keys a
 * tlsd started now gets into out (out->n = 0: resumption off). */
void ticketkeys_get(struct ticket_keyring *r, uint64_t now_ms, uint64_t period_s,
                    struct tls_ticket_keys *out);

/* Wipe every key. */
void ticketkeys_wipe(struct ticket_keyring *r);

#endif
