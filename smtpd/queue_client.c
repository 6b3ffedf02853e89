/*
 * queue_client.c — requests to postern-queued over fd 5 and the parsing of
 * its `reply` frames (grammar in lib/queuechan.h; failure policy in
 * queue_client.h).
 * Runs inside postern-smtpd's sandbox: static buffers only.
 */
#include "queue_client.h"

#include "bufio.h"
#include "chan.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* Shut the channel down so queued sees the session give up on it. */
static int dead(int fd)
{
	shutdown(fd, SHUT_RDWR);
	return -1;
}

/* Send request q as one frame; -1 (channel shut) on failure. */
static int send_request(int fd, const struct qc_request *q, int64_t deadline_ms)
{
	static unsigned char buf[QUEUECHAN_FRAME_MAX];
	const unsigned char *frame;
	size_t n;

	frame = queuechan_write(buf, sizeof buf, &n, q);
	if (frame == NULL || chan_send(fd, frame, n, deadline_ms) < 0)
		return dead(fd);
	return 0;
}

/* Wait for one `reply` frame and check it: 2xx, 4xx, 5xx, and 354 only
 * after `data`. */
static int recv_reply(int fd, int64_t deadline_ms, struct queue_reply *r, int want354)
{
	unsigned char buf[QUEUECHAN_TEXT_MAX + 64];
	const unsigned char *payload;
	size_t plen;
	unsigned code;

	/* Wait first: the reply is never there yet right after the request,
	 * and chan_recv would try recv (EAGAIN) before its own wait. */
	if (fd_wait(fd, POLLIN, deadline_ms) < 0 ||
	    chan_recv(fd, buf, sizeof buf, &payload, &plen, deadline_ms) <= 0 ||
	    queuechan_read_reply(payload, plen, &code, r->text, &r->text_len) < 0)
		return dead(fd);
	if (code / 100 == 3 && !(want354 && code == 354))
		return dead(fd);
	r->code = (int)code;
	return 0;
}

int queue_mail(int fd, const unsigned char *ticket, size_t ticket_len,
               const struct mail_arg *m, int64_t deadline_ms, struct queue_reply *r)
{
	static struct qc_request q;

	memset(&q, 0, sizeof q);
	q.verb = QC_MAIL;
	q.ticket = ticket;
	q.ticket_len = ticket_len;
	_Static_assert(sizeof q.sender >= MAILARG_PATH_MAX - 1, "a path fits");
	if (!m->null_path)
		memcpy(q.sender, m->path, strnlen(m->path, sizeof q.sender - 1));
	q.size = m->has_size ? m->size : 0;
	q.eightbit = m->body == BODY_8BITMIME;
	q.smtputf8 = m->smtputf8;
	memcpy(q.ret, m->ret, strnlen(m->ret, sizeof q.ret - 1));
	memcpy(q.envid, m->envid, sizeof q.envid);
	if (send_request(fd, &q, deadline_ms) < 0)
		return -1;
	return recv_reply(fd, deadline_ms, r, 0);
}

int queue_rcpt(int fd, const struct mail_arg *m, int64_t deadline_ms,
               struct queue_reply *r)
{
	static struct qc_request q;

	memset(&q, 0, sizeof q);
	q.verb = QC_RCPT;
	memcpy(q.addr, m->path, strnlen(m->path, sizeof q.addr - 1));
	memcpy(q.notify, m->notify, sizeof q.notify);
	memcpy(q.orcpt, m->orcpt, sizeof q.orcpt);
	if (send_request(fd, &q, deadline_ms) < 0)
		return -1;
	return recv_reply(fd, deadline_ms, r, 0);
}

int queue_simple(int fd, const char *verb, int64_t deadline_ms, struct queue_reply *r)
{
	struct qc_request q = { .verb = QC_RSET };

	if (strcmp(verb, "data") == 0)
		q.verb = QC_DATA;
	else if (strcmp(verb, "end") == 0)
		q.verb = QC_END;
	else if (strcmp(verb, "rset") != 0)
		return dead(fd);
	if (send_request(fd, &q, deadline_ms) < 0)
		return -1;
	return recv_reply(fd, deadline_ms, r, q.verb == QC_DATA);
}

int queue_chunk(int fd, const unsigned char *p, size_t n, int64_t deadline_ms)
{
	struct qc_request q = { .verb = QC_CHUNK, .chunk = p, .chunk_len = n };

	return send_request(fd, &q, deadline_ms);
}

int queue_abort(int fd, const char *reason, int64_t deadline_ms)
{
	struct qc_request q = { .verb = QC_ABORT };

	memcpy(q.reason, reason, strnlen(reason, sizeof q.reason - 1));
	return send_request(fd, &q, deadline_ms);
}
