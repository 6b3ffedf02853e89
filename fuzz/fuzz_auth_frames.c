/*
 * fuzz_auth_frames.c — libFuzzer target for postern-authd's parsers of
 * untrusted and semi-trusted frames: auth/request.c (the `auth` frame a
 * possibly compromised postern-smtpd sends, lib/authchan.c) with
 * auth/login.c, and lib/ctlchan.c (the master's control frames; the
 * input is the whole packet).
 *
 * The first input byte chooses the parser (even: request, odd: control
 * with (byte >> 1) & 1 descriptors); the rest is the frame payload.
 * Aborts unless:
 *  - an accepted request has mech plain|login, a non-empty password
 *    without NUL, a login that login_normalize accepts again unchanged
 *    (normalisation is idempotent) and contains exactly one '@' boundary;
 *  - a refused request leaves the password wiped;
 *  - an accepted session frame has a 20-character base32 id.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlchan.h"
#include "../auth/login.h"
#include "../auth/request.h"

/* Abort unless cond. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* The invariants of one parsed request. */
static void check_request(const unsigned char *p, size_t n)
{
	struct auth_request r;
	char again[LOGIN_MAX + 1];
	enum req_result res = auth_request_parse(p, n, &r);

	if (res != REQ_OK) {
		for (size_t i = 0; i < sizeof(r.password); i++)
			check(r.password[i] == 0);
		check(r.password_len == 0);
		return;
	}
	check(strcmp(r.mech, "plain") == 0 || strcmp(r.mech, "login") == 0);
	check(r.password_len > 0 && r.password_len == strlen(r.password));
	check(login_normalize(r.login, strlen(r.login), again) == 0);
	check(strcmp(again, r.login) == 0);
	check(strchr(r.login, '@') != NULL && strlen(r.login) <= LOGIN_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_msg m;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		check_request(data + 1, size - 1);
		return 0;
	}
	if (ctlchan_parse(data + 1, size - 1, (data[0] >> 1) & 1, &m) == 0) {
		unsigned char buf[CTLCHAN_FRAME_MAX];
		const unsigned char *f;
		size_t n;

		if (m.verb == CTL_SESSION)
			check(strlen(m.id) == RANDID_LEN && m.port <= 65535 && ((data[0] >> 1) & 1));
		/* one form per message: what parses writes back the same */
		f = ctlchan_write(buf, sizeof buf, &n, &m);
		check(f != NULL && n == size - 1 && memcmp(f, data + 1, n) == 0);
	}
	return 0;
}
