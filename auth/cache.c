/*
 * cache.c — the success cache (cache.h).  Process: postern-authd, main
 * thread; fixed array, no allocation.  Lookups compare digests with
 * sodium_memcmp (constant time per entry).
 */
#include <sodium.h>
#include <string.h>

#include "cache.h"

/* Feed a length-prefixed field (so the concatenation is unambiguous). */
static void field(crypto_generichash_state *st, const void *p, size_t n)
{
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	crypto_generichash_update(st, len, sizeof(len));
	crypto_generichash_update(st, p, n);
}

/* The digest of one (login, password, hash). */
void cache_digest(const struct auth_cache *c, const char *login, const char *pw,
                  size_t plen, const char *hash, size_t hlen,
                  unsigned char out[CACHE_DIGEST])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, c->key, sizeof(c->key), CACHE_DIGEST);
	field(&st, login, strlen(login));
	field(&st, pw, plen);
	field(&st, hash, hlen);
	crypto_generichash_final(&st, out, CACHE_DIGEST);
	sodium_memzero(&st, sizeof(st));
}

/* Fresh key (see cache.h). */
void cache_init(struct auth_cache *c, uint64_t ttl_ms)
{
	memset(c, 0, sizeof(*c));
	c->ttl_ms = ttl_ms;
	randombytes_buf(c->key, sizeof(c->key));
}

/* Lookup (see cache.h). */
int cache_hit(const struct auth_cache *c, const unsigned char d[CACHE_DIGEST],
              uint64_t now_ms)
{
	int hit = 0;

	if (c->ttl_ms == 0)
		return 0;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		if (c->v[i].expires_ms > now_ms &&
		    sodium_memcmp(c->v[i].digest, d, CACHE_DIGEST) == 0)
			hit = 1;
	}
	return hit;
}

/* Remember a success (see cache.h). */
void cache_put(struct auth_cache *c, const unsigned char d[CACHE_DIGEST], uint64_t now_ms)
{
	struct cache_entry *e = &c->v[0];

	if (c->ttl_ms == 0)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		if (c->v[i].expires_ms <= now_ms) {
			e = &c->v[i];
			break;
		}
		if (c->v[i].expires_ms < e->expires_ms)
			e = &c->v[i];
	}
	memcpy(e->digest, d, CACHE_DIGEST);
	e->expires_ms = now_ms + c->ttl_ms;
}
