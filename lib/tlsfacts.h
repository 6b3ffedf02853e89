/*
 * tlsfacts.h — the facts channel between the master and one postern-tlsd
 * (TLSD_FD_FACTS in lib/fds.h): a SOCK_SEQPACKET socketpair, one frame
 * (lib/netstring.h) per packet, at most three frames in a session's life.
 *
 * Grammar:
 *   master -> tlsd, written into the socket before tlsd is exec'd, read by
 *   tlsd before it enters its sandbox:
 *     `keys` [current(80 bytes) [previous(80 bytes)]]
 *       TLS 1.3 session-ticket keys, each name(16) ‖ AES-256 key(32) ‖
 *       HMAC-SHA256 key(32).  No key: resumption is off.
 *   tlsd -> master, once, after a completed handshake:
 *     `tls` version cipher
 *       version: one of TLSv1.2 TLSv1.3; cipher: 1..64 of [A-Za-z0-9_-].
 *   master -> tlsd, once, in answer to `tls`:
 *     `ack`
 *       sent only after the master has written `tls` id version cipher
 *       into the control sockets of postern-authd and postern-queued (or
 *       they are down), so the facts are there before anything smtpd can
 *       send them.  tlsd waits for it (TLSFACTS_ACK_TIMEOUT_MS) before it
 *       tells smtpd `ok` (STARTTLS) or relays a single client byte (tls
 *       listeners); no `ack` in time, or another frame: tlsd ends the
 *       session (fail closed).  This makes a client that pipelines AUTH
 *       right behind the handshake deterministic: authd (and queued)
 *       drain their control socket before refusing for missing facts.
 * The master reads only this tiny grammar from tlsd; anything else (a
 * second frame, a bad token, leftover bytes) and it kills the tlsd.
 * Failure policy of the parsers: fail closed, -1, nothing half-filled is
 * used.
 */
#ifndef POSTERN_TLSFACTS_H
#define POSTERN_TLSFACTS_H

#include <stddef.h>

#define TLS_TICKET_NAME_LEN 16
#define TLS_TICKET_AES_LEN 32
#define TLS_TICKET_HMAC_LEN 32
#define TLS_TICKET_KEY_LEN (TLS_TICKET_NAME_LEN + TLS_TICKET_AES_LEN + TLS_TICKET_HMAC_LEN)
#define TLS_TICKET_KEYS_MAX 2
#define TLS_VERSION_MAX 15
#define TLS_CIPHER_MAX 64
/* Largest frame on the facts channel (two keys and headroom). */
#define TLSFACTS_FRAME_MAX 256
/* How long tlsd waits for the master's `ack`. */
#define TLSFACTS_ACK_TIMEOUT_MS 5000

struct tls_facts {
	char version[TLS_VERSION_MAX + 1];
	char cipher[TLS_CIPHER_MAX + 1];
};

struct tls_ticket_keys {
	size_t n;	/* 0: resumption off; keys[0] is the current key */
	unsigned char key[TLS_TICKET_KEYS_MAX][TLS_TICKET_KEY_LEN];
};

/* 1 if version is one tlsd may report. */
int tlsfacts_version_ok(const char *v);
/* 1 if c is a cipher name token as above. */
int tlsfacts_cipher_ok(const char *c);

/* Parse a `tls` frame payload into f; 0 or -1. */
int tlsfacts_parse(const unsigned char *payload, size_t n, struct tls_facts *f);
/* Build the `tls` frame into buf[cap]; its start and *n, or NULL. */
const unsigned char *tlsfacts_build(unsigned char *buf, size_t cap,
                                    const struct tls_facts *f, size_t *n);

/* 0 if payload is exactly the `ack` frame's, else -1. */
int tlsack_parse(const unsigned char *payload, size_t n);
/* Build the `ack` frame into buf[cap]; its start and *n, or NULL. */
const unsigned char *tlsack_build(unsigned char *buf, size_t cap, size_t *n);

/* Parse a `keys` frame payload into k; 0 or -1 (k wiped on failure). */
int tlskeys_parse(const unsigned char *payload, size_t n, struct tls_ticket_keys *k);
/* Build the `keys` frame into buf[cap]; its start and *n, or NULL. */
const unsigned char *tlskeys_build(unsigned char *buf, size_t cap,
                                   const struct tls_ticket_keys *k, size_t *n);

#endif
