/*
 * cmd_starttls.c — STARTTLS (RFC 3207) in postern-smtpd.  smtpd never
 * touches TLS: it asks postern-tlsd over the control fd (fd 3, grammar in
 * tlsctl.h) and tlsd writes the 220, handshakes and answers.  Inside the
 * sandbox (sendto, recvfrom, poll on fd 3).
 *
 * Sequence (DESIGN §2 step 3): flush every pending reply to the pre-TLS
 * pair, send `starttls` with the 220 text, stop reading fd 0, wait for
 * tlsd's `ok`; then drop the input buffer (whatever the client pipelined
 * after STARTTLS is never executed: CVE-2011-0411 class), forget EHLO and
 * any transaction (RFC 3207 §4.2), and continue on fd 1, the post-TLS pair.
 *
 * Replies: 502 5.5.1 on a plain listener (not offered); 503 5.5.1 when TLS
 * is already active or after AUTH; 501 5.5.4 with an argument; 454 4.7.0
 * when the request cannot even be sent (no tlsd: nothing was said to the
 * client).  A `fail` from tlsd, a malformed or missing answer end the
 * session (tlsd has already written the 220, so no SMTP reply can follow);
 * so does a deadline (session.c) passing while tlsd handshakes, logged as
 * that timeout.
 */
#include "commands.h"

#include "chan.h"
#include "fds.h"
#include "log.h"
#include "reply.h"
#include "session.h"
#include "tlsctl.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#define STARTTLS_TEXT "2.0.0 Ready to start TLS"

/* Ask tlsd to take over; 0 with res filled, -1 if the request could not
 * be sent (tlsd said nothing to the client), -2 if the answer failed, -3
 * if a deadline passed first. */
static int ask_tlsd(struct session *s, struct tlsctl_result *res)
{
	unsigned char buf[TLSCTL_FRAME_MAX];
	const unsigned char *fr, *payload;
	size_t n, plen;

	fr = tlsctl_build_request(buf, sizeof buf, STARTTLS_TEXT, &n);
	memset(res, 0, sizeof *res);
	if (fr == NULL || chan_send(SMTPD_FD_CONTROL, fr, n, session_io_deadline(s)) < 0)
		return -1;
	ssize_t rc = chan_recv(SMTPD_FD_CONTROL, buf, sizeof buf, &payload, &plen,
	                       session_io_deadline(s));
	if (rc < 0 && errno == ETIMEDOUT)
		return -3;
	if (rc <= 0 || tlsctl_parse_result(payload, plen, res) < 0)
		return -2;
	return 0;
}

/* Continue on the post-TLS pair with a fresh session state.  The old
 * input buffer is wiped over its whole capacity, not just forgotten:
 * pipelined plaintext (possibly an AUTH line) would otherwise stay in
 * memory until overwritten. */
static void switch_to_tls(struct session *s)
{
	sodium_memzero(s->inbuf, sizeof s->inbuf);
	bufin_init(&s->in, SMTPD_FD_POSTTLS, s->inbuf, sizeof s->inbuf);
	bufout_init(&s->out, SMTPD_FD_POSTTLS, s->outbuf, sizeof s->outbuf);
	cmdline_init(&s->cl, SMTP_AUTH_LINE_MAX);
	session_reset_txn(s);
	session_enter_state(s, ST_GREETED);
	s->esmtp = 0;
	s->tls_active = 1;
}

/* 1 if STARTTLS may be offered and used now. */
int cmd_starttls_allowed(const struct session *s)
{
	return s->args->mode == MODE_STARTTLS && !s->tls_active && !s->authenticated;
}

void cmd_starttls(struct session *s, const char *arg, size_t n)
{
	struct tlsctl_result res;
	struct logline l;
	size_t dropped;
	int rc;

	if (s->args->mode == MODE_PLAIN) {
		reply_error(s, 502, "5.5.1 STARTTLS not offered on this listener");
		return;
	}
	if (!cmd_starttls_allowed(s)) {
		reply_error(s, 503, s->tls_active ? "5.5.1 TLS already active"
		                                  : "5.5.1 STARTTLS not allowed after AUTH");
		return;
	}
	if (n > 0) {
		reply_error(s, 501, "5.5.4 Syntax: STARTTLS");
		return;
	}
	reply_flush(s);
	if (s->end != END_NONE)
		return;
	dropped = bufin_avail(&s->in);
	rc = ask_tlsd(s, &res);
	if (rc == -1) {
		/* tlsd never got the request, so the client got no 220. */
		log_event("tls-failed", "reason=control-send");
		reply(s, 454, "4.7.0 TLS not available");
		return;
	}
	if (rc == -3) {
		/* tlsd has sent its 220 and holds the client (handshake): no
		 * SMTP reply can follow.  Mostly the pre-AUTH deadline. */
		session_timed_out(s, 0);
		return;
	}
	if (rc < 0 || !res.ok) {
		ll_begin(&l, "tls-failed");
		ll_str(&l, "reason", res.reason[0] ? res.reason : "control-channel");
		ll_emit(&l);
		session_end(s, END_TLS_FAILED);
		return;
	}
	switch_to_tls(s);
	ll_begin(&l, "starttls");
	ll_str(&l, "version", res.facts.version);
	ll_str(&l, "cipher", res.facts.cipher);
	ll_u64(&l, "discarded", dropped);
	ll_emit(&l);
}
