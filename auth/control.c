/*
 * control.c — parsing the master's control frames (control.h).  Pure, no
 * allocation; fuzzed together with request.c by fuzz/fuzz_auth_frames.c.
 */
#include <string.h>

#include "control.h"
#include "netstring.h"

/* 1 if s is a session id: RANDID_LEN characters of a-z2-7. */
static int valid_id(const char *s)
{
	if (strlen(s) != RANDID_LEN)
		return 0;
	for (size_t i = 0; i < RANDID_LEN; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
			return 0;
	}
	return 1;
}

/* `session` id ip port listener mode */
static int parse_session(struct frame_reader *r, struct ctl_msg *m)
{
	char mode[16];

	if (fr_str(r, m->id, sizeof(m->id)) < 0 || fr_str(r, m->ip, sizeof(m->ip)) < 0 ||
	    fr_u64(r, &m->port, 65535) < 0 ||
	    fr_str(r, m->listener, sizeof(m->listener)) < 0 ||
	    fr_str(r, mode, sizeof(mode)) < 0 || fr_end(r) < 0 || !valid_id(m->id) ||
	    m->ip[0] == '\0')
		return -1;
	if (strcmp(mode, "plain") == 0)
		m->plain = 1;
	else if (strcmp(mode, "starttls") == 0 || strcmp(mode, "tls") == 0)
		m->plain = 0;
	else
		return -1;
	return 0;
}

/* Parse one control frame (see control.h). */
int ctl_parse(const unsigned char *p, size_t n, size_t nfds, struct ctl_msg *m)
{
	struct frame_reader r;
	const unsigned char *b;
	size_t blen;

	memset(m, 0, sizeof(*m));
	fr_init(&r, p, n);
	if (fr_is(&r, "key") == 1) {
		m->verb = CTL_KEY;
		if (nfds != 0 || fr_bytes(&r, &b, &blen, TICKET_KEY_LEN) < 0 ||
		    blen != TICKET_KEY_LEN || fr_end(&r) < 0)
			return -1;
		memcpy(m->key, b, TICKET_KEY_LEN);
		return 0;
	}
	if (fr_is(&r, "table") == 1) {
		m->verb = CTL_TABLE;
		return nfds == 1 && fr_is(&r, "users") == 1 && fr_end(&r) == 0 ? 0 : -1;
	}
	if (fr_is(&r, "session") == 1) {
		m->verb = CTL_SESSION;
		return nfds == 1 ? parse_session(&r, m) : -1;
	}
	if (fr_is(&r, "tls") == 1) {
		m->verb = CTL_TLS;
		if (nfds != 0 || fr_str(&r, m->id, sizeof(m->id)) < 0 ||
		    fr_str(&r, m->tls_version, sizeof(m->tls_version)) < 0 ||
		    fr_str(&r, m->tls_cipher, sizeof(m->tls_cipher)) < 0 || fr_end(&r) < 0 ||
		    !valid_id(m->id))
			return -1;
		return 0;
	}
	return -1;
}
