/*
 * commands.h — the SMTP command table of postern-smtpd (RFC 5321 §4.1)
 * and the verbs' handlers, one small function per verb (cmd_*.c).
 *
 * Each entry has flags:
 *   CMD_BEFORE_TLS  allowed on a starttls listener before TLS
 *   CMD_ENDS_GROUP  ends a pipelined group: replies are flushed after it
 *                   (RFC 2920 §3.1: EHLO, DATA, VRFY, EXPN, TURN, QUIT,
 *                   NOOP; also AUTH, HELP and STARTTLS, which wait for
 *                   the client)
 *   CMD_PARAMS      may carry ESMTP parameters: line limit
 *                   SMTP_CMD_PARAM_MAX instead of SMTP_CMD_MAX
 *   CMD_AUTH_LINE   line limit SMTP_AUTH_LINE_MAX (RFC 4954 §4)
 *   CMD_COUNTS_JUNK a reply to it counts as an error (not implemented
 *                   verbs), towards SMTP_ERRORS_MAX
 * Handlers get the argument text after the verb and one space, NUL-
 * terminated, and write their replies through reply.h.
 */
#ifndef POSTERN_SMTPD_COMMANDS_H
#define POSTERN_SMTPD_COMMANDS_H

#include <stddef.h>

struct session;

enum cmd_flags {
	CMD_BEFORE_TLS = 1,
	CMD_ENDS_GROUP = 2,
	CMD_PARAMS = 4,
	CMD_AUTH_LINE = 8,
	CMD_COUNTS_JUNK = 16,
};

typedef void (*cmd_handler)(struct session *s, const char *arg, size_t n);

struct smtp_command {
	const char *verb;
	cmd_handler handler;
	unsigned flags;
};

/* Look up and run the command in line[0..n) (NUL-terminated, no CRLF). */
void commands_dispatch(struct session *s, const char *line, size_t n);

/* The handlers. */
void cmd_ehlo(struct session *s, const char *arg, size_t n);
void cmd_helo(struct session *s, const char *arg, size_t n);
void cmd_auth(struct session *s, const char *arg, size_t n);
void cmd_mail(struct session *s, const char *arg, size_t n);
void cmd_rcpt(struct session *s, const char *arg, size_t n);
void cmd_data(struct session *s, const char *arg, size_t n);
void cmd_rset(struct session *s, const char *arg, size_t n);
void cmd_noop(struct session *s, const char *arg, size_t n);
void cmd_quit(struct session *s, const char *arg, size_t n);
void cmd_vrfy(struct session *s, const char *arg, size_t n);
void cmd_help(struct session *s, const char *arg, size_t n);
void cmd_starttls(struct session *s, const char *arg, size_t n);
void cmd_not_implemented(struct session *s, const char *arg, size_t n);

/* 1 if STARTTLS may be offered and used now: a starttls listener, TLS
 * not active yet, no AUTH done (cmd_starttls.c). */
int cmd_starttls_allowed(const struct session *s);

/* 1 if AUTH may be offered and used now (DESIGN §6: only after TLS;
 * a plain listener is loopback only). */
int cmd_auth_allowed(const struct session *s);

#endif
