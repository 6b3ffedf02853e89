/*
 * reply.h — reading a remote SMTP server's replies in postern-deliver
 * (RFC 5321 §4.2): the bytes come from the network and are hostile.
 *
 * Grammar accepted (per line, after reply_take_line has cut it):
 *   reply-line = 3DIGIT ( "-" / SP ) text CRLF   ; "-" on every line but the last
 *              / 3DIGIT CRLF                     ; last line, no text
 * The first digit must be 2..5, the second 0..5, and every line of one
 * reply must carry the same code.  A bare LF ends a line too (and a CR
 * before it is dropped): being lenient here cannot smuggle anything, since
 * nothing read is ever written back to the server, and every byte of text
 * is sanitized before it reaches a frame or a log line.
 *
 * Limits (invariant 6: a hostile MX affects only its worker): a line is at
 * most REPLY_LINE_MAX bytes including its end, one reply at most
 * REPLY_TOTAL_MAX bytes; beyond either, or on any line that breaks the
 * grammar, the reply is a protocol violation (REPLY_BAD) and the caller
 * ends the connection and recycles the worker.
 *
 * The reply's text is kept sanitized: printable ASCII only (any other
 * byte becomes '?'), lines joined by one space, cut at REPLY_TEXT_MAX.
 * Pure code: no allocation, no syscall (fuzz/fuzz_deliver_reply.c).
 */
#ifndef POSTERN_DELIVER_REPLY_H
#define POSTERN_DELIVER_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define REPLY_LINE_MAX 1000	/* bytes including CRLF (RFC 5321 says 512; seen larger) */
#define REPLY_TOTAL_MAX 65536	/* bytes of one (multi-line) reply */
#define REPLY_TEXT_MAX 512	/* sanitized text kept, as frames and bounces carry it */
#define REPLY_STATUS_MAX 16	/* "5.123.123" and NUL */

enum reply_state { REPLY_MORE = 0, REPLY_DONE = 1, REPLY_BAD = -1 };

/* Extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1). */
struct ehlo_caps {
	int pipelining, eightbit, smtputf8, dsn, starttls;
	int auth_plain, auth_login;
	int size_given;
	uint64_t size;		/* SIZE limit (0 = none given or "no limit") */
};

struct smtp_reply {
	int code;			/* 200..599 once REPLY_DONE */
	char text[REPLY_TEXT_MAX + 1];	/* sanitized, NUL-terminated */
	size_t textlen;
	char status[REPLY_STATUS_MAX];	/* enhanced status of line 1, or "" */
	size_t lines, total;
	int done;
	struct ehlo_caps *caps;		/* when set, lines 2.. are EHLO keywords */
};

/* Start reading a reply; caps (may be NULL) is zeroed and filled for EHLO. */
void reply_init(struct smtp_reply *r, struct ehlo_caps *caps);

/* Find the end of the first line in buf[0..len): 1 and *linelen (without
 * the LF, and without a CR before it) and *used (with it); 0 when no LF
 * within the first REPLY_LINE_MAX bytes and len < REPLY_LINE_MAX (read
 * more); -1 when the line is too long. */
int reply_take_line(const unsigned char *buf, size_t len, size_t *linelen, size_t *used);

/* Feed one line (without its end).  REPLY_MORE, REPLY_DONE or REPLY_BAD. */
enum reply_state reply_feed_line(struct smtp_reply *r, const unsigned char *line, size_t n);

/* Copy src[0..n) into dst[cap] as printable ASCII ('?' for anything else),
 * cut to fit, NUL-terminated; returns the length. */
size_t reply_sanitize(char *dst, size_t cap, const void *src, size_t n);

/* The status to report for r: its enhanced code if it has one of the
 * same class as the reply code, else "C.0.0". */
const char *reply_status(const struct smtp_reply *r, char out[REPLY_STATUS_MAX]);

#endif
