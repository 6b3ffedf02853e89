/*
 * queue_client.c — requests to postern-queued over fd 5 and the parsing of
 * its `reply` frames (grammar and failure policy in queue_client.h).
 * Runs inside postern-smtpd's sandbox: static buffers only.
 */
#include "queue_client.h"

#include "bufio.h"
#include "chan.h"
#include "netstring.h"
#include "reply.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* Big enough for a full chunk plus its netstring headers. */
#define QUEUE_FRAME_MAX (QUEUE_CHUNK_MAX + 64)
/* A mail frame: ticket, path, envid and a few short fields. */
#define QUEUE_SMALL_MAX 2048

/* Shut the channel down so queued sees the session give up on it. */
static int dead(int fd)
{
	shutdown(fd, SHUT_RDWR);
	return -1;
}

/* Send a finished frame; -1 (channel shut) on failure. */
static int send_frame(int fd, struct frame_writer *w, int64_t deadline_ms)
{
	const unsigned char *frame;
	size_t n;

	frame = fw_finish(w, &n);
	if (frame == NULL || chan_send(fd, frame, n, deadline_ms) < 0)
		return dead(fd);
	return 0;
}

/* Wait for one `reply` frame and check it: 2xx, 4xx, 5xx, and 354 only
 * as the answer to `data` (want354). */
static int recv_reply(int fd, int64_t deadline_ms, struct queue_reply *r, int want354)
{
	unsigned char buf[QUEUE_SMALL_MAX];
	const unsigned char *payload, *text;
	struct frame_reader fr;
	size_t plen, tlen;
	uint64_t code;

	/* Wait first: the reply is never there yet right after the request,
	 * and chan_recv would try recv (EAGAIN) before its own wait. */
	if (fd_wait(fd, POLLIN, deadline_ms) < 0 ||
	    chan_recv(fd, buf, sizeof buf, &payload, &plen, deadline_ms) <= 0)
		return dead(fd);
	fr_init(&fr, payload, plen);
	if (fr_is(&fr, "reply") != 1 || fr_u64(&fr, &code, 599) < 0 || code < 200 ||
	    fr_bytes(&fr, &text, &tlen, QUEUE_TEXT_MAX) < 0 || fr_end(&fr) < 0 ||
	    !reply_text_ok(text, tlen))
		return dead(fd);
	if (code / 100 == 3 ? !(want354 && code == 354) : code / 100 == 6)
		return dead(fd);
	r->code = (int)code;
	memcpy(r->text, text, tlen);
	r->text[tlen] = '\0';
	r->text_len = tlen;
	return 0;
}

int queue_mail(int fd, const unsigned char *ticket, size_t ticket_len,
               const struct mail_arg *m, int64_t deadline_ms, struct queue_reply *r)
{
	unsigned char buf[QUEUE_SMALL_MAX];
	struct frame_writer w;

	fw_init(&w, buf, sizeof buf);
	fw_str(&w, "mail");
	fw_bytes(&w, ticket, ticket_len);
	fw_str(&w, m->null_path ? "" : m->path);
	fw_u64(&w, m->has_size ? m->size : 0);
	fw_str(&w, m->body == BODY_8BITMIME ? "8bitmime" : "7bit");
	fw_str(&w, m->smtputf8 ? "1" : "0");
	fw_str(&w, m->ret);
	fw_str(&w, m->envid);
	if (send_frame(fd, &w, deadline_ms) < 0)
		return -1;
	return recv_reply(fd, deadline_ms, r, 0);
}

int queue_rcpt(int fd, const struct mail_arg *m, int64_t deadline_ms,
               struct queue_reply *r)
{
	unsigned char buf[QUEUE_SMALL_MAX];
	struct frame_writer w;

	fw_init(&w, buf, sizeof buf);
	fw_str(&w, "rcpt");
	fw_str(&w, m->path);
	fw_str(&w, m->notify);
	fw_str(&w, m->orcpt);
	if (send_frame(fd, &w, deadline_ms) < 0)
		return -1;
	return recv_reply(fd, deadline_ms, r, 0);
}

int queue_simple(int fd, const char *verb, int64_t deadline_ms, struct queue_reply *r)
{
	unsigned char buf[64];
	struct frame_writer w;

	fw_init(&w, buf, sizeof buf);
	fw_str(&w, verb);
	if (send_frame(fd, &w, deadline_ms) < 0)
		return -1;
	return recv_reply(fd, deadline_ms, r, strcmp(verb, "data") == 0);
}

int queue_chunk(int fd, const unsigned char *p, size_t n, int64_t deadline_ms)
{
	static unsigned char buf[QUEUE_FRAME_MAX];
	struct frame_writer w;

	if (n > QUEUE_CHUNK_MAX)
		return dead(fd);
	fw_init(&w, buf, sizeof buf);
	fw_str(&w, "chunk");
	fw_bytes(&w, p, n);
	return send_frame(fd, &w, deadline_ms);
}

int queue_abort(int fd, const char *reason, int64_t deadline_ms)
{
	unsigned char buf[64];
	struct frame_writer w;

	fw_init(&w, buf, sizeof buf);
	fw_str(&w, "abort");
	fw_str(&w, reason);
	return send_frame(fd, &w, deadline_ms);
}
