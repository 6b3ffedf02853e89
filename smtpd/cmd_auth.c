/*
 * cmd_auth.c — AUTH PLAIN and AUTH LOGIN (RFC 4954, RFC 4616, and the
 * LOGIN draft): read the client's responses, decode them (sasl.h), and ask
 * postern-authd over fd 4 (auth_client.h).  postern-smtpd, in the sandbox.
 *
 * Replies: 235 2.7.0 success (the ticket is kept for every `mail`);
 * authd's own code and text on failure; 454 4.7.0 if authd is gone;
 * 501 5.0.0 when the client cancels with "*"; 501 5.5.2 undecodable
 * base64; 500 5.5.6 response line too long; 503 5.5.1 before EHLO, when
 * already authenticated or inside a mail transaction (§4); 504 5.5.4 an
 * unknown mechanism.  Passwords are wiped (sodium_memzero) as soon as the
 * request is sent, and never logged.
 */
#include "commands.h"

#include "auth_client.h"
#include "fds.h"
#include "log.h"
#include "reply.h"
#include "sasl.h"
#include "session.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

/* The responses' buffer: one AUTH line at most. */
struct auth_buf {
	char line[SMTP_AUTH_LINE_MAX + 1];
};

int cmd_auth_allowed(const struct session *s)
{
	return s->args->mode == MODE_PLAIN || s->tls_active;
}

/* Send "334 prompt" and read the response into b->line; its length, or
 * -1 after the failure was answered (or the session ended). */
static long challenge(struct session *s, const char *prompt, struct auth_buf *b)
{
	long n;

	reply_line(s, 334, 0, prompt, strlen(prompt));
	n = session_read_line(s, SMTP_AUTH_LINE_MAX, b->line, sizeof b->line);
	if (n == -1)
		return -1;
	if (n == -2) {
		reply_error(s, 500, "5.5.6 Authentication exchange line is too long");
		return -1;
	}
	if (n < 0) {
		reply_error(s, 501, "5.5.2 Bad character or bare CR or LF in response");
		return -1;
	}
	if (n == 1 && b->line[0] == '*') {
		reply_error(s, 501, "5.0.0 Authentication cancelled");
		return -1;
	}
	return n;
}

/* Log one auth attempt; the login is escaped by ll_str. */
static void log_auth(const char *mech, const char *login, const char *result, int code)
{
	struct logline l;

	ll_begin(&l, "auth");
	ll_str(&l, "result", result);
	ll_str(&l, "mech", mech);
	ll_str(&l, "login", login);
	if (code)
		ll_u64(&l, "code", (uint64_t)code);
	ll_emit(&l);
}

/* Send the decoded credentials to authd and answer the client. */
static void verify(struct session *s, const char *mech, struct sasl_creds *c)
{
	struct auth_answer ans;
	enum auth_result res = AUTH_UNAVAILABLE;

	if (!s->auth_dead)
		res = auth_client_verify(SMTPD_FD_AUTH, mech, c, session_peer_deadline(s), &ans);
	sodium_memzero(c->password, sizeof c->password);
	switch (res) {
	case AUTH_OK:
		s->authenticated = 1;
		memcpy(s->ticket, ans.ticket, ans.ticket_len);
		s->ticket_len = ans.ticket_len;
		sodium_memzero(&ans, sizeof ans);
		log_auth(mech, c->login, "ok", 0);
		reply(s, 235, "2.7.0 Authentication successful");
		return;
	case AUTH_NO:
		log_auth(mech, c->login, "fail", ans.code);
		if (ans.code >= 500)
			s->errors++;
		reply_peer(s, ans.code, ans.text, ans.text_len);
		return;
	case AUTH_UNAVAILABLE:
		s->auth_dead = 1;
		log_auth(mech, c->login, "unavailable", 0);
		reply(s, 454, "4.7.0 Temporary authentication failure");
		return;
	}
}

/* AUTH PLAIN [initial-response] (RFC 4616). */
static void auth_plain(struct session *s, const char *ir, long n, struct auth_buf *b)
{
	struct sasl_creds c;
	const char *resp = ir;

	memset(&c, 0, sizeof c);
	if (n < 0) {
		if ((n = challenge(s, "", b)) < 0)
			return;
		resp = b->line;
	}
	if (sasl_plain_decode(n > 0 ? resp : "", (size_t)n, &c) < 0) {
		sasl_creds_wipe(&c);
		reply_error(s, 501, "5.5.2 Cannot decode response");
		return;
	}
	sodium_memzero(b, sizeof *b);
	verify(s, "plain", &c);
	sasl_creds_wipe(&c);
}

/* AUTH LOGIN [initial-response]: user name, then password, each base64. */
static void auth_login(struct session *s, const char *ir, long n, struct auth_buf *b)
{
	struct sasl_creds c;

	memset(&c, 0, sizeof c);
	if (n < 0) {
		if ((n = challenge(s, "VXNlcm5hbWU6", b)) < 0)
			return;
		ir = b->line;
	}
	if (sasl_login_decode(ir, (size_t)n, c.login) < 0) {
		reply_error(s, 501, "5.5.2 Cannot decode response");
		return;
	}
	if ((n = challenge(s, "UGFzc3dvcmQ6", b)) < 0)
		return;
	if (sasl_login_decode(b->line, (size_t)n, c.password) < 0) {
		sodium_memzero(b, sizeof *b);
		reply_error(s, 501, "5.5.2 Cannot decode response");
		return;
	}
	sodium_memzero(b, sizeof *b);
	verify(s, "login", &c);
	sasl_creds_wipe(&c);
}

/* 0 if the session may start an AUTH exchange now, else answered. */
static int auth_sequence_ok(struct session *s)
{
	if (!cmd_auth_allowed(s)) {
		reply_error(s, 503, "5.5.1 AUTH not available on this connection");
		return -1;
	}
	if (s->state == ST_GREETED || !s->esmtp) {
		reply_error(s, 503, "5.5.1 Send EHLO first");
		return -1;
	}
	if (s->authenticated) {
		reply_error(s, 503, "5.5.1 Already authenticated");
		return -1;
	}
	if (s->state != ST_READY) {
		reply_error(s, 503, "5.5.1 AUTH not allowed during a mail transaction");
		return -1;
	}
	return 0;
}

void cmd_auth(struct session *s, const char *arg, size_t n)
{
	static struct auth_buf b;
	size_t mlen = 0;
	const char *ir = NULL;
	long irlen = -1;

	if (auth_sequence_ok(s) < 0)
		return;
	while (mlen < n && arg[mlen] != ' ')
		mlen++;
	if (mlen == 0) {
		reply_error(s, 501, "5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (mlen < n) {
		ir = arg + mlen + 1;
		irlen = (long)(n - mlen - 1);
		if (irlen == 1 && ir[0] == '=')	/* RFC 4954 §4: empty response */
			irlen = 0;
		if (irlen == 0 && ir[0] != '=') {
			reply_error(s, 501, "5.5.4 Syntax: AUTH mechanism [initial-response]");
			return;
		}
	}
	if (mlen == 5 && strncasecmp(arg, "PLAIN", 5) == 0)
		auth_plain(s, ir, irlen, &b);
	else if (mlen == 5 && strncasecmp(arg, "LOGIN", 5) == 0)
		auth_login(s, ir, irlen, &b);
	else
		reply_error(s, 504, "5.5.4 Unrecognized authentication type");
	sodium_memzero(&b, sizeof b);
}
