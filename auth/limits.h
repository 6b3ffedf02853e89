/*
 * limits.h — postern-authd's failure limits (DESIGN §2 step 5; INSTALL.md
 * "Authentication: failure limits").
 *
 * Failures are counted per client IP (IPv6 per /64, since one host owns a
 * whole /64) and per (login, client IP), each forgotten fail_window after
 * its last failure.  Before an attempt is verified:
 *   - IP count >= ip_refuse_after: refused at once (454 4.7.0), not
 *     counted, no verification — until the window has passed;
 *   - otherwise, once the IP has ip_delay_after failures or the
 *     (login, IP) pair login_delay_after failures, every attempt waits
 *     2^(k-1) seconds, capped at delay_max, where k = count - after + 1
 *     (the larger of the two); an `after` of 0 disables that delay.
 * The wait comes before the verification and applies whatever the
 * outcome, so a client cannot learn the result early by giving up.
 * A per-login limit only ever slows one IP down: there is no global
 * per-login lock, so nobody can lock a victim out from elsewhere.
 * A success clears its (login, IP) count (never the IP's).
 *
 * Memory is bounded: at most LIMITS_IP_MAX and LIMITS_LOGIN_MAX entries,
 * keyed by a keyed BLAKE2b hash of the IP (and login); when full, an
 * expired entry, else the one with the oldest failure, is reused.
 *
 * Process: postern-authd (main thread only).
 */
#ifndef POSTERN_AUTH_LIMITS_H
#define POSTERN_AUTH_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define LIMITS_IP_MAX 4096
#define LIMITS_LOGIN_MAX 8192
#define LIMITS_KEY_LEN 16

struct fail_policy {
	uint64_t ip_delay_after;
	uint64_t ip_refuse_after;
	uint64_t login_delay_after;
	uint64_t delay_max_ms;
	uint64_t window_ms;
};

struct fail_entry {
	unsigned char key[LIMITS_KEY_LEN];
	uint64_t count;
	uint64_t last_ms;		/* 0: free */
};

struct limits {
	struct fail_policy pol;
	unsigned char hkey[32];
	struct fail_entry ip[LIMITS_IP_MAX];
	struct fail_entry login[LIMITS_LOGIN_MAX];
};

/* Set the policy and a fresh random hash key (sodium_init done). */
void faillim_init(struct limits *l, const struct fail_policy *pol);

/* Before verifying login from ip at now_ms: -1 to refuse, else the
 * milliseconds to wait first (0 for none). */
int64_t faillim_check(struct limits *l, const char *ip, const char *login, uint64_t now_ms);

/* Record a failure. */
void faillim_fail(struct limits *l, const char *ip, const char *login, uint64_t now_ms);

/* Record a success: forget the (login, IP) failures. */
void faillim_success(struct limits *l, const char *ip, const char *login, uint64_t now_ms);

#endif
