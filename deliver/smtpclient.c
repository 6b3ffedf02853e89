/*
 * smtpclient.c — the SMTP client dialogue of postern-deliver (policy in
 * smtpclient.h).  Runs in the sandbox; the server is hostile: its replies
 * go through reply.c's parser and caps, and only the sanitized text ever
 * reaches a result.  Commands are built from job fields that lib/jobchan.c
 * checked (no CR, LF, space or brackets in addresses and parameters).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "body.h"
#include "bufio.h"
#include "decimal.h"
#include "smtpclient.h"
#include "tls.h"

#define CMD_MAX 2048

struct cmd {
	char buf[CMD_MAX];
	size_t n;
	int overflow;
};

/* Start a command line. */
static void cmd_init(struct cmd *m)
{
	m->n = 0;
	m->overflow = 0;
}

/* Append bytes to a command line. */
static void cmd_add(struct cmd *m, const void *p, size_t n)
{
	if (m->overflow || n > sizeof(m->buf) - m->n) {
		m->overflow = 1;
		return;
	}
	memcpy(m->buf + m->n, p, n);
	m->n += n;
}

/* Append a NUL-terminated string. */
static void cmd_str(struct cmd *m, const char *s)
{
	cmd_add(m, s, strlen(s));
}

/* Append a number. */
static void cmd_u64(struct cmd *m, uint64_t v)
{
	char d[U64_DEC_MAX];

	cmd_add(m, d, u64_to_dec(d, sizeof(d), v));
}

/* Set a result from constants. */
void result_set(struct rcpt_result *r, int code, const char *status, const char *text)
{
	r->cls = code < 300 ? RC_OK : code < 500 ? RC_TEMP : RC_PERM;
	r->code = code;
	reply_sanitize(r->status, sizeof(r->status), status, strlen(status));
	reply_sanitize(r->text, sizeof(r->text), text, strlen(text));
}

/* Set a result from a remote reply: 2xx ok, 5xx perm, anything else temp. */
void result_from_reply(struct rcpt_result *r, const struct smtp_reply *rep)
{
	char st[REPLY_STATUS_MAX];
	int cls = rep->code / 100;

	r->cls = cls == 2 ? RC_OK : cls == 5 ? RC_PERM : RC_TEMP;
	r->code = rep->code;
	reply_status(rep, st);
	memcpy(r->status, st, sizeof(st));
	memcpy(r->text, rep->text, rep->textlen + 1);
	if (cls == 3) {		/* read_final and data() let none through; fail closed */
		r->code = 451;
		memcpy(r->status, "4.5.0", 6);
	}
}

/* Every recipient not decided yet gets r. */
static void settle_rest(struct attempt *a, const struct rcpt_result *r)
{
	for (size_t i = 0; i < a->job->nrcpt; i++) {
		if (a->res[i].cls == RC_NONE)
			a->res[i] = *r;
	}
}

/* Send a command line (adds CRLF) and flush. */
static enum conn_status send_cmd(struct conn *c, struct cmd *m, int64_t tmo_ms)
{
	cmd_add(m, "\r\n", 2);
	if (m->overflow) {
		c->why = "command-too-long";
		return CONN_NET;
	}
	if (conn_put(c, m->buf, m->n, clock_ms() + tmo_ms) != CONN_OK)
		return CONN_NET;
	return conn_flush(c, clock_ms() + tmo_ms);
}

/* Read a reply where only a final one belongs (2xx, 4xx, 5xx; RFC 5321
 * §4.2.1 keeps 3xx for DATA and AUTH): a 3xx is no answer to the
 * command, and taking it for one could count a message as delivered
 * that never was.  CONN_PROTO then, why naming the command, so the
 * caller handles it as any reply that broke the grammar. */
static enum conn_status read_final(struct conn *c, struct smtp_reply *r, int64_t deadline,
                                   const char *why)
{
	enum conn_status s = conn_read_reply(c, r, deadline);

	if (s == CONN_OK && r->code / 100 == 3) {
		c->why = why;
		return CONN_PROTO;
	}
	return s;
}

