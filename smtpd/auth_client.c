/*
 * auth_client.c — one `auth` request to postern-authd over fd 4 and the
 * parsing of its answer (grammar and failure policy in auth_client.h).
 * Runs inside postern-smtpd's sandbox: stack buffers only.
 */
#include "auth_client.h"

#include "chan.h"
#include "netstring.h"
#include "reply.h"

#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#define AUTH_FRAME_MAX 2048

/* Read authd's answer from payload into ans. */
static enum auth_result parse_answer(const unsigned char *p, size_t n,
                                     struct auth_answer *ans)
{
	struct frame_reader r;
	const unsigned char *f;
	size_t flen;
	uint64_t code;

	fr_init(&r, p, n);
	if (fr_is(&r, "ok") == 1) {
		if (fr_bytes(&r, &f, &flen, sizeof ans->ticket) < 0 || flen == 0 ||
		    fr_end(&r) < 0)
			return AUTH_UNAVAILABLE;
		memcpy(ans->ticket, f, flen);
		ans->ticket_len = flen;
		return AUTH_OK;
	}
	if (fr_is(&r, "no") == 1) {
		if (fr_u64(&r, &code, 599) < 0 || code < 400 ||
		    fr_bytes(&r, &f, &flen, AUTH_TEXT_MAX) < 0 || fr_end(&r) < 0 ||
		    !reply_text_ok(f, flen))
			return AUTH_UNAVAILABLE;
		ans->code = (int)code;
		memcpy(ans->text, f, flen);
		ans->text[flen] = '\0';
		ans->text_len = flen;
		return AUTH_NO;
	}
	return AUTH_UNAVAILABLE;
}

enum auth_result auth_client_verify(int fd, const char *mech,
                                    const struct sasl_creds *creds,
                                    int64_t deadline_ms, struct auth_answer *ans)
{
	unsigned char buf[AUTH_FRAME_MAX];
	struct frame_writer w;
	const unsigned char *frame, *payload;
	size_t n, plen;
	enum auth_result res;
	int rc;

	memset(ans, 0, sizeof *ans);
	fw_init(&w, buf, sizeof buf);
	fw_str(&w, "auth");
	fw_str(&w, mech);
	fw_str(&w, creds->authzid);
	fw_str(&w, creds->login);
	fw_str(&w, creds->password);
	frame = fw_finish(&w, &n);
	rc = frame ? chan_send(fd, frame, n, deadline_ms) : -1;
	sodium_memzero(buf, sizeof buf);
	if (rc < 0)
		goto dead;
	if (chan_recv(fd, buf, sizeof buf, &payload, &plen, deadline_ms) <= 0)
		goto dead;
	res = parse_answer(payload, plen, ans);
	sodium_memzero(buf, sizeof buf);
	if (res != AUTH_UNAVAILABLE)
		return res;
dead:
	shutdown(fd, SHUT_RDWR);
	return AUTH_UNAVAILABLE;
}
