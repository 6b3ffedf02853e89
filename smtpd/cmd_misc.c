/*
 * cmd_misc.c — the verbs with no transaction of their own: RSET, NOOP,
 * QUIT, VRFY, HELP (RFC 5321 §4.1.1.5-§4.1.1.10) and the verbs postern
 * knows but does not offer (STARTTLS is in cmd_starttls.c).
 * postern-smtpd, inside the sandbox.  Arguments where the RFC allows none: 501 5.5.4.
 */
#include "commands.h"

#include "reply.h"
#include "session.h"

void cmd_rset(struct session *s, const char *arg, size_t n)
{
	if (n > 0) {
		reply_error(s, 501, "5.5.4 Syntax: RSET");
		return;
	}
	session_reset_txn(s);
	reply(s, 250, "2.0.0 Ok");
}

/* NOOP may carry a string, which is ignored (§4.1.1.9). */
void cmd_noop(struct session *s, const char *arg, size_t n)
{
	reply(s, 250, "2.0.0 Ok");
}

void cmd_quit(struct session *s, const char *arg, size_t n)
{
	if (n > 0) {
		reply_error(s, 501, "5.5.4 Syntax: QUIT");
		return;
	}
	reply(s, 221, "2.0.0 Bye");
	session_end(s, END_QUIT);
}

/* No lookup: address verification would let anyone probe the user list
 * (RFC 5321 §3.5.3, §7.3). */
void cmd_vrfy(struct session *s, const char *arg, size_t n)
{
	if (n == 0) {
		reply_error(s, 501, "5.5.4 Syntax: VRFY address");
		return;
	}
	reply(s, 252, "2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
}

void cmd_help(struct session *s, const char *arg, size_t n)
{
	reply(s, 214, "2.0.0 See RFC 5321; commands: EHLO HELO AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
}

/* EXPN, TURN, BDAT and the like: known verbs, not implemented; the table
 * counts them as errors. */
void cmd_not_implemented(struct session *s, const char *arg, size_t n)
{
	reply(s, 502, "5.5.1 Command not implemented");
}