/* Send a fixed command and read its reply. */
static enum conn_status simple(struct conn *c, const char *line, struct smtp_reply *r,
                               struct ehlo_caps *caps, int64_t tmo_ms)
{
	struct cmd m;
	enum conn_status s;

	cmd_init(&m);
	cmd_str(&m, line);
	reply_init(r, caps);
	s = send_cmd(c, &m, tmo_ms);
	return s != CONN_OK ? s : conn_read_reply(c, r, clock_ms() + tmo_ms);
}

/* Polite goodbye; its reply does not matter. */
void smtp_quit(struct conn *c)
{
	struct smtp_reply r;

	(void)simple(c, "QUIT", &r, NULL, 5000);
}

/* The attempt cannot go on: remember why and whether to blame the peer. */
static enum attempt_result skip(struct attempt *a, struct conn *c, enum conn_status s,
                                int code, const char *status, const char *text)
{
	char t[2 * REPLY_TEXT_MAX + 2 * JOB_HOST_MAX];

	if (s == CONN_PROTO)
		a->misbehaved = 1;
	snprintf(t, sizeof(t), "%s (%s: %s)", text, a->host, c->why ? c->why : "reply");
	result_set(&a->fail, code, status, t);
	return ATTEMPT_NEXT;
}

/* Skip after a reply that refused us: keep the remote text, but it is
 * only temporary for this server. */
static enum attempt_result skip_reply(struct attempt *a, const char *what,
                                      const struct smtp_reply *r)
{
	char t[2 * REPLY_TEXT_MAX + 2 * JOB_HOST_MAX];

	snprintf(t, sizeof(t), "%s %s said: %d %s", what, a->host, r->code, r->text);
	result_set(&a->fail, 451, "4.4.0", t);
	return ATTEMPT_NEXT;
}

/* EHLO, falling back to HELO when EHLO is refused. */
static enum attempt_result hello(struct conn *c, struct attempt *a, struct ehlo_caps *caps)
{
	struct smtp_reply r;
	struct cmd m;
	enum conn_status s;
	int64_t tmo = (int64_t)a->args->timeout_ms[TMO_GREETING];

	cmd_init(&m);
	cmd_str(&m, "EHLO ");
	cmd_str(&m, a->helo);
	reply_init(&r, caps);
	s = send_cmd(c, &m, tmo);
	if (s == CONN_OK)
		s = read_final(c, &r, clock_ms() + tmo, "3xx-reply-to-EHLO");
	if (s != CONN_OK)
		return skip(a, c, s, 451, "4.4.2", "connection failed during EHLO");
	if (r.code / 100 == 2)
		return ATTEMPT_DONE;
	memset(caps, 0, sizeof(*caps));
	cmd_init(&m);
	cmd_str(&m, "HELO ");
	cmd_str(&m, a->helo);
	reply_init(&r, NULL);
	s = send_cmd(c, &m, tmo);
	if (s == CONN_OK)
		s = read_final(c, &r, clock_ms() + tmo, "3xx-reply-to-HELO");
	if (s != CONN_OK)
		return skip(a, c, s, 451, "4.4.2", "connection failed during HELO");
	if (r.code / 100 != 2)
		return skip_reply(a, "HELO refused:", &r);
	return ATTEMPT_DONE;
}

/* STARTTLS per the route's policy, then EHLO again (RFC 3207 §4.2). */
static enum attempt_result maybe_tls(struct conn *c, struct attempt *a, struct ehlo_caps *caps)
{
	enum tls_policy pol = a->route->tls;
	struct smtp_reply r;
	enum conn_status s;
	int64_t tmo = (int64_t)a->args->timeout_ms[TMO_GREETING];

