/*
 * reply.h — writing SMTP replies to the client (RFC 5321 §4.2) with
 * enhanced status codes (RFC 2034, RFC 3463, RFC 5248).  Every 2xx/4xx/5xx
 * reply carries one, except the greeting and the EHLO/HELO answer (RFC 2034
 * §4); 334 and 354 are not status replies and carry none.
 *
 * Replies are buffered (s->out) and flushed by the session loop at the end
 * of a pipelined group (RFC 2920 §3.1) or before it blocks on a read.  A
 * write error or a client that does not read before the idle deadline ends
 * the session (END_WRITE_ERROR).
 */
#ifndef POSTERN_SMTPD_REPLY_H
#define POSTERN_SMTPD_REPLY_H

#include <stddef.h>

struct session;

/* "CODE TEXT" (text starts with the enhanced code, e.g. "2.0.0 Ok"). */
void reply(struct session *s, int code, const char *text);
/* One line of a multi-line reply: "CODE-TEXT" when more, else "CODE TEXT". */
void reply_line(struct session *s, int code, int more, const char *text, size_t n);
/* A reply that counts as a client error (towards SMTP_ERRORS_MAX). */
void reply_error(struct session *s, int code, const char *text);
/* A reply whose text came from authd or queued (already validated by
 * reply_text_ok); an enhanced code of the reply's class is added in front
 * when the peer gave none. */
void reply_peer(struct session *s, int code, const char *text, size_t n);
/* 1 if a peer's reply text may be shown to the client: printable ASCII
 * (space included), 1..400 octets. */
int reply_text_ok(const unsigned char *text, size_t n);
/* Send what is buffered; on failure the session ends. */
void reply_flush(struct session *s);

#endif
