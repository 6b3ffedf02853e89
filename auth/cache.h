/*
 * cache.h — postern-authd's short-lived cache of recent successes, so a
 * mail client that logs in every minute does not cost an argon2id run
 * each time (DESIGN §2 step 5).
 *
 * An entry is BLAKE2b (crypto_generichash) keyed with a secret drawn at
 * start, over len‖login ‖ len‖password ‖ len‖stored hash: the password is
 * never kept, and a password change (new stored hash) or a deleted user
 * makes old entries unreachable.  Entries expire ttl after the success;
 * failures are never cached.  Fixed size (CACHE_SLOTS); when full the
 * oldest entry is replaced.  ttl 0 disables the cache.
 *
 * Process: postern-authd, main thread only.
 */
#ifndef POSTERN_AUTH_CACHE_H
#define POSTERN_AUTH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_SLOTS 1024
#define CACHE_DIGEST 32

struct cache_entry {
	unsigned char digest[CACHE_DIGEST];
	uint64_t expires_ms;		/* 0: free */
};

struct auth_cache {
	unsigned char key[32];
	uint64_t ttl_ms;
	struct cache_entry v[CACHE_SLOTS];
};

/* Fresh random key; ttl_ms 0 disables. */
void cache_init(struct auth_cache *c, uint64_t ttl_ms);

/* The digest of (login, password, stored hash) into out. */
void cache_digest(const struct auth_cache *c, const char *login, const char *password,
                  size_t plen, const char *hash, size_t hlen,
                  unsigned char out[CACHE_DIGEST]);

/* 1 if digest d was a success within ttl, else 0. */
int cache_hit(const struct auth_cache *c, const unsigned char d[CACHE_DIGEST],
              uint64_t now_ms);

/* Remember a success. */
void cache_put(struct auth_cache *c, const unsigned char d[CACHE_DIGEST], uint64_t now_ms);

#endif
