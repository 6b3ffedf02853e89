/*
 * cmd_mail.c — MAIL FROM and RCPT TO (RFC 5321 §4.1.1.2, §4.1.1.3): check
 * the sequence, parse the path and parameters (mailarg.h), apply the size
 * and recipient limits smtpd knows, then ask postern-queued over fd 5
 * (queue_client.h) and pass its reply on.  postern-smtpd, in the sandbox.
 *
 * Replies made here: 503 5.5.1 bad sequence (before EHLO/HELO, nested
 * MAIL, RCPT before MAIL); 530 5.7.0 MAIL without AUTH (any client,
 * loopback included: invariant 4); mailarg's 501/555 for syntax;
 * 552 5.3.4 SIZE= over the limit (RFC 1870 §6.2); 452 4.5.3 too many
 * recipients (RFC 5321 §4.5.3.1.10); 451 4.3.0 when queued is gone.
 */
#include "commands.h"

#include "fds.h"
#include "log.h"
#include "mailarg.h"
#include "queue_client.h"
#include "reply.h"
#include "session.h"

#include <string.h>
#include <strings.h>

/* Skip "FROM:" / "TO:" and blanks after it; NULL if the keyword is wrong. */
static const char *after_keyword(const char *arg, size_t n, const char *kw, size_t *rest)
{
	size_t k = strlen(kw), i;

	if (n < k || strncasecmp(arg, kw, k) != 0)
		return NULL;
	for (i = k; i < n && arg[i] == ' '; i++)
		;
	*rest = n - i;
	return arg + i;
}

/* Queued is gone: answer 451 and forget the transaction. */
static void queue_lost(struct session *s)
{
	s->queue_dead = 1;
	session_reset_txn(s);
	log_event("queue-unavailable", "action=451");
	reply(s, 451, "4.3.0 Queue unavailable, try again later");
}

/* Log a queued rejection of MAIL or RCPT. */
static void log_rejected(const char *verb, const struct queue_reply *r)
{
	struct logline l;

	ll_begin(&l, "rejected");
	ll_str(&l, "command", verb);
	ll_u64(&l, "code", (uint64_t)r->code);
	ll_bytes(&l, "text", r->text, r->text_len);
	ll_emit(&l);
}

/* 0 if MAIL may start a transaction now, else answered. */
static int mail_sequence_ok(struct session *s)
{
	if (s->state == ST_GREETED) {
		reply_error(s, 503, "5.5.1 Send EHLO or HELO first");
		return -1;
	}
	if (s->state != ST_READY) {
		reply_error(s, 503, "5.5.1 Nested MAIL command");
		return -1;
	}
	if (!s->authenticated) {
		reply_error(s, 530, "5.7.0 Authentication required");
		return -1;
	}
	return 0;
}

void cmd_mail(struct session *s, const char *arg, size_t n)
{
	static struct mail_arg m;
	struct mailarg_error err;
	struct queue_reply r;
	const char *path;
	size_t plen;

	if (mail_sequence_ok(s) < 0)
		return;
	if ((path = after_keyword(arg, n, "FROM:", &plen)) == NULL) {
		reply_error(s, 501, "5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (mailarg_parse_mail(path, plen, &m, &err) < 0) {
		reply_error(s, err.code, err.text);
		return;
	}
	if (m.has_size && m.size > s->args->size_max) {
		reply_error(s, 552, "5.3.4 Message size exceeds fixed maximum message size");
		return;
	}
	if (s->queue_dead) {
		queue_lost(s);
		return;
	}
	if (queue_mail(SMTPD_FD_QUEUE, s->ticket, s->ticket_len, &m,
	               session_peer_deadline(s), &r) < 0) {
		queue_lost(s);
		return;
	}
	if (r.code >= 200 && r.code < 300) {
		s->queue_txn = 1;
		s->smtputf8 = m.smtputf8;
		s->rcpt_tried = s->rcpt_ok = 0;
		session_enter_state(s, ST_MAIL);
	} else {
		log_rejected("mail", &r);
	}
	reply_peer(s, r.code, r.text, r.text_len);
}

void cmd_rcpt(struct session *s, const char *arg, size_t n)
{
	static struct mail_arg m;
	struct mailarg_error err;
	struct queue_reply r;
	const char *path;
	size_t plen;

	if (s->state != ST_MAIL && s->state != ST_RCPT) {
		reply_error(s, 503, "5.5.1 Need MAIL command first");
		return;
	}
	if ((path = after_keyword(arg, n, "TO:", &plen)) == NULL) {
		reply_error(s, 501, "5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (mailarg_parse_rcpt(path, plen, s->smtputf8, &m, &err) < 0) {
		reply_error(s, err.code, err.text);
		return;
	}
	s->rcpt_tried++;
	if (s->rcpt_ok >= s->args->rcpt_max) {
		reply(s, 452, "4.5.3 Too many recipients");
		return;
	}
	if (s->queue_dead) {
		queue_lost(s);
		return;
	}
	if (queue_rcpt(SMTPD_FD_QUEUE, &m, session_peer_deadline(s), &r) < 0) {
		queue_lost(s);
		return;
	}
	if (r.code >= 200 && r.code < 300) {
		s->rcpt_ok++;
		session_enter_state(s, ST_RCPT);
	} else {
		log_rejected("rcpt", &r);
	}
	reply_peer(s, r.code, r.text, r.text_len);
}
