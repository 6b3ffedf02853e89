/*
 * session.h — the whole state of one SMTP session in postern-smtpd, in one
 * struct passed to every verb (no globals shared between verbs).
 *
 * Descriptors (lib/fds.h): 0 the client (non-blocking), 2 the log pipe,
 * 4 the auth channel, 5 the queue channel; on starttls listeners 1 (the
 * post-TLS pair, used after STARTTLS) and 3 (the control fd to tlsd); on
 * tls listeners the session runs on fd 1 from the start.  Buffers are inside the struct
 * so nothing is allocated after the sandbox is entered.
 *
 * States (RFC 5321 §4.1.4 ordering), changed only by session_enter_state:
 *   GREETED --EHLO/HELO--> READY --MAIL--> MAIL --RCPT--> RCPT
 *   RCPT --DATA (354)--> DATA --end of data--> READY
 *   any --RSET/EHLO/HELO--> READY (GREETED for RSET before EHLO)
 * AUTH is not a state but a fact (s->authenticated) held across RSET.
 */
#ifndef POSTERN_SMTPD_SESSION_H
#define POSTERN_SMTPD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "bufio.h"
#include "cmdline.h"

/* RFC 5321 §4.5.3.1.4: a command line is 512 octets with CRLF. */
#define SMTP_CMD_MAX 512
/* MAIL/RCPT with ESMTP parameters may be longer (RFC 1869 §4.1.2 lets
 * each extension add to the limit); capped here. */
#define SMTP_CMD_PARAM_MAX 2048
/* RFC 4954 §4: AUTH command and response lines up to 12288 octets. */
#define SMTP_AUTH_LINE_MAX 12288
/* RFC 5321 §4.5.3.1.6: a text line is 1000 octets with CRLF. */
#define SMTP_TEXT_LINE_MAX 1000
/* Errors (5xx replies smtpd makes itself) before 421 and close. */
#define SMTP_ERRORS_MAX 10
/* How long smtpd waits for authd or queued to answer one request. */
#define PEER_TIMEOUT_MS 60000
/* Tickets from authd: TICKET_MAX (tag and login) comes from lib/ticket.h. */
#include "ticket.h"

#define SESSION_IN_CAP (SMTP_AUTH_LINE_MAX + 4096)
#define SESSION_OUT_CAP 8192

enum smtp_state {
	ST_GREETED,	/* 220 sent, no EHLO/HELO yet */
	ST_READY,	/* EHLO/HELO done, no transaction */
	ST_MAIL,	/* MAIL accepted */
	ST_RCPT,	/* at least one RCPT accepted */
	ST_DATA,	/* reading the message */
};

/* Why the session ended, for the session-end log line. */
enum session_end {
	END_NONE,
	END_QUIT,
	END_EOF,
	END_IDLE_TIMEOUT,
	END_COMMAND_TIMEOUT,
	END_PREAUTH_TIMEOUT,
	END_SESSION_TIMEOUT,
	END_TOO_MANY_ERRORS,
	END_HTTP,
	END_WRITE_ERROR,
	END_READ_ERROR,
	END_QUEUE_LOST,
	END_TLS_FAILED,		/* STARTTLS: tlsd reported failure or vanished */
};

struct session {
	const struct smtpd_args *args;
	enum smtp_state state;
	enum session_end end;

	struct bufin in;
	struct bufout out;
	struct cmdline_reader cl;
	/* Deadlines, clock_ms() values (session.c "Deadlines"). */
	int64_t session_deadline;	/* the whole session */
	int64_t preauth_deadline;	/* a successful AUTH, while !authenticated */
	int64_t command_deadline;	/* the line being read; 0 = none */

	int tls_active;			/* the client's bytes reach us over TLS */
	int esmtp;			/* EHLO (not HELO) was used */
	int authenticated;
	unsigned char ticket[TICKET_MAX];
	size_t ticket_len;
	int auth_dead;			/* auth channel closed */
	int queue_dead;			/* queue channel closed */

	/* Current transaction. */
	int queue_txn;			/* queued holds an open transaction */
	int smtputf8;			/* MAIL had SMTPUTF8 */
	uint64_t rcpt_tried;		/* RCPT commands this transaction */
	uint64_t rcpt_ok;		/* RCPTs queued accepted */

	/* Counters for the session-end line. */
	uint64_t commands;
	uint64_t errors;
	uint64_t messages;

	unsigned char inbuf[SESSION_IN_CAP];
	unsigned char outbuf[SESSION_OUT_CAP];
};

/* Set up s for the client on fd 0; args must outlive s. */
void session_init(struct session *s, const struct smtpd_args *args);
/* Greet, serve commands until the session ends, log session-end. */
void session_run(struct session *s);
/* Change state; every transition goes through here. */
void session_enter_state(struct session *s, enum smtp_state next);
/* End the session with reason (the main loop stops after this command). */
void session_end(struct session *s, enum session_end why);
/* Deadline for the next client read or write: the idle timeout, capped
 * by every deadline that applies now (session, pre-AUTH, command). */
int64_t session_io_deadline(const struct session *s);
/* Start the command deadline: a whole line must arrive by it. */
void session_command_start(struct session *s);
/* The line arrived (or the wait is over): no command deadline. */
void session_command_done(struct session *s);
/* A client wait timed out: end the session with the deadline that
 * expired, after its 421 4.4.2 if answer is set. */
void session_timed_out(struct session *s, int answer);
/* Deadline for one request to authd or queued. */
int64_t session_peer_deadline(const struct session *s);
/* After a read returned -1/0: end the session with the right reason and
 * the 421 the RFC asks for on a timeout (§4.5.3.2). */
void session_read_failed(struct session *s, long rc, int err);
/* Forget the transaction (RFC 5321 §4.1.1.5): tells queued if it holds
 * one, and goes back to READY. */
void session_reset_txn(struct session *s);
/* Read one line of client input (for AUTH continuations) up to max
 * octets with CRLF, into line[cap] NUL-terminated.  Returns the line
 * length, -1 if the session ended, -2 if too long, -3 if it held a bad
 * byte (NUL, bare CR/LF). */
long session_read_line(struct session *s, size_t max, char *line, size_t cap);

#endif
