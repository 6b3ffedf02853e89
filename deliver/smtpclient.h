/*
 * smtpclient.h — one SMTP transaction of postern-deliver on an open
 * connection (RFC 5321 client side, with RFC 3207 STARTTLS, RFC 4954
 * AUTH PLAIN/LOGIN, RFC 2920 PIPELINING of MAIL/RCPT, RFC 1870 SIZE,
 * RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 3461 DSN parameters).
 *
 * Policy (a message is never altered to fit a server):
 *  - greeting not 2xx, EHLO and HELO refused, STARTTLS missing or failed
 *    under tls=required/verify, a failed TLS handshake, AUTH impossible or
 *    refused, or a network failure before MAIL: this server is skipped
 *    (ATTEMPT_NEXT) with a temporary reason; the next address is tried;
 *  - SIZE limit below the message: every recipient perm 552 5.3.4;
 *    8-bit message and no 8BITMIME: perm 554 5.6.3; UTF-8 address and no
 *    SMTPUTF8: perm 553 5.6.7 (nothing sent after EHLO but QUIT);
 *  - after MAIL each recipient gets the reply that decided it (its RCPT
 *    reply, or MAIL's, DATA's or the final one); a network failure after
 *    MAIL leaves the undecided ones temp 451 4.4.2 and the attempt ends
 *    (ATTEMPT_DONE: a second server could duplicate a delivery);
 *  - a reply that breaks the grammar or the caps (reply.h), or one that
 *    is no answer to its command (DATA answered with anything but 354,
 *    4xx or 5xx; a 3xx to the greeting, EHLO, HELO, MAIL, RCPT or the
 *    end of the message; STARTTLS answered with a 2xx or 3xx other
 *    than 220) ends the attempt and sets misbehaved: the session is
 *    closed without QUIT and the worker recycled after the job
 *    (invariant 6); the undecided recipients get temp 451 4.5.0 once
 *    MAIL went out, temp 451 4.4.2 before (no other server is tried).
 *  - a transaction that ended with a final reply other than 421 sends
 *    no QUIT and is marked reusable: the caller keeps the session for
 *    the next job to the same destination (keep.h, smtp_reuse) or ends it.
 * Credentials are only sent over TLS, and wiped from memory after use.
 */
#ifndef POSTERN_DELIVER_SMTPCLIENT_H
#define POSTERN_DELIVER_SMTPCLIENT_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "args.h"
#include "conn.h"
#include "jobchan.h"
#include "route.h"
#include "reply.h"

enum rcpt_class { RC_NONE = 0, RC_OK, RC_TEMP, RC_PERM };

struct rcpt_result {
	enum rcpt_class cls;
	int code;
	char status[REPLY_STATUS_MAX];
	char text[REPLY_TEXT_MAX + 1];
};

struct attempt {
	const struct job *job;
	const struct route *route;	/* the job's route, parsed (route.h) */
	const struct deliver_args *args;
	SSL_CTX *tls;			/* client context, never NULL */
	int tls_verify_ready;		/* a CA bundle was loaded */
	const char *helo;
	const char *host;		/* the server's name (TLS, logs) */
	int msgfd;
	uint64_t msgsize;
	int eightbit, utf8;
	const char *login, *password;	/* AUTH, or NULL */
	struct rcpt_result *res;	/* job->nrcpt entries */
	/* out: */
	int misbehaved;
	int used_tls;
	struct rcpt_result fail;	/* why the attempt was skipped (ATTEMPT_NEXT) */
	/* the session's EHLO keywords: out of smtp_attempt, in to smtp_reuse */
	struct ehlo_caps caps;
	/* out: the transaction ended with a final reply other than 421 and
	 * nothing was sent after it; the session may carry the next job
	 * (keep.h), else the caller sends smtp_quit before closing */
	int reusable;
	/* smtp_reuse on a PIPELINING session: RSET went out in the same
	 * write as MAIL and RCPT; its reply is read first (rset_pending), and
	 * anything but 250 sets stale (no DATA was sent: nothing delivered) */
	int rset_pending, stale;
};

enum attempt_result {
	ATTEMPT_DONE = 0,
	ATTEMPT_NEXT = 1,
	ATTEMPT_STALE = 2,	/* smtp_reuse: the kept session is unusable, nothing
				 * of the job was sent: open a fresh connection */
};

/* Run one transaction on c (connected, nothing read yet). */
enum attempt_result smtp_attempt(struct conn *c, struct attempt *a);

/* Run one transaction on a session kept from an earlier job (same route,
 * helo and, for mx, domain; a->caps its EHLO keywords): RSET, and on
 * exactly 250 MAIL etc. as smtp_attempt.  Any other reply, leftover
 * bytes or a dead connection: ATTEMPT_STALE with the results untouched
 * (a protocol error also sets misbehaved).  With PIPELINING (RFC 2920)
 * RSET, MAIL and the RCPTs go out in one write (one round trip less per
 * job); a refused RSET then leaves MAIL and RCPT
 * sent but never DATA, so nothing was delivered and the job still goes
 * out on a fresh connection. */
enum attempt_result smtp_reuse(struct conn *c, struct attempt *a);

/* Polite goodbye (QUIT, its reply read under a short deadline). */
void smtp_quit(struct conn *c);

/* Set a result from constants. */
void result_set(struct rcpt_result *r, int code, const char *status, const char *text);
/* Set a result from a remote reply (class from its code). */
void result_from_reply(struct rcpt_result *r, const struct smtp_reply *rep);

#endif