	if (!caps->starttls) {
		if (pol == TLS_OPPORTUNISTIC)
			return ATTEMPT_DONE;
		return skip(a, c, CONN_OK, 451, "4.7.4", "TLS required but STARTTLS not offered");
	}
	if (pol == TLS_VERIFY && (!a->tls_verify_ready || !tls_ca_ready(a->tls)))
		return skip(a, c, CONN_OK, 451, "4.7.5", "tls=verify but no usable CA bundle");
	s = simple(c, "STARTTLS", &r, NULL, tmo);
	/* 220 is the only yes (RFC 3207 §4); going on in plain text after
	 * another 2xx or a 3xx would guess at the server's state */
	if (s == CONN_OK && r.code != 220 && r.code / 100 < 4) {
		c->why = "STARTTLS-answered-not-220";
		s = CONN_PROTO;
	}
	if (s != CONN_OK)
		return skip(a, c, s, 451, "4.4.2", "connection failed during STARTTLS");
	if (r.code != 220) {
		if (pol == TLS_OPPORTUNISTIC)
			return ATTEMPT_DONE;
		return skip_reply(a, "STARTTLS refused:", &r);
	}
	s = conn_starttls(c, a->tls, a->host, pol == TLS_VERIFY, clock_ms() + tmo);
	if (s != CONN_OK)
		return skip(a, c, s, 451, pol == TLS_VERIFY ? "4.7.5" : "4.7.0",
		            "TLS handshake failed");
	a->used_tls = 1;
	return hello(c, a, caps);
}

/* AUTH PLAIN or LOGIN with the relay's credentials (RFC 4954). */
static enum attempt_result authenticate(struct conn *c, struct attempt *a,
                                        const struct ehlo_caps *caps)
{
	unsigned char raw[520];
	char b64[sodium_base64_ENCODED_LEN(520, sodium_base64_VARIANT_ORIGINAL)];
	size_t ln = strlen(a->login), pn = strlen(a->password);
	int64_t tmo = (int64_t)a->args->timeout_ms[TMO_MAIL];
	struct smtp_reply r;
	struct cmd m;
	enum conn_status s = CONN_OK;

	if (c->ssl == NULL)
		return skip(a, c, CONN_OK, 451, "4.7.4", "refusing to send credentials without TLS");
	if (ln > 255 || pn > 255)
		return skip(a, c, CONN_OK, 451, "4.7.0", "relay credentials too long");
	cmd_init(&m);
	if (caps->auth_plain) {
		raw[0] = '\0';
		memcpy(raw + 1, a->login, ln);
		raw[1 + ln] = '\0';
		memcpy(raw + 2 + ln, a->password, pn);
		sodium_bin2base64(b64, sizeof(b64), raw, ln + pn + 2, sodium_base64_VARIANT_ORIGINAL);
		cmd_str(&m, "AUTH PLAIN ");
		cmd_str(&m, b64);
		reply_init(&r, NULL);
		s = send_cmd(c, &m, tmo);
		if (s == CONN_OK)
			s = conn_read_reply(c, &r, clock_ms() + tmo);
	} else if (caps->auth_login) {
		const char *part[2] = { a->login, a->password };

		s = simple(c, "AUTH LOGIN", &r, NULL, tmo);
		for (int k = 0; k < 2 && s == CONN_OK && r.code == 334; k++) {
			sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)part[k],
			                  strlen(part[k]), sodium_base64_VARIANT_ORIGINAL);
			cmd_init(&m);
			cmd_str(&m, b64);
			reply_init(&r, NULL);
			s = send_cmd(c, &m, tmo);
			sodium_memzero(&m, sizeof(m));
			if (s == CONN_OK)
				s = conn_read_reply(c, &r, clock_ms() + tmo);
		}
	} else {
		return skip(a, c, CONN_OK, 451, "4.7.4", "relay offers no AUTH PLAIN or LOGIN");
	}
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
	sodium_memzero(&m, sizeof(m));
	conn_wipe_out(c);
	if (s != CONN_OK)
		return skip(a, c, s, 451, "4.4.2", "connection failed during AUTH");
	if (r.code != 235)
		return skip_reply(a, "AUTH refused:", &r);
	return ATTEMPT_DONE;
}

