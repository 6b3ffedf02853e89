/*
 * cmd_data.c — DATA (RFC 5321 §4.1.1.4): after queued's 354, read the
 * message through the byte-level dot reader (dotreader.h) and stream the
 * unstuffed bytes to postern-queued as `chunk` frames of at most 32768
 * bytes (the message is never held whole), then `end` and queued's reply,
 * or `abort REASON` and postern's own reply.  postern-smtpd, in the
 * sandbox.
 *
 * Whatever goes wrong, the reply is sent only after the real CRLF.CRLF
 * has been read, so no byte of the message is ever taken as a command
 * (invariant 2).  Replies chosen here (documented in INSTALL.md as well):
 *   bare CR or LF      `abort bare-lf`        550 5.6.0 (RFC 5321 §2.3.8)
 *   a NUL byte         `abort nul`            550 5.6.0 (see below)
 *   line over 1000     `abort line-too-long`  550 5.6.0 (§4.5.3.1.6)
 *   over -z octets     `abort too-big`        552 5.3.4 (RFC 1870 §6.3)
 *   queued gone        (channel shut)         451 4.3.0
 *   idle timeout/EOF   `abort timeout|eof`    421 4.4.2 / none, session ends
 * NUL is refused because neither body type postern offers allows it:
 * BODY=7BIT and BODY=8BITMIME (RFC 6152) carry 7bit and 8bit data, which
 * exclude NUL (RFC 2045 §2.7, §2.8); only BINARYMIME (RFC 3030) would
 * allow it, and it is not offered.  MTAs downstream may refuse or alter
 * it, after postern had already said 250.
 * A message with more than one problem gets the reply of the first in
 * that order (the table `refusals`), whatever order the bytes came in:
 * bare CR/LF wins because it is the smuggling signal (invariant 2), the
 * one thing a client or an operator reading the log must not miss behind
 * "too big"; NUL and a bad line come before size because they are wrong
 * at any size.  The `abort` to queued is sent as soon as the first
 * problem is seen, only so that queued drops the message early; it names
 * that problem and gets no reply.  After the reply the transaction is
 * over (§4.1.1.4) and the session is back in READY.
 */
#include "commands.h"

#include "dotreader.h"
#include "fds.h"
#include "log.h"
#include "queue_client.h"
#include "reply.h"
#include "session.h"

#include <errno.h>
#include <string.h>

struct data_run {
	struct dotreader d;
	const char *abort_reason;	/* sent to queued: the first problem seen */
	int queue_failed;		/* a send to queued failed */
	size_t outlen;
	unsigned char out[QUEUE_CHUNK_MAX];
};

/* Why a message is refused, in order of precedence (see the header). */
static const struct refusal {
	unsigned flag;		/* enum dot_flags */
	const char *reason;	/* `abort` reason and log reason */
	int code;
	const char *text;
} refusals[] = {
	{ DOT_BARE_LF, "bare-lf", 550, "5.6.0 Bare CR or LF in message (RFC 5321 2.3.8)" },
	{ DOT_NUL, "nul", 550, "5.6.0 NUL byte in message (RFC 2045 2.8)" },
	{ DOT_LINE_TOO_LONG, "line-too-long", 550, "5.6.0 Line too long (RFC 5321 4.5.3.1.6)" },
	{ DOT_TOO_BIG, "too-big", 552, "5.3.4 Message size exceeds fixed maximum message size" },
};

/* The refusal for the dot reader's flags, or NULL if none. */
static const struct refusal *refusal_of(unsigned flags)
{
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
		if (flags & refusals[i].flag)
			return &refusals[i];
	return NULL;
}

/* Send `abort reason` once, unless queued is already gone. */
static void send_abort(struct session *s, struct data_run *r, const char *reason)
{
	if (r->abort_reason == NULL)
		r->abort_reason = reason;
	if (!r->queue_failed &&
	    queue_abort(SMTPD_FD_QUEUE, reason, session_peer_deadline(s)) < 0)
		r->queue_failed = 1;
	r->queue_failed |= 2;	/* nothing more goes to queued */
}

/* Send the buffered bytes as one `chunk`, unless the message is dead. */
static void send_chunk(struct session *s, struct data_run *r)
{
	if (r->outlen > 0 && !r->queue_failed &&
	    queue_chunk(SMTPD_FD_QUEUE, r->out, r->outlen, session_peer_deadline(s)) < 0)
		r->queue_failed = 1;
	r->outlen = 0;
}

