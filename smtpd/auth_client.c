/*
 * auth_client.c — one `auth` request to postern-authd over fd 4 and the
 * parsing of its answer (grammar in lib/authchan.h, which authd links
 * too; failure policy in auth_client.h).
 * Runs inside postern-smtpd's sandbox: stack buffers only.
 */
#include "auth_client.h"

#include "authchan.h"
#include "chan.h"

#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

/* authd's answer in payload p[0..n) into ans (lib/authchan.h). */
static enum auth_result parse_answer(const unsigned char *p, size_t n,
                                     struct auth_answer *ans)
{
	struct authchan_answer a;
	enum auth_result res = AUTH_UNAVAILABLE;

	if (authchan_read_answer(p, n, &a) != 0) {
		res = AUTH_UNAVAILABLE;
	} else if (a.kind == AUTHCHAN_OK) {
		memcpy(ans->ticket, a.ticket, a.ticket_len);
		ans->ticket_len = a.ticket_len;
		res = AUTH_OK;
	} else {
		ans->code = a.code;
		memcpy(ans->text, a.text, a.text_len + 1);
		ans->text_len = a.text_len;
		res = AUTH_NO;
	}
	sodium_memzero(&a, sizeof a);
	return res;
}

enum auth_result auth_client_verify(int fd, const char *mech,
                                    const struct sasl_creds *creds,
                                    int64_t deadline_ms, struct auth_answer *ans)
{
	unsigned char buf[AUTHCHAN_FRAME_MAX];
	const unsigned char *frame, *payload;
	size_t n, plen;
	enum auth_result res;
	int rc;

	memset(ans, 0, sizeof *ans);
	frame = authchan_write_request(buf, sizeof buf, &n, mech, creds->authzid, creds->login,
	                               creds->password);
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