/* Extensions the message needs but the server lacks: 1 if refused. */
static int cannot_send(struct attempt *a, const struct ehlo_caps *caps)
{
	struct rcpt_result r;

	if (caps->size_given && caps->size > 0 && a->msgsize + a->job->header.n > caps->size)
		result_set(&r, 552, "5.3.4", "message larger than the server's SIZE limit");
	else if (a->eightbit && !caps->eightbit)
		result_set(&r, 554, "5.6.3", "8-bit message but server lacks 8BITMIME");
	else if (a->utf8 && !caps->smtputf8)
		result_set(&r, 553, "5.6.7", "UTF-8 address but server lacks SMTPUTF8");
	else
		return 0;
	settle_rest(a, &r);
	return 1;
}

/* MAIL FROM with the parameters the server understands. */
static void mail_cmd(struct cmd *m, const struct attempt *a, const struct ehlo_caps *caps)
{
	const struct job *j = a->job;

	cmd_init(m);
	cmd_str(m, "MAIL FROM:<");
	cmd_add(m, j->sender.p, j->sender.n);
	cmd_str(m, ">");
	if (caps->size_given) {
		cmd_str(m, " SIZE=");
		cmd_u64(m, a->msgsize + j->header.n);
	}
	if (a->eightbit)
		cmd_str(m, " BODY=8BITMIME");
	if (a->utf8)
		cmd_str(m, " SMTPUTF8");
	if (caps->dsn && j->ret.n == 4)
		cmd_str(m, memcmp(j->ret.p, "full", 4) == 0 ? " RET=FULL" : " RET=HDRS");
	if (caps->dsn && j->envid.n > 0) {
		cmd_str(m, " ENVID=");
		cmd_add(m, j->envid.p, j->envid.n);
	}
}

/* RCPT TO for recipient i. */
static void rcpt_cmd(struct cmd *m, const struct attempt *a, const struct ehlo_caps *caps,
                     size_t i)
{
	const struct job_rcpt *r = &a->job->rcpt[i];

	cmd_init(m);
	cmd_str(m, "RCPT TO:<");
	cmd_add(m, r->addr.p, r->addr.n);
	cmd_str(m, ">");
	if (caps->dsn && r->notify.n > 0) {
		cmd_str(m, " NOTIFY=");
		cmd_add(m, r->notify.p, r->notify.n);
	}
	if (caps->dsn && r->orcpt.n > 0) {
		cmd_str(m, " ORCPT=");
		cmd_add(m, r->orcpt.p, r->orcpt.n);
	}
}

/* The transaction's failure after MAIL went out: settle and end. */
static enum attempt_result broken(struct attempt *a, struct conn *c, enum conn_status s)
{
	struct rcpt_result r;
	char t[2 * REPLY_TEXT_MAX + 2 * JOB_HOST_MAX];

	if (s == CONN_PROTO) {
		a->misbehaved = 1;
		snprintf(t, sizeof(t), "remote server broke the protocol (%s: %s)", a->host, c->why);
		result_set(&r, 451, "4.5.0", t);
	} else {
		snprintf(t, sizeof(t), "connection lost during the transaction (%s: %s)",
		         a->host, c->why ? c->why : "io");
		result_set(&r, 451, "4.4.2", t);
	}
	settle_rest(a, &r);
	return ATTEMPT_DONE;
}

/* MAIL and RCPTs; accepted[i] set for the recipients the server took.
 * Returns CONN_OK with *naccepted, or the failure. */
