/*
 * conn.c — the outbound connection of postern-deliver (conn.h): TCP
 * connect with a deadline, plain or TLS reads and writes, reply lines cut
 * under reply.h's caps.  Everything read is hostile; a line longer than
 * REPLY_LINE_MAX or bytes where none may be is CONN_PROTO, which makes
 * the worker recycle itself after the job.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "bufio.h"
#include "conn.h"

/* Connect to t:port (see conn.h). */
int conn_open(struct conn *c, const struct target *t, unsigned port,
              const struct sockaddr *bind_to, socklen_t bindlen, int64_t deadline_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int err = 0;
	socklen_t el = sizeof(err);

	memset(c, 0, offsetof(struct conn, in));
	c->fd = -1;
	memset(&ss, 0, sizeof(ss));
	if (t->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		memcpy(&s->sin_addr, t->addr, 4);
		sl = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		memcpy(&s->sin6_addr, t->addr, 16);
		sl = sizeof(*s);
	}
	if (bindlen > 0 && bind_to->sa_family != t->family) {
		c->why = "address-family-not-bound";
		errno = EAFNOSUPPORT;
		return -1;
	}
	c->fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->why = "socket";
		return -1;
	}
	if (bindlen > 0 && bind(c->fd, bind_to, bindlen) != 0) {
		c->why = "bind";
		goto fail;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS) {
			c->why = "connect";
			goto fail;
		}
		if (fd_wait(c->fd, POLLOUT, deadline_ms) != 0) {
			c->why = "connect-timeout";
			goto fail;
		}
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
			c->why = "connect";
			errno = err ? err : errno;
			goto fail;
		}
	}
	return 0;
fail:
	err = errno;
	close(c->fd);
	c->fd = -1;
	errno = err;
	return -1;
}

/* Wait as OpenSSL asks after a WANT_READ/WANT_WRITE. */
static int tls_wait(struct conn *c, int rc, int64_t deadline_ms)
{
	int e = SSL_get_error(c->ssl, rc);

	if (e == SSL_ERROR_WANT_READ)
		return fd_wait(c->fd, POLLIN, deadline_ms);
	if (e == SSL_ERROR_WANT_WRITE)
		return fd_wait(c->fd, POLLOUT, deadline_ms);
	ERR_clear_error();
	return -1;
}

/* Read what is there into c->in: >0 bytes, 0 EOF, -1 error/timeout. */
static ssize_t fill(struct conn *c, int64_t deadline_ms)
{
	if (c->start > 0) {
		memmove(c->in, c->in + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	for (;;) {
		ssize_t r;

		if (c->ssl != NULL) {
			size_t got = 0;
			int rc = SSL_read_ex(c->ssl, c->in + c->end, sizeof(c->in) - c->end, &got);

			if (rc == 1) {
				c->end += got;
				return (ssize_t)got;
			}
			if (SSL_get_error(c->ssl, rc) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (tls_wait(c, rc, deadline_ms) != 0)
				return -1;
			continue;
		}
		r = read(c->fd, c->in + c->end, sizeof(c->in) - c->end);
		if (r > 0) {
			c->end += (size_t)r;
			return r;
		}
		if (r == 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (fd_wait(c->fd, POLLIN, deadline_ms) != 0)
			return -1;
	}
}

/* Read one complete reply (see conn.h). */
enum conn_status conn_read_reply(struct conn *c, struct smtp_reply *r, int64_t deadline_ms)
{
	for (;;) {
		size_t linelen, used;
		int t = reply_take_line(c->in + c->start, c->end - c->start, &linelen, &used);

		if (t < 0) {
			c->why = "reply-line-too-long";
			return CONN_PROTO;
		}
		if (t == 1) {
			enum reply_state s = reply_feed_line(r, c->in + c->start, linelen);

			c->start += used;
			if (s == REPLY_DONE)
				return CONN_OK;
			if (s == REPLY_BAD) {
				c->why = r->total > REPLY_TOTAL_MAX ? "reply-too-long" : "reply-syntax";
				return CONN_PROTO;
			}
			continue;
		}
		ssize_t n = fill(c, deadline_ms);

		if (n <= 0) {
			c->why = n == 0 ? "eof" : errno == ETIMEDOUT ? "timeout" : "read";
			return CONN_NET;
		}
	}
}

/* Write p[0..n) now. */
static enum conn_status send_all(struct conn *c, const unsigned char *p, size_t n,
                                 int64_t deadline_ms)
{
	while (n > 0) {
		if (c->ssl != NULL) {
			size_t w = 0;
			int rc = SSL_write_ex(c->ssl, p, n, &w);

			if (rc == 1) {
				p += w;
				n -= w;
			} else if (tls_wait(c, rc, deadline_ms) != 0) {
				c->why = "write";
				return CONN_NET;
			}
			continue;
		}
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			c->why = "write";
			return CONN_NET;
		} else if (fd_wait(c->fd, POLLOUT, deadline_ms) != 0) {
			c->why = "write-timeout";
			return CONN_NET;
		}
	}
	return CONN_OK;
}

/* Write every queued byte. */
enum conn_status conn_flush(struct conn *c, int64_t deadline_ms)
{
	enum conn_status s = send_all(c, c->out, c->outlen, deadline_ms);

	c->outlen = 0;
	return s;
}

/* Queue bytes; flush when full. */
enum conn_status conn_put(struct conn *c, const void *p, size_t n, int64_t deadline_ms)
{
	const unsigned char *b = p;

	while (n > 0) {
		size_t k = sizeof(c->out) - c->outlen;

		if (k == 0) {
			if (conn_flush(c, deadline_ms) != CONN_OK)
				return CONN_NET;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(c->out + c->outlen, b, k);
		c->outlen += k;
		b += k;
		n -= k;
	}
	return CONN_OK;
}

/* Zero the output buffer. */
void conn_wipe_out(struct conn *c)
{
	OPENSSL_cleanse(c->out, sizeof(c->out));
}

/* 1 if host is an IP literal (no SNI for those, RFC 6066 §3). */
static int is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Handshake TLS (see conn.h). */
enum conn_status conn_starttls(struct conn *c, SSL_CTX *ctx, const char *host, int verify,
                               int64_t deadline_ms)
{
	if (c->end != c->start) {
		c->why = "bytes-before-tls";
		return CONN_PROTO;
	}
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		c->why = "tls-setup";
		return CONN_NET;
	}
	if (!is_ip(host) && SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		c->why = "tls-sni";
		return CONN_NET;
	}
	if (verify) {
		SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
		/* An IP literal (relay:[addr]) is matched against the
		 * certificate's IP addresses, a name against its DNS names. */
		int ok = is_ip(host)
		         ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host)
		         : SSL_set1_host(c->ssl, host);

		if (ok != 1) {
			c->why = "tls-setup";
			return CONN_NET;
		}
	}
	for (;;) {
		int rc = SSL_connect(c->ssl);

		if (rc == 1)
			break;
		if (tls_wait(c, rc, deadline_ms) != 0) {
			c->why = verify && SSL_get_verify_result(c->ssl) != X509_V_OK
			         ? "tls-verify" : "tls-handshake";
			return CONN_NET;
		}
	}
	c->start = c->end = 0;
	return CONN_OK;
}

/* Close the connection. */
void conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->start = c->end = c->outlen = 0;
}
