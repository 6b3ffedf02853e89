/*
 * tlsd_session.c — postern-tlsd's session phases (see tlsd_session.h).
 * Inside the sandbox; descriptors TLSD_FD_* (lib/fds.h).  Speaks the
 * control grammar of tlsctl.h on fd 4 and the facts grammar of
 * lib/tlsfacts.h on fd 5.
 *
 * The STARTTLS sequence, in this order (CVE-2011-0411 class: no plaintext
 * byte read before the handshake may reach smtpd after it):
 *   1. smtpd's `starttls` frame arrives; smtpd has flushed its replies to
 *      the pre-TLS pair and reads it no more;
 *   2. what smtpd wrote before it is forwarded to the client;
 *   3. tlsd writes "220 <text>" itself;
 *   4. the pre-TLS pair is shut down both ways and the client bytes not
 *      yet delivered to smtpd are dropped: whatever the client pipelined
 *      after STARTTLS is discarded by construction (anything still unread
 *      in the socket is fed to the TLS handshake, which fails on it);
 *   5. the handshake, under the handshake deadline;
 *   6. `tls` version cipher to the master, and its `ack` awaited (the
 *      master sends it once authd and queued have the facts in their
 *      control sockets, lib/tlsfacts.h), then `ok` version cipher to
 *      smtpd: an AUTH pipelined right behind the handshake can never
 *      reach authd before the facts do;
 *   7. relay TLS <-> the post-TLS pair.
 * On a tls listener steps 5, 6 (without `ok`) and 7: not one client byte
 * is relayed before the `ack`.
 * Failure policy: a malformed control frame, a failed or late handshake,
 * a failed facts send, no `ack` in time: one log line, `fail` to smtpd when it waits, and
 * exit 1 (the master then ends smtpd).  shutdown(2) stands in for close(2)
 * so the allow-list needs no close.
 */
#include "tlsd_session.h"

#include "bufio.h"
#include "chan.h"
#include "fds.h"
#include "log.h"
#include "tlsctl.h"
#include "tlsd_ctx.h"
#include "tlsd_relay.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* How long smtpd's buffered replies may take to reach the client. */
#define FLUSH_TIMEOUT_MS 10000

static struct relay relay;

/* Complete the server handshake by deadline; 0, or -1 with *why. */
static int handshake(SSL *ssl, int fd, int64_t deadline, const char **why)
{
	int rc, err;

	for (;;) {
		ERR_clear_error();
		rc = SSL_accept(ssl);
		if (rc == 1)
			return 0;
		err = SSL_get_error(ssl, rc);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			*why = "handshake";
			return -1;
		}
		if (fd_wait(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) < 0) {
			*why = errno == ETIMEDOUT ? "timeout" : "handshake";
			return -1;
		}
	}
}

/* The negotiated version and cipher. */
static int get_facts(SSL *ssl, struct tls_facts *f)
{
	const char *v = SSL_get_version(ssl), *c = SSL_get_cipher_name(ssl);

	memset(f, 0, sizeof *f);
	if (v == NULL || c == NULL || strlen(v) >= sizeof f->version ||
	    strlen(c) >= sizeof f->cipher)
		return -1;
	memcpy(f->version, v, strlen(v));
	memcpy(f->cipher, c, strlen(c));
	return tlsfacts_version_ok(f->version) && tlsfacts_cipher_ok(f->cipher) ? 0 : -1;
}

/* Tell smtpd (when it waits) that STARTTLS failed for reason. */
static void tell_fail(int tell_smtpd, const char *reason)
{
	unsigned char buf[TLSCTL_FRAME_MAX];
	const unsigned char *fr;
	size_t n;

	fr = tlsctl_build_result(buf, sizeof buf, NULL, reason, &n);
	if (tell_smtpd && fr != NULL)
		(void)chan_send(TLSD_FD_CONTROL, fr, n, clock_ms() + 1000);
}

/* The facts to the master, then its `ack` (lib/tlsfacts.h); 0 or -1
 * after logging why. */
static int report_facts(const struct tls_facts *f)
{
	unsigned char buf[TLSFACTS_FRAME_MAX];
	const unsigned char *fr, *payload;
	size_t n, plen;
	ssize_t rc;

	fr = tlsfacts_build(buf, sizeof buf, f, &n);
	if (fr == NULL || chan_send(TLSD_FD_FACTS, fr, n, clock_ms() + 5000) < 0) {
		log_event("error", "reason=facts-send-failed");
		return -1;
	}
	rc = chan_recv(TLSD_FD_FACTS, buf, sizeof buf, &payload, &plen,
	               clock_ms() + TLSFACTS_ACK_TIMEOUT_MS);
	if (rc <= 0 || tlsack_parse(payload, plen) < 0) {
		log_event("error", "reason=facts-ack-%s",
		          rc == 0 ? "eof" : rc < 0 && errno == ETIMEDOUT ? "timeout" : "bad");
		return -1;
	}
	return 0;
}

/* Handshake and report: log, facts to the master (and its ack), the
 * result to smtpd when tell_smtpd.  0, or -1 after logging the failure. */