static enum conn_status envelope(struct conn *c, struct attempt *a, const struct ehlo_caps *caps,
                                 unsigned char *accepted, size_t *naccepted)
{
	int64_t tm = (int64_t)a->args->timeout_ms[TMO_MAIL];
	int64_t tr = (int64_t)a->args->timeout_ms[TMO_RCPT];
	struct smtp_reply r, mail;
	struct cmd m;
	enum conn_status s;
	int pipe = caps->pipelining;
	int mail_ok;

	mail_cmd(&m, a, caps);
	cmd_add(&m, "\r\n", 2);
	if (m.overflow || conn_put(c, m.buf, m.n, clock_ms() + tm) != CONN_OK)
		return CONN_NET;
	if (pipe) {
		for (size_t i = 0; i < a->job->nrcpt; i++) {
			if (a->res[i].cls != RC_NONE)
				continue;
			rcpt_cmd(&m, a, caps, i);
			cmd_add(&m, "\r\n", 2);
			if (m.overflow || conn_put(c, m.buf, m.n, clock_ms() + tr) != CONN_OK)
				return CONN_NET;
		}
	}
	if (conn_flush(c, clock_ms() + tm) != CONN_OK)
		return CONN_NET;
	if (a->rset_pending) {
		a->rset_pending = 0;
		reply_init(&r, NULL);
		s = conn_read_reply(c, &r, clock_ms() + (tm < 20000 ? tm : 20000));
		if (s == CONN_PROTO)
			a->misbehaved = 1;
		if (s != CONN_OK || r.code != 250) {
			a->stale = 1;
			return CONN_NET;
		}
	}
	reply_init(&mail, NULL);
	if ((s = read_final(c, &mail, clock_ms() + tm, "3xx-reply-to-MAIL")) != CONN_OK)
		return s;
	mail_ok = mail.code / 100 == 2;
	*naccepted = 0;
	for (size_t i = 0; i < a->job->nrcpt; i++) {
		if (a->res[i].cls != RC_NONE)
			continue;
		if (!pipe) {
			if (!mail_ok)
				break;
			rcpt_cmd(&m, a, caps, i);
			if ((s = send_cmd(c, &m, tr)) != CONN_OK)
				return s;
		}
		reply_init(&r, NULL);
		if ((s = read_final(c, &r, clock_ms() + tr, "3xx-reply-to-RCPT")) != CONN_OK)
			return s;
		if (!mail_ok)
			continue;	/* pipelined RCPTs after a refused MAIL */
		if (r.code / 100 == 2) {
			accepted[i] = 1;
			(*naccepted)++;
		} else {
			result_from_reply(&a->res[i], &r);
		}
	}
	if (!mail_ok) {
		struct rcpt_result res;

		result_from_reply(&res, &mail);
		settle_rest(a, &res);
	}
	return CONN_OK;
}

/* A reply that is no answer to cmd (a 2xx to DATA, a 3xx where a final
 * reply belongs): the server is not where the dialogue says it is, so
 * nothing it said can be taken as acceptance.  Every recipient not
 * decided yet gets temp 451 4.5.0 and the peer counts as misbehaving:
 * the session is dropped without QUIT (the server may be reading a
 * message by now) and the worker is recycled, as for a reply that
 * breaks the grammar. */
static enum attempt_result unexpected(struct attempt *a, const char *cmd,
                                      const struct smtp_reply *rep)
{
	struct rcpt_result r;
	char t[2 * REPLY_TEXT_MAX + 2 * JOB_HOST_MAX];

	a->misbehaved = 1;
	snprintf(t, sizeof(t), "remote server broke the protocol: %d reply to %s (%s said: %s)",
	         rep->code, cmd, a->host, rep->text);
	result_set(&r, 451, "4.5.0", t);
	settle_rest(a, &r);
	return ATTEMPT_DONE;
}

/* Give every accepted recipient the reply rep. */
static void settle_accepted(struct attempt *a, const unsigned char *accepted,
                            const struct smtp_reply *rep)
{
	for (size_t i = 0; i < a->job->nrcpt; i++) {
		if (accepted[i])
			result_from_reply(&a->res[i], rep);
	}
}

/* DATA, the message, the final reply. */
static enum attempt_result data(struct conn *c, struct attempt *a, const unsigned char *accepted)
{
	struct smtp_reply r;
	enum conn_status s;

	s = simple(c, "DATA", &r, NULL, (int64_t)a->args->timeout_ms[TMO_DATAINIT]);
	if (s != CONN_OK)
		return broken(a, c, s);
	if (r.code != 354 && r.code / 100 < 4)
		return unexpected(a, "DATA", &r);
	if (r.code != 354) {
		settle_accepted(a, accepted, &r);
		smtp_quit(c);
		return ATTEMPT_DONE;
	}
	s = body_send(c, a->msgfd, &a->job->header, a->msgsize,
	              (int64_t)a->args->timeout_ms[TMO_DATABLOCK]);
	if (s != CONN_OK)
		return broken(a, c, s);
	reply_init(&r, NULL);
	s = read_final(c, &r, clock_ms() + (int64_t)a->args->timeout_ms[TMO_FINAL],
	               "3xx-reply-to-end-of-data");
	if (s != CONN_OK)
		return broken(a, c, s);
	settle_accepted(a, accepted, &r);
	/* 421: the server is closing the channel (RFC 5321 §3.8). */
	if (r.code == 421)
		smtp_quit(c);
	else
		a->reusable = 1;
	return ATTEMPT_DONE;
}

