/*
 * tlsd_relay.c — the two-way relay of postern-tlsd (see tlsd_relay.h).
 * Inside the sandbox: read, write, poll, shutdown, and whatever OpenSSL's
 * record layer allocates (SSL_MODE_RELEASE_BUFFERS frees the buffers of
 * an idle session).
 *
 * Syscalls per relayed burst (bench/README.md "Profile: one session (S1) and
 * 20 sessions (S2)": 16 reads per message in S1, most of them EAGAIN): the
 * SSL reads ahead (one read() takes a record's header and body, and whatever
 * follows, instead of two), and an end that said "would block" is not read
 * again until poll reports it (`drained`), so a burst costs one EAGAIN read,
 * not three.  Both only drop reads that could not return data: OpenSSL's
 * buffered bytes are always drained first (the read is retried until
 * WANT_READ, which with read-ahead means nothing complete is
 * buffered).  Failure policy: any error ends the relay; the caller logs and
 * exits, which closes every pair (the master ends smtpd too).
 */
#include "tlsd_relay.h"

#include "bufio.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Map an SSL result to the endpoint convention. */
static long ssl_result(SSL *ssl, int rc, short *want)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		*want = POLLIN;
		return -2;
	case SSL_ERROR_WANT_WRITE:
		*want = POLLOUT;
		return -2;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		return -1;
	}
}

long endpoint_read(struct endpoint *e, void *buf, size_t n, short *want)
{
	ssize_t r;
	int rc;

	if (e->ssl != NULL) {
		ERR_clear_error();
		rc = SSL_read(e->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		return rc > 0 ? rc : ssl_result(e->ssl, rc, want);
	}
	do
		r = read(e->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		*want = POLLIN;
		return -2;
	}
	return r < 0 && errno == ECONNRESET ? 0 : (long)r;
}

long endpoint_write(struct endpoint *e, const void *buf, size_t n, short *want)
{
	ssize_t r;
	int rc;

	if (e->ssl != NULL) {
		ERR_clear_error();
		rc = SSL_write(e->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		if (rc > 0)
			return rc;
		rc = (int)ssl_result(e->ssl, rc, want);
		return rc == 0 ? -1 : rc;
	}
	do
		r = write(e->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		*want = POLLOUT;
		return -2;
	}
	return r <= 0 ? -1 : (long)r;
}

/* Pass a close on: TLS close_notify (best effort, never waited for) and
 * the TCP FIN, or a plain half-close towards smtpd. */
static void endpoint_shut(struct endpoint *e)
{
	if (e->ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(e->ssl);
		ERR_clear_error();
	}
	(void)shutdown(e->fd, SHUT_WR);
}

static void dir_init(struct direction *d, struct endpoint *from, struct endpoint *to)
{
	memset(d, 0, sizeof *d);
	d->from = from;
	d->to = to;
}

void relay_init(struct relay *r, int client_fd, SSL *ssl, int smtpd_fd)
{
	memset(r, 0, sizeof *r);
	r->client.fd = client_fd;
	r->client.ssl = ssl;
	r->smtpd.fd = smtpd_fd;
	if (ssl != NULL)
		SSL_set_read_ahead(ssl, 1);	/* see the header */
	dir_init(&r->c2s, &r->client, &r->smtpd);
	dir_init(&r->s2c, &r->smtpd, &r->client);
}

/* Move bytes one way as far as possible without blocking; 1 if anything
 * happened, 0 if both ends would block, -1 on error. */
static int dir_step(struct direction *d)
{
	int progress = 0;
	long n;

	d->want_from = d->want_to = 0;
	if (d->len == 0 && !d->eof && d->drained) {
		d->want_from = POLLIN;	/* nothing new since it said so */
	} else if (d->len == 0 && !d->eof) {
		d->off = 0;
		n = endpoint_read(d->from, d->buf, sizeof d->buf, &d->want_from);
		if (n == -1)
			return -1;
		d->drained = n == -2 && d->want_from == POLLIN;
		if (n == 0)
			d->eof = 1;
		if (n > 0)
			d->len = (size_t)n;
		progress = n != -2;
	}
	if (d->len > 0) {
		n = endpoint_write(d->to, d->buf + d->off, d->len - d->off, &d->want_to);
		if (n == -1)
			return -1;
		if (n > 0) {
			d->off += (size_t)n;
			d->bytes += (uint64_t)n;
			if (d->off == d->len)
				d->off = d->len = 0;
			progress = 1;
		}
	}
	if (d->eof && d->len == 0 && !d->shut) {
		endpoint_shut(d->to);
		d->shut = 1;
		progress = 1;
	}
	return progress;
}

/* Poll events wanted on fd by both directions. */
static short events_for(const struct relay *r, int fd)
{
	short ev = 0;

	if (r->c2s.from->fd == fd) ev |= r->c2s.want_from;
	if (r->c2s.to->fd == fd) ev |= r->c2s.want_to;
	if (r->s2c.from->fd == fd) ev |= r->s2c.want_from;
	if (r->s2c.to->fd == fd) ev |= r->s2c.want_to;
	return ev;
}

/* Wait for something to do; -1 at the deadline or on a poll error. */
static int relay_wait(struct relay *r, int ctl_fd, int64_t deadline_ms, int *ctl_ready)
{
	struct pollfd p[3];
	nfds_t np = 2;
	int64_t left = deadline_ms - clock_ms();
	int rc;

	if (left <= 0)
		return -1;
	p[0].fd = r->client.fd;
	p[0].events = events_for(r, r->client.fd);
	p[1].fd = r->smtpd.fd;
	p[1].events = events_for(r, r->smtpd.fd);
	if (ctl_fd >= 0) {
		p[2].fd = ctl_fd;
		p[2].events = POLLIN;
		np = 3;
	}
	rc = poll(p, np, left > 60000 ? 60000 : (int)left);
	if (rc < 0 && errno != EINTR)
		return -1;
	*ctl_ready = np == 3 && rc > 0 && p[2].revents != 0;
	/* Any event (or none, at the 60 s wake) makes a drained end worth
	 * reading again. */
	if (rc <= 0 || p[0].revents != 0)
		r->c2s.drained = 0;
	if (rc <= 0 || p[1].revents != 0)
		r->s2c.drained = 0;
	return 0;
}

enum relay_result relay_run(struct relay *r, int ctl_fd, int64_t deadline_ms)
{
	int a, b, ctl_ready = 0;

	for (;;) {
		a = dir_step(&r->c2s);
		b = dir_step(&r->s2c);
		if (a < 0 || b < 0) {
			r->failed = 1;
			r->why = a < 0 ? "client-to-smtpd" : "smtpd-to-client";
			return RELAY_ERROR;
		}
		/* smtpd closed and all it said reached the client. */
		if (r->s2c.shut)
			return RELAY_DONE;
		if (a > 0 || b > 0)
			continue;
		if (relay_wait(r, ctl_fd, deadline_ms, &ctl_ready) < 0)
			return RELAY_TIMEOUT;
		if (ctl_ready)
			return RELAY_CONTROL;
	}
}
