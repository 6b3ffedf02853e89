/*
 * bounce_compose.h — composing one RFC 3464 delivery status notification
 * (multipart/report; report-type=delivery-status, RFC 6522) into a sink.
 * postern-queued, in its sandbox: reads the original message only through
 * the descriptor it is given (pread, its offset untouched), opens nothing.
 *
 * The report (every line CRLF, <= 998 octets, 7-bit except a To: holding
 * a non-ASCII sender, which sets *utf8):
 *   From: Mail Delivery System <MAILER-DAEMON@HOST>, To: <sender>,
 *   Subject by action, Date, Message-ID with a random part,
 *   Auto-Submitted: auto-replied (RFC 3834), MIME-Version, Content-Type
 *   1. text/plain: what happened, per recipient address, status, text
 *   2. message/delivery-status: Reporting-MTA, [Original-Envelope-Id],
 *      X-Postern-Queue-ID, Arrival-Date; per recipient
 *      [Original-Recipient], Final-Recipient, Action, Status,
 *      [Remote-MTA], [Diagnostic-Code: smtp; CODE TEXT],
 *      [Last-Attempt-Date], [Will-Retry-Until] (delayed)
 *   3. message/rfc822 (RET=FULL, the message is 7-bit with CRLF lines of
 *      at most 998 octets and at most BOUNCE_FULL_MAX bytes) or else
 *      text/rfc822-headers: the trusted header block plus the original
 *      header section (at most BOUNCE_HDRS_MAX bytes, cut at a line end;
 *      8-bit and control bytes '?', long lines cut).
 * The boundary is random and checked against every part's content.
 */
#ifndef POSTERN_QUEUE_BOUNCE_COMPOSE_H
#define POSTERN_QUEUE_BOUNCE_COMPOSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bounce.h"

#define BOUNCE_FULL_MAX (1024u * 1024u)	/* RET=FULL returns at most this */
#define BOUNCE_HDRS_MAX (64u * 1024u)	/* header section returned at most */
#define BOUNCE_LINE_MAX 998		/* RFC 5322 §2.1.1, without CRLF */

struct bounce_job {
	const char *hostname;		/* Reporting-MTA, From:, Message-ID */
	const struct envelope *e;	/* the original's envelope, loaded */
	int msgfd;			/* the original's bytes (pread) */
	enum dsn_action a;
	const struct dsn_rcpt *r;
	size_t n;
	time_t now;
	uint64_t retry_until;		/* Will-Retry-Until for DSN_DELAYED; 0: none */
};

/* Where the report goes: write all n bytes, 0 or -1 (errno). */
struct bounce_sink {
	int (*write)(void *ctx, const void *p, size_t n);
	void *ctx;
};

/* Compose the report for j into s; *utf8 = 1 if To: holds UTF-8
 * (the report then needs SMTPUTF8).  0, or -1 with errno (EINVAL for a
 * sender <> or bad job, EIO for an unreadable original). */
int bounce_compose(const struct bounce_job *j, const struct bounce_sink *s, int *utf8);

#endif
