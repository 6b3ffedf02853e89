/*
 * request.c — parsing an `auth` frame from postern-smtpd (request.h).
 * Runs in postern-authd's sandbox; pure, no allocation, fuzzed by
 * fuzz/fuzz_auth_request.c.  Failure policy: fail closed; the password is
 * wiped on every path that does not hand it on.
 */
#include <sodium.h>
#include <string.h>

#include "netstring.h"
#include "request.h"

/* Wipe the password. */
void auth_request_wipe(struct auth_request *r)
{
	sodium_memzero(r->password, sizeof(r->password));
	r->password_len = 0;
}

/* The fields in order; REQ_MALFORMED on any deviation. */
static enum req_result read_fields(struct frame_reader *fr, struct auth_request *r,
                                   char *authzid, size_t authzcap)
{
	if (fr_is(fr, "auth") != 1)
		return REQ_MALFORMED;
	if (fr_is(fr, "plain") == 1)
		memcpy(r->mech, "plain", 6);
	else if (fr_is(fr, "login") == 1)
		memcpy(r->mech, "login", 6);
	else
		return REQ_MALFORMED;
	if (fr_str(fr, authzid, authzcap) < 0 ||
	    fr_str(fr, r->raw_login, sizeof(r->raw_login)) < 0 ||
	    fr_str(fr, r->password, sizeof(r->password)) < 0 || fr_end(fr) < 0)
		return REQ_MALFORMED;
	r->password_len = strlen(r->password);
	if (r->raw_login[0] == '\0' || r->password_len == 0)
		return REQ_MALFORMED;	/* smtpd never sends these */
	return REQ_OK;
}

/* Parse (see request.h). */
enum req_result auth_request_parse(const unsigned char *p, size_t n,
                                   struct auth_request *r)
{
	struct frame_reader fr;
	char authzid[REQ_FIELD_MAX + 1];
	char authz_norm[LOGIN_MAX + 1];
	enum req_result res;

	memset(r, 0, sizeof(*r));
	fr_init(&fr, p, n);
	res = read_fields(&fr, r, authzid, sizeof(authzid));
	if (res == REQ_OK && login_normalize(r->raw_login, strlen(r->raw_login),
	                                     r->login) != 0)
		res = REQ_BAD_LOGIN;
	/* RFC 4616 §2: an authzid equal to the login is the same as none;
	 * acting as someone else is not offered. */
	if (res == REQ_OK && authzid[0] != '\0' &&
	    (login_normalize(authzid, strlen(authzid), authz_norm) != 0 ||
	     strcmp(authz_norm, r->login) != 0))
		res = REQ_AUTHZID;
	if (res != REQ_OK)
		auth_request_wipe(r);
	return res;
}