/* From MAIL to the final reply, on a session that is ready. */
static enum attempt_result transaction(struct conn *c, struct attempt *a)
{
	static unsigned char accepted[JOB_RCPT_MAX];
	enum conn_status s;
	size_t naccepted = 0;

	if (cannot_send(a, &a->caps)) {
		smtp_quit(c);
		return ATTEMPT_DONE;
	}
	memset(accepted, 0, sizeof(accepted));
	s = envelope(c, a, &a->caps, accepted, &naccepted);
	/* failed before RSET's 250 was read (a dead kept session refuses the
	 * write): no DATA went out, the job takes a fresh connection */
	if (s != CONN_OK && (a->stale || a->rset_pending))
		return ATTEMPT_STALE;
	if (s != CONN_OK)
		return broken(a, c, s);
	if (naccepted == 0) {
		smtp_quit(c);
		return ATTEMPT_DONE;
	}
	return data(c, a, accepted);
}

/* Run one transaction (see smtpclient.h). */
enum attempt_result smtp_attempt(struct conn *c, struct attempt *a)
{
	struct smtp_reply r;
	enum conn_status s;

	a->misbehaved = 0;
	a->used_tls = 0;
	a->reusable = 0;
	a->rset_pending = a->stale = 0;
	reply_init(&r, NULL);
	s = read_final(c, &r, clock_ms() + (int64_t)a->args->timeout_ms[TMO_GREETING],
	               "3xx-greeting");
	if (s != CONN_OK)
		return skip(a, c, s, 451, "4.4.2", "no greeting");
	if (r.code / 100 != 2) {
		smtp_quit(c);
		return skip_reply(a, "greeting:", &r);
	}
	if (hello(c, a, &a->caps) != ATTEMPT_DONE || maybe_tls(c, a, &a->caps) != ATTEMPT_DONE)
		goto next;
	if (a->login != NULL && authenticate(c, a, &a->caps) != ATTEMPT_DONE)
		goto next;
	return transaction(c, a);
next:
	if (!a->misbehaved)
		smtp_quit(c);
	return ATTEMPT_NEXT;
}

/* A kept session: RSET, then the transaction (see smtpclient.h).  RSET's
 * deadline is short (Postfix's smtp_rset_timeout is 20 s): a session that
 * went quiet costs a fresh connection, not a long wait. */
enum attempt_result smtp_reuse(struct conn *c, struct attempt *a)
{
	int64_t tmo = (int64_t)a->args->timeout_ms[TMO_MAIL];
	struct smtp_reply r;
	enum conn_status s;

	a->misbehaved = 0;
	a->used_tls = c->ssl != NULL;
	a->reusable = 0;
	a->rset_pending = a->stale = 0;
	if (c->start != c->end || c->outlen != 0)
		return ATTEMPT_STALE;	/* bytes nobody asked for: not a clean session */
	if (a->caps.pipelining) {
		/* RSET goes out with MAIL and RCPT; envelope reads its reply first */
		if (conn_put(c, "RSET\r\n", 6, clock_ms() + (tmo < 20000 ? tmo : 20000)) != CONN_OK)
			return ATTEMPT_STALE;
		a->rset_pending = 1;
		return transaction(c, a);
	}
	s = simple(c, "RSET", &r, NULL, tmo < 20000 ? tmo : 20000);
	if (s == CONN_PROTO)
		a->misbehaved = 1;
	if (s != CONN_OK)
		return ATTEMPT_STALE;
	if (r.code != 250) {
		smtp_quit(c);
		return ATTEMPT_STALE;
	}
	return transaction(c, a);
}
