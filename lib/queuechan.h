/*
 * queuechan.h — the queue channel between a session's postern-smtpd (its
 * fd 5; smtpd/queue_client.c) and postern-queued (queue/qsession.c,
 * queue/qdata.c, queue/server.c): the whole grammar, written once and
 * linked by both ends.  SOCK_SEQPACKET, one netstring frame per packet
 * (lib/netstring.h):
 *
 *   smtpd -> queued
 *     `mail` ticket reverse_path size body smtputf8 ret envid
 *            ticket: at most TICKET_MAX bytes (queued verifies it:
 *            a bad or empty one is 530, not a grammar error);
 *            reverse_path: "" (<>) or a
 *            mailbox (lib/mailbox.h, UTF-8 only with smtputf8 "1");
 *            size: decimal, 0 = not given; body: `7bit`|`8bitmime`;
 *            smtputf8: `0`|`1`; ret: `full`|`hdrs`|""; envid: ""
 *            or ENVID xtext (lib/dsnparam.h)
 *     `rcpt` forward_path notify orcpt
 *            forward_path: `postmaster` or a mailbox (UTF-8 allowed by
 *            the grammar; whether the transaction allows it is queued's
 *            check); notify, orcpt: "" or as lib/dsnparam.h
 *     `data`
 *     `chunk` bytes          the message, dot-unstuffed, 1..CHUNK_MAX;
 *                            the chunks joined are CRLF lines without NUL
 *                            (or nothing), else queued answers 550 5.6.0
 *     `end`                  clean end of data
 *     `abort` reason         smtpd gave up on the message (a word of
 *                            printable ASCII, <= 31 bytes); no reply
 *     `rset`
 *   queued -> smtpd
 *     `reply` code text      code 200..599; text printable ASCII,
 *                            1..QUEUECHAN_TEXT_MAX bytes
 *
 * Exactly one reply per mail, rcpt, data, end and rset; one request at a
 * time.  The envelope fields are checked with the one envelope grammar
 * smtpd accepted them by, so what smtpd sends a correct queued never
 * refuses.  Failure policy: a writer refuses (NULL) what the grammar does
 * not allow; a reader returns -1, and the reading end closes the channel
 * (queued: that session, its open message removed; smtpd: 451 4.3.0).
 * Pure (fuzz, unit tests).
 */
#ifndef POSTERN_QUEUECHAN_H
#define POSTERN_QUEUECHAN_H

#include <stddef.h>
#include <stdint.h>

#include "dsnparam.h"
#include "mailbox.h"
#include "ticket.h"

#define QUEUECHAN_CHUNK_MAX 32768
#define QUEUECHAN_TEXT_MAX 400
#define QUEUECHAN_FRAME_MAX (QUEUECHAN_CHUNK_MAX + 64)
#define QUEUECHAN_REASON_MAX 31

enum qc_verb { QC_MAIL, QC_RCPT, QC_DATA, QC_CHUNK, QC_END, QC_ABORT, QC_RSET };

/* One request.  Byte fields (ticket, chunk) point into the frame read. */
struct qc_request {
	enum qc_verb verb;
	/* mail */
	const unsigned char *ticket;
	size_t ticket_len;
	char sender[MAILBOX_MAX + 1];
	uint64_t size;
	int eightbit;				/* body 8bitmime */
	int smtputf8;
	char ret[5];				/* "full", "hdrs" or "" */
	char envid[DSN_ENVID_MAX + 1];
	/* rcpt */
	char addr[MAILBOX_MAX + 1];
	char notify[DSN_NOTIFY_MAX + 1];
	char orcpt[DSN_ORCPT_MAX + 1];
	/* chunk */
	const unsigned char *chunk;
	size_t chunk_len;
	/* abort */
	char reason[QUEUECHAN_REASON_MAX + 1];
};

/* smtpd's end: r as one frame into buf[cap]; the frame and its length in
 * *n, or NULL if it does not fit or a field is outside the grammar. */
const unsigned char *queuechan_write(unsigned char *buf, size_t cap, size_t *n,
                                     const struct qc_request *r);
/* queued's end: a request frame payload p[0..n).  0, or -1. */
int queuechan_read(const unsigned char *p, size_t n, struct qc_request *r);

/* queued's end: `reply` code text.  NULL outside the grammar. */
const unsigned char *queuechan_write_reply(unsigned char *buf, size_t cap, size_t *n,
                                           unsigned code, const char *text);
/* smtpd's end: a `reply` payload into *code and text[QUEUECHAN_TEXT_MAX
 * + 1] (NUL-terminated, length in *tlen).  0, or -1. */
int queuechan_read_reply(const unsigned char *p, size_t n, unsigned *code, char *text,
                         size_t *tlen);

#endif
