/*
 * envelope.h — the envelope of one queued message: an immutable CDB file
 * (tinycdb cdb_make) at queue/env/<id> (DESIGN §5).  Written by
 * postern-queued at commit; read by queued's admin handler (and later the
 * scheduler).  Keys (every value is bytes; numbers are decimal ASCII):
 *
 *   version   "1" (ENV_VERSION); a reader refuses any other
 *   id        the queue id
 *   sender    reverse path without <> ("" for <>)
 *   rcpt      one record per recipient, in RCPT order; the value is three
 *             netstrings: forward path, NOTIFY (raw or ""), ORCPT (raw or "")
 *   user      the authenticated login (from the ticket)
 *   session   the master's session id;  ip, port: the client (trusted facts)
 *   mode      the listener mode (plain, starttls, tls)
 *   time      arrival, seconds since the epoch
 *   size      message bytes as received (the file in new/)
 *   body      "7bit" | "8bitmime";  smtputf8: "0" | "1"
 *   ret       "full" | "hdrs" | "";  envid: raw xtext or ""
 *   header    the trusted header block to prepend at delivery (CRLF lines)
 *
 * The reader fails closed: a missing key, a repeated single key, a bad
 * number, an over-long field or an unknown version makes the whole
 * envelope invalid.
 */
#ifndef POSTERN_QUEUE_ENVELOPE_H
#define POSTERN_QUEUE_ENVELOPE_H

#include <cdb.h>
#include <stddef.h>
#include <stdint.h>

#include "randid.h"

#define ENV_VERSION "1"
#define ENV_ADDR_MAX 512	/* paths are <= 256 octets (RFC 5321 §4.5.3.1.3) */
#define ENV_XTEXT_MAX 512
#define ENV_LOGIN_MAX 256
#define ENV_HEADER_MAX 4096
#define ENV_FIELD_MAX 128	/* ip, port, mode, numbers, ... */

/* What the writer needs; rcpts is rcpt_len bytes of concatenated
 * netstrings, each holding the three fields of one recipient. */
struct envelope_in {
	const char *id, *sender, *user, *session, *ip, *mode;
	unsigned port;
	uint64_t time, size;
	const char *body, *ret, *envid;
	int smtputf8;
	const unsigned char *rcpts;
	size_t rcpt_len;
	const char *header;
	size_t header_len;
};

/* Write the CDB to fd (positioned at 0).  0, or -1 with errno. */
int envelope_write(int fd, const struct envelope_in *e);

/* A field of a loaded envelope: bytes inside the mapping. */
struct env_field {
	const unsigned char *p;
	size_t n;
};

struct envelope {
	struct cdb cdb;
	int loaded;
	struct env_field id, sender, user, session, ip, port, mode, time, size,
		body, smtputf8, ret, envid, header;
	uint64_t time_v, size_v, nrcpt;
};

/* Map the envelope on fd (cdb_init) and check every field.  0, or -1
 * (the envelope is invalid; nothing stays mapped).  fd stays the
 * caller's and must stay open until envelope_free. */
int envelope_load(struct envelope *e, int fd);

/* Call fn for each recipient in order; stops early if fn returns non-zero.
 * 0, or -1 if a recipient record is malformed. */
typedef int (*envelope_rcpt_fn)(void *ctx, const struct env_field *addr,
                                const struct env_field *notify,
                                const struct env_field *orcpt);
int envelope_rcpts(struct envelope *e, envelope_rcpt_fn fn, void *ctx);

/* Unmap. */
void envelope_free(struct envelope *e);

/* Append one recipient record (three netstrings) to buf[cap] at *len.
 * 0, or -1 if it does not fit. */
int envelope_rcpt_encode(unsigned char *buf, size_t cap, size_t *len,
                         const char *addr, const char *notify, const char *orcpt);

#endif
