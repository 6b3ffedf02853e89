/*
 * tlsctl.c — parsing and building the frames of the smtpd <-> tlsd control
 * channel (grammar in tlsctl.h).  Linked into postern-smtpd and
 * postern-tlsd; pure functions, no syscalls.  Failure policy: fail closed
 * (-1 / NULL); the caller ends its side of the session.
 */
#include "tlsctl.h"

#include "netstring.h"

#include <string.h>

/* 1 if t[0..n) is printable ASCII (space included), 1..TLSCTL_TEXT_MAX. */
static int text_ok(const char *t, size_t n)
{
	size_t i;

	if (n == 0 || n > TLSCTL_TEXT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (t[i] < ' ' || t[i] > '~')
			return 0;
	return 1;
}

/* 1 if r is a failure reason token: 1..TLSCTL_REASON_MAX of [a-z-]. */
static int reason_ok(const char *r)
{
	size_t i, n = strlen(r);

	if (n == 0 || n > TLSCTL_REASON_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || r[i] == '-'))
			return 0;
	return 1;
}

int tlsctl_parse_request(const unsigned char *payload, size_t n, char *text, size_t cap)
{
	struct frame_reader r;

	fr_init(&r, payload, n);
	if (cap <= TLSCTL_TEXT_MAX || fr_is(&r, "starttls") != 1 ||
	    fr_str(&r, text, TLSCTL_TEXT_MAX + 1) < 0 || fr_end(&r) < 0 ||
	    !text_ok(text, strlen(text))) {
		if (cap > 0)
			text[0] = '\0';
		return -1;
	}
	return 0;
}

const unsigned char *tlsctl_build_request(unsigned char *buf, size_t cap,
                                          const char *text, size_t *n)
{
	struct frame_writer w;

	if (!text_ok(text, strlen(text)))
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "starttls");
	fw_str(&w, text);
	return fw_finish(&w, n);
}

int tlsctl_parse_result(const unsigned char *payload, size_t n, struct tlsctl_result *res)
{
	struct frame_reader r;
	int is_ok;

	memset(res, 0, sizeof *res);
	fr_init(&r, payload, n);
	is_ok = fr_is(&r, "ok");
	if (is_ok == 1) {
		if (fr_str(&r, res->facts.version, sizeof res->facts.version) < 0 ||
		    fr_str(&r, res->facts.cipher, sizeof res->facts.cipher) < 0 ||
		    fr_end(&r) < 0 || !tlsfacts_version_ok(res->facts.version) ||
		    !tlsfacts_cipher_ok(res->facts.cipher))
			goto bad;
		res->ok = 1;
		return 0;
	}
	if (is_ok < 0 || fr_is(&r, "fail") != 1 ||
	    fr_str(&r, res->reason, sizeof res->reason) < 0 || fr_end(&r) < 0 ||
	    !reason_ok(res->reason))
		goto bad;
	return 0;
bad:
	memset(res, 0, sizeof *res);
	return -1;
}

const unsigned char *tlsctl_build_result(unsigned char *buf, size_t cap,
                                         const struct tls_facts *facts,
                                         const char *reason, size_t *n)
{
	struct frame_writer w;

	fw_init(&w, buf, cap);
	if (facts != NULL) {
		if (!tlsfacts_version_ok(facts->version) || !tlsfacts_cipher_ok(facts->cipher))
			return NULL;
		fw_str(&w, "ok");
		fw_str(&w, facts->version);
		fw_str(&w, facts->cipher);
	} else {
		if (reason == NULL || !reason_ok(reason))
			return NULL;
		fw_str(&w, "fail");
		fw_str(&w, reason);
	}
	return fw_finish(&w, n);
}
