/*
 * ctlchan.c — the master <-> daemon control channel (ctlchan.h), both
 * directions, for every end.  Pure.
 */
#include <sodium.h>
#include <string.h>

#include "ctlchan.h"
#include "netstring.h"

static const char *const verbs[] = {
	[CTL_KEY] = "key", [CTL_TABLE] = "table", [CTL_SESSION] = "session",
	[CTL_TLS] = "tls", [CTL_WORKER] = "worker", [CTL_READY] = "ready",
};

/* Descriptors each verb carries. */
static const size_t verb_fds[] = {
	[CTL_KEY] = 0, [CTL_TABLE] = 1, [CTL_SESSION] = 1,
	[CTL_TLS] = 0, [CTL_WORKER] = 1, [CTL_READY] = 0,
};

/* 1 if s is a session id: RANDID_LEN characters of a-z2-7. */
static int id_ok(const char *s)
{
	if (strnlen(s, RANDID_LEN + 1) != RANDID_LEN)
		return 0;
	for (size_t i = 0; i < RANDID_LEN; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
			return 0;
	}
	return 1;
}

/* 1 if s is 1..max printable ASCII bytes without space. */
static int word_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* 1 if s is at most max printable ASCII bytes (space allowed). */
static int text_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* 1 if the fields of m's verb are inside the grammar. */
static int fields_ok(const struct ctl_msg *m)
{
	switch (m->verb) {
	case CTL_TABLE:
		return word_ok(m->table, CTLCHAN_TABLE_MAX);
	case CTL_SESSION:
		return id_ok(m->id) && word_ok(m->ip, CTLCHAN_IP_MAX) && m->port <= 65535 &&
		       text_ok(m->listener, CTLCHAN_LISTENER_MAX) &&
		       (strcmp(m->mode, "plain") == 0 || strcmp(m->mode, "starttls") == 0 ||
		        strcmp(m->mode, "tls") == 0);
	case CTL_TLS:
		return id_ok(m->id) && tlsfacts_version_ok(m->tls_version) &&
		       tlsfacts_cipher_ok(m->tls_cipher);
	case CTL_WORKER:
		return (strcmp(m->kind, "smtp") == 0 || strcmp(m->kind, "maildir") == 0) &&
		       text_ok(m->route, CTLCHAN_ROUTE_MAX);
	default:
		return 1;
	}
}

/* Write one frame (see ctlchan.h). */
const unsigned char *ctlchan_write(unsigned char *buf, size_t cap, size_t *n,
                                   const struct ctl_msg *m)
{
	struct frame_writer w;

	if ((unsigned)m->verb > CTL_READY || !fields_ok(m))
		return NULL;
	fw_init(&w, buf, cap < CTLCHAN_FRAME_MAX ? cap : CTLCHAN_FRAME_MAX);
	fw_str(&w, verbs[m->verb]);
	switch (m->verb) {
	case CTL_KEY:
		fw_bytes(&w, m->key, sizeof m->key);
		break;
	case CTL_TABLE:
		fw_str(&w, m->table);
		break;
	case CTL_SESSION:
		fw_str(&w, m->id);
		fw_str(&w, m->ip);
		fw_u64(&w, m->port);
		fw_str(&w, m->listener);
		fw_str(&w, m->mode);
		break;
	case CTL_TLS:
		fw_str(&w, m->id);
		fw_str(&w, m->tls_version);
		fw_str(&w, m->tls_cipher);
		break;
	case CTL_WORKER:
		fw_str(&w, m->kind);
		fw_str(&w, m->route);
		break;
	case CTL_READY:
		break;
	}
	return fw_finish(&w, n);
}

/* The fields after the verb. */
static int read_fields(struct frame_reader *r, struct ctl_msg *m)
{
	const unsigned char *b;
	size_t blen;

	switch (m->verb) {
	case CTL_KEY:
		if (fr_bytes(r, &b, &blen, TICKET_KEY_LEN) < 0 || blen != TICKET_KEY_LEN)
			return -1;
		memcpy(m->key, b, TICKET_KEY_LEN);
		return 0;
	case CTL_TABLE:
		return fr_str(r, m->table, sizeof m->table);
	case CTL_SESSION:
		return fr_str(r, m->id, sizeof m->id) | fr_str(r, m->ip, sizeof m->ip) |
		       fr_u64(r, &m->port, 65535) | fr_str(r, m->listener, sizeof m->listener) |
		       fr_str(r, m->mode, sizeof m->mode);
	case CTL_TLS:
		return fr_str(r, m->id, sizeof m->id) |
		       fr_str(r, m->tls_version, sizeof m->tls_version) |
		       fr_str(r, m->tls_cipher, sizeof m->tls_cipher);
	case CTL_WORKER:
		return fr_str(r, m->kind, sizeof m->kind) | fr_str(r, m->route, sizeof m->route);
	default:
		return 0;
	}
}

/* Parse one packet (see ctlchan.h). */
int ctlchan_parse(const unsigned char *pkt, size_t n, size_t nfds, struct ctl_msg *m)
{
	struct frame_reader r;
	int k;

	memset(m, 0, sizeof *m);
	k = fr_packet(&r, pkt, n, CTLCHAN_FRAME_MAX, verbs, CTL_READY + 1);
	if (k < 0)
		return -1;
	m->verb = (enum ctl_verb)k;
	if (nfds != verb_fds[k] || read_fields(&r, m) != 0 || fr_end(&r) != 0 || !fields_ok(m)) {
		sodium_memzero(m, sizeof *m);
		return -1;
	}
	m->plain = m->verb == CTL_SESSION && strcmp(m->mode, "plain") == 0;
	return 0;
}
