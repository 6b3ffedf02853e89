/*
 * commands.c — the command table and the dispatcher: finds the verb
 * (case-insensitive, RFC 5321 §2.4), applies the per-verb line limit,
 * calls the handler, and flushes replies after a command that ends a
 * pipelined group (RFC 2920 §3.1).  postern-smtpd, inside the sandbox.
 * Failure policy: unknown verbs get 500 5.5.2, over-long lines 500 5.5.2,
 * both counted as errors; the session continues.
 */
#include "commands.h"

#include "reply.h"
#include "session.h"

#include <string.h>
#include <strings.h>

static const struct smtp_command TABLE[] = {
	{ "EHLO", cmd_ehlo, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	{ "HELO", cmd_helo, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	{ "STARTTLS", cmd_starttls, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	{ "AUTH", cmd_auth, CMD_ENDS_GROUP | CMD_AUTH_LINE },
	{ "MAIL", cmd_mail, CMD_BEFORE_TLS | CMD_PARAMS },
	{ "RCPT", cmd_rcpt, CMD_BEFORE_TLS | CMD_PARAMS },
	{ "DATA", cmd_data, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	{ "RSET", cmd_rset, CMD_BEFORE_TLS },
	{ "NOOP", cmd_noop, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	{ "QUIT", cmd_quit, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	{ "VRFY", cmd_vrfy, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	{ "HELP", cmd_help, CMD_BEFORE_TLS | CMD_ENDS_GROUP },
	/* Known but not offered (RFC 5321 §4.2.4: 502). */
	{ "EXPN", cmd_not_implemented, CMD_BEFORE_TLS | CMD_ENDS_GROUP | CMD_COUNTS_JUNK },
	{ "TURN", cmd_not_implemented, CMD_BEFORE_TLS | CMD_ENDS_GROUP | CMD_COUNTS_JUNK },
	{ "ETRN", cmd_not_implemented, CMD_BEFORE_TLS | CMD_COUNTS_JUNK },
	{ "BDAT", cmd_not_implemented, CMD_BEFORE_TLS | CMD_COUNTS_JUNK },
	{ "SEND", cmd_not_implemented, CMD_BEFORE_TLS | CMD_COUNTS_JUNK },
	{ "SOML", cmd_not_implemented, CMD_BEFORE_TLS | CMD_COUNTS_JUNK },
	{ "SAML", cmd_not_implemented, CMD_BEFORE_TLS | CMD_COUNTS_JUNK },
};

/* The table entry for verb[0..n), or NULL. */
static const struct smtp_command *lookup(const char *verb, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
		if (strlen(TABLE[i].verb) == n && strncasecmp(TABLE[i].verb, verb, n) == 0)
			return &TABLE[i];
	return NULL;
}

/* Longest line (CRLF included) the command may send. */
static size_t line_limit(const struct smtp_command *c)
{
	if (c->flags & CMD_AUTH_LINE)
		return SMTP_AUTH_LINE_MAX;
	if (c->flags & CMD_PARAMS)
		return SMTP_CMD_PARAM_MAX;
	return SMTP_CMD_MAX;
}

void commands_dispatch(struct session *s, const char *line, size_t n)
{
	const struct smtp_command *c;
	size_t vlen = 0;

	while (vlen < n && line[vlen] != ' ')
		vlen++;
	c = lookup(line, vlen);
	if (c == NULL) {
		reply_error(s, 500, n + 2 > SMTP_CMD_MAX ? "5.5.2 Line too long"
		                                          : "5.5.2 Command unrecognized");
		return;
	}
	if (n + 2 > line_limit(c)) {
		reply_error(s, 500, "5.5.2 Line too long");
		return;
	}
	if (!(c->flags & CMD_BEFORE_TLS) && !s->tls_active &&
	    s->args->mode == MODE_STARTTLS) {
		reply_error(s, 530, "5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (vlen < n)
		vlen++;		/* the one space before the argument */
	c->handler(s, line + vlen, n - vlen);
	if (c->flags & CMD_COUNTS_JUNK)
		s->errors++;
	if (c->flags & CMD_ENDS_GROUP)
		reply_flush(s);
}
