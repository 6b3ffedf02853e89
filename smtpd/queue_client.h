/*
 * queue_client.h — postern-smtpd's side of the queue channel (fd 5,
 * SOCK_SEQPACKET, one netstring frame per packet, lib/netstring.h):
 *
 *   smtpd -> queued:
 *     `mail` ticket reverse_path size(u64, 0 = not given)
 *            body(`7bit`|`8bitmime`) smtputf8(0|1) ret(`full`|`hdrs`|"")
 *            envid(raw or "")
 *     `rcpt` forward_path notify(raw or "") orcpt(raw or "")
 *     `data`
 *     `chunk` bytes          (dot-unstuffed, at most QUEUE_CHUNK_MAX; all
 *                             of them joined are CRLF lines without NUL, or
 *                             nothing: queued answers `end` 550 5.6.0
 *                             otherwise; a CRLF may be split between two)
 *     `end`                  (clean end of data)
 *     `abort` reason         (`bare-lf` `nul` `too-big` `line-too-long`
 *                             `timeout` `eof`; no reply)
 *     `rset`
 *   queued -> smtpd: `reply` code(u64 200..599) text(printable, <= 400)
 *
 * Exactly one reply per mail, rcpt, data, end and rset; one request at a
 * time.  Failure policy: EOF, error, timeout, a malformed frame or an
 * unacceptable reply shut the channel down (queued sees the session go)
 * and the function returns -1; the caller answers 451 4.3.0.
 */
#ifndef POSTERN_SMTPD_QUEUE_CLIENT_H
#define POSTERN_SMTPD_QUEUE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "mailarg.h"

#define QUEUE_CHUNK_MAX 32768
#define QUEUE_TEXT_MAX 400

struct queue_reply {
	int code;
	char text[QUEUE_TEXT_MAX + 1];
	size_t text_len;
};

/* Each returns 0 with *r set, or -1 (channel now shut down). */
int queue_mail(int fd, const unsigned char *ticket, size_t ticket_len,
               const struct mail_arg *m, int64_t deadline_ms, struct queue_reply *r);
int queue_rcpt(int fd, const struct mail_arg *m, int64_t deadline_ms,
               struct queue_reply *r);
/* `data`, `end`, `rset`: a verb alone, one reply. */
int queue_simple(int fd, const char *verb, int64_t deadline_ms, struct queue_reply *r);
/* `chunk` and `abort`: no reply. */
int queue_chunk(int fd, const unsigned char *p, size_t n, int64_t deadline_ms);
int queue_abort(int fd, const char *reason, int64_t deadline_ms);

#endif
