/*
 * trusted.h — the trusted header block of DESIGN §5: the lines postern
 * adds in front of the message at delivery, kept in the envelope so the
 * message file stays exactly the client's bytes.  postern-queued.
 *
 *   Received: [from [IP] or [IPv6:IP]] by HOSTNAME (postern) with ESMTPA|ESMTPSA id QID
 *           [(using VERSION with cipher CIPHER)];
 *           DATE                      (RFC 5321 §4.4, RFC 3848 protocol names;
 *                                      the client IP only when configured)
 *   ESMTPSA and the TLS comment only with TLS facts the master forwarded
 *   from postern-tlsd (never from smtpd, never from the listener mode
 *   alone); ESMTPA otherwise.
 *   Message-ID: <QID.TIME@HOSTNAME>   only when the message has none (RFC 6409 §8.3)
 *   Date: DATE                        only when the message has none (RFC 6409 §8.1)
 */
#ifndef POSTERN_QUEUE_TRUSTED_H
#define POSTERN_QUEUE_TRUSTED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct trusted_in {
	const char *hostname, *qid, *mode, *ip;	/* ip NULL: not recorded */
	const char *tls_version, *tls_cipher;	/* NULL: no TLS facts */
	time_t now;
	int need_message_id, need_date;
};

/* Write the block into out[cap] (NUL-terminated); its length, or 0 if
 * it does not fit. */
size_t trusted_block(char *out, size_t cap, const struct trusted_in *t);

#endif
