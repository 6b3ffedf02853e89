/*
 * serve.h — postern-authd's event loop: the control socket (fd 3), the
 * pool's wake-up pipe, and one SOCK_SEQPACKET channel per session.
 *
 * Per session (identified by the socket the master handed over with its
 * trusted facts, never by anything smtpd sends):
 *   IDLE   --`auth` frame-->  WAIT (failure-limit delay)  -->  VERIFY
 *   VERIFY --pool result-->   IDLE, after one reply:
 *     `ok` ticket                         (lib/ticket.h, this session's id)
 *     `no` 535 "5.7.8 Authentication credentials invalid"
 *     `no` 535 "5.7.8 Authorization identity must be the login"   (authzid)
 *     `no` 454 "4.7.0 Too many failed authentication attempts, try again later"
 *     `no` 454 "4.7.0 Authentication service busy, try again later" (pool full)
 *     `no` 454 "4.7.0 Temporary authentication failure"  (no users table)
 *     `no` 538 "5.7.11 Encryption required for requested authentication
 *               mechanism"  (starttls/tls listener without TLS facts;
 *               before answering it, the control frames already waiting
 *               on fd 3 are applied, since the master writes a session's
 *               `tls` frame there before tlsd lets smtpd go on,
 *               lib/tlsfacts.h; so a pipelined AUTH never loses the race)
 * A frame while one is pending, a malformed frame, a frame over
 * SERVE_FRAME_MAX, EOF or an error closes that session's channel only
 * (DESIGN invariant 6).  Sends use MSG_DONTWAIT: a session that does not
 * read its answers is closed, never waited for.
 *
 * Log: event=auth result=ok|fail|refused|busy|unavailable|tls-required
 * session= ip= mech= login=(escaped) [delay_ms=] [cached=1]; never a
 * password.
 *
 * Process: postern-authd, main thread, inside the sandbox.
 */
#ifndef POSTERN_AUTH_SERVE_H
#define POSTERN_AUTH_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "cdbfd.h"
#include "limits.h"
#include "pool.h"
#include "ticket.h"

#define SERVE_SESSIONS_MAX 10000
#define SERVE_FRAME_MAX 2048

struct asess;

struct authd {
	int ctl;			/* fd 3 */
	/* 1 while the control socket works; 0 (master gone) or -1 (malformed
	 * frame) once a read in drain_control saw its end: serve_run returns
	 * it. */
	int ctl_status;
	int wake;			/* read end of the pool's pipe */
	int have_key;
	unsigned char key[TICKET_KEY_LEN];
	struct cdbfd users;
	char dummy[crypto_pwhash_STRBYTES];	/* hash for unknown logins */
	struct pool pool;
	struct limits *limits;
	struct auth_cache *cache;
	struct asess *s;		/* SERVE_SESSIONS_MAX slots */
	/* Every slot at or above hi is free: the loops walk s[0..hi), not
	 * all SERVE_SESSIONS_MAX slots on every wake-up (new sessions take
	 * the lowest free slot, so in use slots stay dense). */
	size_t hi;
	void *pfd;			/* poll set storage */
	size_t *pidx;
};

/* Allocate the session table and poll set (before the sandbox).  0/-1. */
int serve_init(struct authd *a);

/* Choose the dummy hash: the first user's (same cost as real users), or
 * a fixed one when the table is empty or absent. */
void serve_pick_dummy(struct authd *a);

/* Run until the control socket closes (returns 0) or a control frame is
 * malformed (returns -1). */
int serve_run(struct authd *a);

#endif
