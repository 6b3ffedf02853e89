/*
 * tlsd_relay.h — postern-tlsd's byte relay between the client and one of
 * smtpd's pairs, in both directions at once, single-threaded on poll(2).
 * The client end is a plain socket (before STARTTLS) or an SSL over it;
 * smtpd's end is always a plain stream socket.  Every descriptor is
 * non-blocking; every buffer is fixed (RELAY_BUF per direction), so a
 * slow reader only stalls its own direction.
 *
 * A half-close is passed on (client EOF -> shutdown(SHUT_WR) towards
 * smtpd; smtpd EOF -> TLS close_notify / shutdown towards the client).
 * The relay ends when smtpd's side has closed and everything it wrote has
 * reached the client, on any read/write/TLS error, at the deadline, or
 * (RELAY_CONTROL) when the optional control fd becomes readable.
 */
#ifndef POSTERN_SMTPD_TLSD_RELAY_H
#define POSTERN_SMTPD_TLSD_RELAY_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_BUF 16384

/* One end: fd, and the SSL on it for the client once TLS is up. */
struct endpoint {
	int fd;
	SSL *ssl;
};

struct direction {
	struct endpoint *from, *to;
	unsigned char buf[RELAY_BUF];
	size_t off, len;	/* unsent bytes are buf[off..len) */
	int eof;		/* from has closed */
	int shut;		/* the close was passed on to `to` */
	short want_from, want_to;	/* poll events each end waits for */
	int drained;		/* from said EAGAIN/WANT_READ since the last poll */
	uint64_t bytes;		/* relayed, for the session-end line */
};

struct relay {
	struct endpoint client, smtpd;
	struct direction c2s, s2c;
	int failed;		/* a read, write or TLS error */
	const char *why;	/* what failed, for the log */
};

enum relay_result { RELAY_DONE, RELAY_CONTROL, RELAY_TIMEOUT, RELAY_ERROR };

/* Set up r between client (ssl may be NULL) and smtpd's fd; buffered
 * bytes, counters and EOF flags start empty. */
void relay_init(struct relay *r, int client_fd, SSL *ssl, int smtpd_fd);
/* Relay until one of the results above.  ctl_fd < 0: no control fd. */
enum relay_result relay_run(struct relay *r, int ctl_fd, int64_t deadline_ms);

/* One read or write on an endpoint: >0 bytes, 0 EOF (reads only), -1
 * error, -2 would block with the poll event needed in *want. */
long endpoint_read(struct endpoint *e, void *buf, size_t n, short *want);
long endpoint_write(struct endpoint *e, const void *buf, size_t n, short *want);

#endif
