/*
 * request.c — an `auth` frame from postern-smtpd (request.h): the
 * channel's grammar is lib/authchan.h (smtpd links the same file); this
 * adds the login's normalisation and the authzid rule.
 * Runs in postern-authd's sandbox; pure, no allocation, fuzzed by
 * fuzz/fuzz_auth_request.c.  Failure policy: fail closed; the password is
 * wiped on every path that does not hand it on.
 */
#include <sodium.h>
#include <string.h>

#include "authchan.h"
#include "request.h"

/* Wipe the password. */
void auth_request_wipe(struct auth_request *r)
{
	sodium_memzero(r->password, sizeof(r->password));
	r->password_len = 0;
}

/* Parse (see request.h). */
enum req_result auth_request_parse(const unsigned char *p, size_t n,
                                   struct auth_request *r)
{
	struct authchan_request in;
	char authz_norm[LOGIN_MAX + 1];
	enum req_result res = REQ_OK;

	memset(r, 0, sizeof(*r));
	if (authchan_read_request(p, n, &in) != 0)
		return REQ_MALFORMED;
	memcpy(r->mech, in.mech, sizeof(r->mech));
	memcpy(r->raw_login, in.login, sizeof(r->raw_login));
	memcpy(r->password, in.password, sizeof(r->password));
	r->password_len = in.password_len;
	if (login_normalize(r->raw_login, strlen(r->raw_login), r->login) != 0)
		res = REQ_BAD_LOGIN;
	/* RFC 4616 §2: an authzid equal to the login is the same as none;
	 * acting as someone else is not offered. */
	if (res == REQ_OK && in.authzid[0] != '\0' &&
	    (login_normalize(in.authzid, strlen(in.authzid), authz_norm) != 0 ||
	     strcmp(authz_norm, r->login) != 0))
		res = REQ_AUTHZID;
	sodium_memzero(&in, sizeof(in));
	if (res != REQ_OK)
		auth_request_wipe(r);
	return res;
}
