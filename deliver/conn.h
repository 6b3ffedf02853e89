/*
 * conn.h — one outbound SMTP connection of postern-deliver: a
 * non-blocking TCP socket (AF_INET/AF_INET6 only), optionally bound to the
 * configured source address, carrying plain text and, after STARTTLS,
 * TLS (OpenSSL, the client context of tls.h).  Every call has an absolute
 * deadline (lib/bufio.h clock); replies are read line by line under the
 * caps of reply.h.
 *
 * Syscalls (inside the sandbox): socket, bind, connect, poll, getsockopt
 * (SO_ERROR after a non-blocking connect), read, write, close; OpenSSL adds
 * getrandom and getpid.
 */
#ifndef POSTERN_DELIVER_CONN_H
#define POSTERN_DELIVER_CONN_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns.h"
#include "reply.h"

/* Results of conn_read_reply and the writers. */
enum conn_status {
	CONN_OK = 0,
	CONN_NET = -1,		/* timeout, EOF, reset: temporary, peer not blamed */
	CONN_PROTO = -2,	/* the peer broke the grammar or a cap: recycle */
};

struct conn {
	int fd;
	SSL *ssl;
	unsigned char in[REPLY_LINE_MAX * 2];
	size_t start, end;
	unsigned char out[16384];
	size_t outlen;
	const char *why;	/* constant reason of the last failure, for logs */
};

/* Connect to t:port (source address bind when bindlen > 0 and of the same
 * family, else the target is skipped with EAFNOSUPPORT).  0 or -1. */
int conn_open(struct conn *c, const struct target *t, unsigned port,
              const struct sockaddr *bind, socklen_t bindlen, int64_t deadline_ms);

/* Read one complete reply into r (reply_init'ed by the caller). */
enum conn_status conn_read_reply(struct conn *c, struct smtp_reply *r, int64_t deadline_ms);

/* Queue bytes for the server; flushes when the buffer fills. */
enum conn_status conn_put(struct conn *c, const void *p, size_t n, int64_t deadline_ms);
/* Write every queued byte. */
enum conn_status conn_flush(struct conn *c, int64_t deadline_ms);
/* Zero the output buffer (after a line that held credentials). */
void conn_wipe_out(struct conn *c);

/* Handshake TLS over the connection (after "220" to STARTTLS).  host is
 * sent as SNI when it is a name; verify checks the chain against the
 * context's CA bundle and the certificate against host.  Bytes the
 * server sent after its 220 and before the handshake are a protocol
 * violation (RFC 3207 §4.2 injection class).  CONN_OK, CONN_NET (the
 * handshake or verification failed) or CONN_PROTO. */
enum conn_status conn_starttls(struct conn *c, SSL_CTX *ctx, const char *host, int verify,
                               int64_t deadline_ms);

/* Close the connection (no TLS close_notify: the QUIT was the goodbye). */
void conn_close(struct conn *c);

#endif
