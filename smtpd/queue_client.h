/*
 * queue_client.h — postern-smtpd's side of the queue channel (fd 5; the
 * grammar, requests `mail` `rcpt` `data` `chunk` `end` `abort` `rset`
 * out and `reply` in, is lib/queuechan.h, which postern-queued links
 * too).  `abort` reasons: `bare-lf` `nul` `too-big` `line-too-long`
 * `timeout` `eof`.
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
#include "queuechan.h"

#define QUEUE_CHUNK_MAX QUEUECHAN_CHUNK_MAX
#define QUEUE_TEXT_MAX QUEUECHAN_TEXT_MAX

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