/* Read to the end of data; 0 at CRLF.CRLF, -1 if the session ended. */
static int read_message(struct session *s, struct data_run *r)
{
	size_t used, produced;
	ssize_t rc;

	while (!r->d.done) {
		if (bufin_avail(&s->in) == 0) {
			send_chunk(s, r);
			rc = bufin_fill(&s->in, session_io_deadline(s));
			if (rc <= 0) {
				int err = errno;
				send_abort(s, r, rc == 0 ? "eof" : "timeout");
				session_read_failed(s, (long)rc, err);
				return -1;
			}
		}
		used = dotreader_feed(&r->d, bufin_data(&s->in), bufin_avail(&s->in),
		                      r->out + r->outlen, sizeof r->out - r->outlen, &produced);
		bufin_consume(&s->in, used);
		r->outlen += produced;
		if (r->abort_reason == NULL && refusal_of(r->d.flags) != NULL)
			send_abort(s, r, refusal_of(r->d.flags)->reason);
		if (r->queue_failed)
			r->outlen = 0;
		if (r->outlen == sizeof r->out)
			send_chunk(s, r);
		if (used == 0 && produced == 0 && !r->d.done) {
			log_event("data-stalled", "action=close");
			session_end(s, END_READ_ERROR);
			return -1;
		}
	}
	return 0;
}

/* Log the outcome of one message. */
static void log_outcome(const char *event, const char *reason, int code,
                        const char *text, size_t tlen, uint64_t size)
{
	struct logline l;

	ll_begin(&l, event);
	if (reason)
		ll_str(&l, "reason", reason);
	ll_u64(&l, "size", size);
	ll_u64(&l, "code", (uint64_t)code);
	ll_bytes(&l, "reply", text, tlen);
	ll_emit(&l);
}

/* Answer the client once the terminator was read. */
static void finish(struct session *s, struct data_run *r)
{
	struct queue_reply q;

	/* All of the message's flags decide, not the first seen. */
	const struct refusal *no = refusal_of(r->d.flags);
	if (no != NULL) {
		log_outcome("rejected", no->reason, no->code, no->text, strlen(no->text),
		            r->d.size);
		reply(s, no->code, no->text);
		return;
	}
	send_chunk(s, r);
	if (r->queue_failed || queue_simple(SMTPD_FD_QUEUE, "end", session_peer_deadline(s), &q) < 0) {
		s->queue_dead = 1;
		log_event("queue-unavailable", "action=451");
		reply(s, 451, "4.3.0 Queue unavailable, try again later");
		return;
	}
	if (q.code >= 200 && q.code < 300)
		s->messages++;
	log_outcome(q.code < 300 ? "mail-accepted" : "rejected", NULL, q.code, q.text,
	            q.text_len, r->d.size);
	reply_peer(s, q.code, q.text, q.text_len);
}

/* 0 if DATA may start now, else answered. */
static int data_sequence_ok(struct session *s, size_t n)
{
	if (n > 0) {
		reply_error(s, 501, "5.5.4 Syntax: DATA");
		return -1;
	}
	if (s->state != ST_MAIL && s->state != ST_RCPT) {
		reply_error(s, 503, "5.5.1 Need MAIL command first");
		return -1;
	}
	if (s->state == ST_MAIL && s->rcpt_tried == 0) {
		reply_error(s, 503, "5.5.1 Need RCPT command first");
		return -1;
	}
	if (s->state == ST_MAIL) {	/* RFC 2920 §3.1 */
		reply(s, 554, "5.5.1 No valid recipients");
		return -1;
	}
	return 0;
}

void cmd_data(struct session *s, const char *arg, size_t n)
{
	static struct data_run r;
	struct queue_reply q;

	if (data_sequence_ok(s, n) < 0)
		return;
	if (s->queue_dead || queue_simple(SMTPD_FD_QUEUE, "data", session_peer_deadline(s), &q) < 0) {
		s->queue_dead = 1;
		session_reset_txn(s);
		reply(s, 451, "4.3.0 Queue unavailable, try again later");
		return;
	}
	reply_peer(s, q.code, q.text, q.text_len);
	if (q.code != 354)
		return;
	reply_flush(s);
	session_enter_state(s, ST_DATA);
	dotreader_init(&r.d, SMTP_TEXT_LINE_MAX, s->args->size_max);
	r.abort_reason = NULL;
	r.queue_failed = 0;
	r.outlen = 0;
	if (read_message(s, &r) == 0)
		finish(s, &r);
	if (r.queue_failed & 1)
		s->queue_dead = 1;
	s->queue_txn = 0;	/* `end` or `abort` closed it at queued */
	session_reset_txn(s);
}
