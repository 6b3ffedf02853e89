/*
 * qsession.h — one smtpd session as postern-queued sees it, and the
 * states of the channel it speaks on that session's SOCK_SEQPACKET socket
 * (the grammar, written once for both ends, is lib/queuechan.h; smtpd's
 * side is smtpd/queue_client.c):
 *
 *   smtpd -> queued
 *     `mail` ticket reverse_path size body smtputf8 ret envid   IDLE -> MAIL
 *     `rcpt` forward_path notify orcpt                          MAIL
 *     `data`                                                    MAIL -> DATA
 *     `chunk` bytes (<= 32768)                                  DATA, no reply
 *     `end`                                                     DATA -> IDLE
 *     `abort` reason                                            DATA -> IDLE, no reply
 *     `rset`                                                    IDLE|MAIL -> IDLE
 *   queued -> smtpd: `reply` code text
 *
 * The session is identified by its socket and the trusted facts the
 * master sent with it (`session` frame), never by anything smtpd sends;
 * the ticket is verified against that session id (lib/ticket.h).
 *
 * Replies (each documented in INSTALL.md):
 *   250 2.1.0 / 2.1.5 / 2.0.0   ok; `end`: "2.0.0 Ok: queued as ID" once durable
 *   354                          go ahead (data)
 *   530 5.7.0   no valid ticket for this session (invariant 4)
 *   553 5.7.1   envelope or header sender not allowed for the login
 *   552 5.3.4   SIZE= or the message over message_size_max, header over 64 KiB
 *   452 4.5.3   over recipients_max
 *   450 4.7.1   over the login's quota (reserved at MAIL/RCPT, quota.h)
 *   452 4.3.1   disk full, or free space under queue_minfree
 *   451 4.3.0   write error, table error, no key yet, quota counters
 *               not saved
 *   554 5.5.1   data without a recipient
 *   550 5.6.0   message without a From: field (header check on); a bare
 *               CR, bare LF or NUL anywhere in the message, or a last
 *               line without CRLF (always)
 * Failure policy: a frame outside lib/queuechan.h's grammar (the envelope
 * fields included), UTF-8 in a recipient of a transaction without
 * SMTPUTF8, or a verb out of sequence closes this session only
 * (QR_CLOSE); its open message is removed.
 */
#ifndef POSTERN_QUEUE_QSESSION_H
#define POSTERN_QUEUE_QSESSION_H

#include <stddef.h>
#include <stdint.h>

#include "commit.h"
#include "crlfcheck.h"
#include "envelope.h"
#include "hdrscan.h"
#include "queued.h"
#include "randid.h"
#include "tlsfacts.h"

#define QS_TEXT_MAX 400
#define QS_CHUNK_MAX 32768
#define QS_IP_MAX 64
#define QS_LISTENER_MAX 96
#define QS_MODE_MAX 16
#define QS_REPLY_FRAME_MAX (QS_TEXT_MAX + 64)	/* `reply` code text, framed */

enum qs_state { QS_IDLE, QS_MAIL, QS_DATA, QS_COMMITTING };

struct qsession {
	int fd;				/* this session's socket; -1 when free */
	char id[RANDID_LEN + 1];	/* trusted facts from the master */
	char ip[QS_IP_MAX];
	unsigned port;
	char listener[QS_LISTENER_MAX];
	char mode[QS_MODE_MAX];
	/* TLS facts the master forwarded from postern-tlsd (`tls` control
	 * frame); empty: none (plain listener, or no handshake yet). */
	char tls_version[TLS_VERSION_MAX + 1];
	char tls_cipher[TLS_CIPHER_MAX + 1];
	int64_t deadline_ms;

	enum qs_state state;
	char login[TICKET_LOGIN_MAX + 1];
	char sender[ENV_ADDR_MAX + 1];
	char body[12], ret[8], envid[ENV_XTEXT_MAX + 1];
	int smtputf8;
	unsigned char *rcpts;		/* envelope_rcpt_encode records */
	size_t rcpt_len, rcpt_cap;
	uint64_t nrcpt;
	struct quota_resv resv;		/* the quota this transaction holds */
	struct commit c;
	struct hdrscan h;
	struct crlfcheck crlf;		/* line ends of the whole message */
	int too_big;

	/* A reply the socket could not take at once (server.c): while
	 * out_len > 0 no request of this session is read, and at
	 * out_deadline_ms the session is closed (invariant 6: a peer that
	 * does not read its replies never makes queued wait). */
	unsigned char out[QS_REPLY_FRAME_MAX];
	size_t out_len;
	int64_t out_deadline_ms;
};

struct qreply {
	int code;
	char text[QS_TEXT_MAX + 1];
};

enum qs_result {
	QR_REPLY,	/* send r now */
	QR_NONE,	/* no reply (chunk, abort) */
	QR_COMMIT,	/* prepared; reply after the round's commit_group */
	QR_CLOSE,	/* protocol violation: close this session */
};

/* A fresh session on fd with the master's facts. */
void qsession_init(struct qsession *s, int fd);
/* Handle one frame payload. */
enum qs_result qsession_frame(struct queued *d, struct qsession *s,
                              const unsigned char *payload, size_t len, struct qreply *r);
/* After the round's commit_group: a durable message -> 250 with the id
 * (its quota reservation kept as the charge), else the message is removed
 * and r says 452 or 451 (commit_reply_code). */
void qsession_commit_done(struct queued *d, struct qsession *s, struct qreply *r);
/* Drop any open transaction (its files are removed, its quota
 * reservation released). */
void qsession_reset(struct queued *d, struct qsession *s);

#endif