static int secure(const struct tlsd_args *a, SSL *ssl, int tell_smtpd)
{
	unsigned char buf[TLSCTL_FRAME_MAX];
	const unsigned char *fr;
	struct tls_facts f;
	const char *why = "";
	int64_t deadline = clock_ms() + (int64_t)a->handshake_s * 1000;
	size_t n;

	if (handshake(ssl, TLSD_FD_CLIENT, deadline, &why) < 0 || get_facts(ssl, &f) < 0) {
		struct logline l;

		ll_begin(&l, "tls-failed");
		ll_str(&l, "reason", why[0] ? why : "facts");
		ll_str(&l, "detail", tlsd_ssl_error());
		ll_emit(&l);
		tell_fail(tell_smtpd, why[0] ? why : "handshake");
		return -1;
	}
	log_event("tls", "version=%s cipher=%s resumed=%d", f.version, f.cipher,
	          SSL_session_reused(ssl));
	if (report_facts(&f) < 0) {
		tell_fail(tell_smtpd, "facts");
		return -1;
	}
	if (tell_smtpd) {
		fr = tlsctl_build_result(buf, sizeof buf, &f, NULL, &n);
		if (fr == NULL || chan_send(TLSD_FD_CONTROL, fr, n, clock_ms() + 5000) < 0) {
			log_event("error", "reason=control-send-failed");
			return -1;
		}
	}
	return 0;
}

/* Step 2: what smtpd wrote before `starttls`, to the client. */
static int flush_smtpd(struct relay *r)
{
	struct direction *d = &r->s2c;
	int64_t deadline = clock_ms() + FLUSH_TIMEOUT_MS;
	short want;
	long n;

	for (;;) {
		if (d->len > 0 && fd_write_all(TLSD_FD_CLIENT, d->buf + d->off,
		                               d->len - d->off, deadline) < 0)
			return -1;
		d->off = d->len = 0;
		if (d->eof)
			return 0;
		n = endpoint_read(d->from, d->buf, sizeof d->buf, &want);
		if (n == -2 || n == 0)
			return 0;
		if (n < 0)
			return -1;
		d->len = (size_t)n;
	}
}

/* The end of a relay, logged with its byte counts; the exit status. */
static int relay_end(struct relay *r, enum relay_result res)
{
	struct logline l;

	ll_begin(&l, "session-end");
	ll_u64(&l, "bytes_in", r->c2s.bytes);
	ll_u64(&l, "bytes_out", r->s2c.bytes);
	ll_str(&l, "result", res == RELAY_DONE ? "done" : res == RELAY_TIMEOUT ? "session-timeout"
	                                                                        : "error");
	if (res == RELAY_ERROR)
		ll_str(&l, "where", r->why);
	ll_emit(&l);
	return res == RELAY_DONE ? 0 : 1;
}

/* Steps 1-4 after the control fd became readable; 0 to go on to the
 * handshake. */
static int starttls_begin(struct relay *r, int64_t session_deadline)
{
	unsigned char buf[TLSCTL_FRAME_MAX];
	char text[TLSCTL_TEXT_MAX + 1], line[TLSCTL_TEXT_MAX + 8];
	const unsigned char *payload;
	size_t plen, tl;
	ssize_t rc;

	rc = chan_recv(TLSD_FD_CONTROL, buf, sizeof buf, &payload, &plen, clock_ms() + 1000);
	if (rc == 0) {
		/* smtpd is gone: deliver its last words and end. */
		(void)flush_smtpd(r);
		return -2;
	}
	if (rc < 0 || tlsctl_parse_request(payload, plen, text, sizeof text) < 0) {
		log_event("error", "reason=bad-control-frame");
		return -1;
	}
	if (flush_smtpd(r) < 0)
		return -1;
	tl = strlen(text);
	memcpy(line, "220 ", 4);
	memcpy(line + 4, text, tl);
	memcpy(line + 4 + tl, "\r\n", 2);
	if (fd_write_all(TLSD_FD_CLIENT, line, tl + 6, session_deadline) < 0)
		return -1;
	(void)shutdown(TLSD_FD_PRETLS, SHUT_RDWR);
	if (r->c2s.len > r->c2s.off)
		log_event("starttls-discarded", "bytes=%zu", r->c2s.len - r->c2s.off);
	r->c2s.off = r->c2s.len = 0;
	return 0;
}

int tlsd_session_run(const struct tlsd_args *a, SSL *ssl)
{
	int64_t deadline = clock_ms() + (int64_t)a->session_s * 1000;
	enum relay_result res;
	int rc;

	if (!a->implicit) {
		relay_init(&relay, TLSD_FD_CLIENT, NULL, TLSD_FD_PRETLS);
		res = relay_run(&relay, TLSD_FD_CONTROL, deadline);
		if (res != RELAY_CONTROL)
			return relay_end(&relay, res);
		rc = starttls_begin(&relay, deadline);
		if (rc == -2)
			return relay_end(&relay, RELAY_DONE);
		if (rc < 0)
			return 1;
	}
	if (secure(a, ssl, !a->implicit) < 0)
		return 1;
	relay_init(&relay, TLSD_FD_CLIENT, ssl, TLSD_FD_POSTTLS);
	return relay_end(&relay, relay_run(&relay, -1, deadline));
}
