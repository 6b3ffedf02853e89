/*
 * request.h — postern-authd's reading of one frame from a session's auth
 * channel (grammar: lib/authchan.h, the module smtpd's end links too):
 *
 *   smtpd -> authd:  `auth` mech(`plain`|`login`) authzid login password
 *
 * every field a netstring of at most REQ_FIELD_MAX bytes without NUL.
 * The bytes come from postern-smtpd, which parses the network and is
 * therefore untrusted: anything that does not match exactly is
 * REQ_MALFORMED and the caller closes that session's channel.
 */
#ifndef POSTERN_AUTH_REQUEST_H
#define POSTERN_AUTH_REQUEST_H

#include <stddef.h>

#include "authchan.h"
#include "login.h"

#define REQ_FIELD_MAX AUTHCHAN_FIELD_MAX

enum req_result {
	REQ_OK,			/* login normalised, password set */
	REQ_MALFORMED,		/* close the channel */
	REQ_AUTHZID,		/* authzid given and not the login: refuse */
	REQ_BAD_LOGIN,		/* login is not an address: a failure */
};

struct auth_request {
	char mech[8];
	char login[LOGIN_MAX + 1];		/* normalised (login.h) */
	char raw_login[REQ_FIELD_MAX + 1];	/* as sent, for the log */
	char password[REQ_FIELD_MAX + 1];
	size_t password_len;
};

/* Parse the frame payload p[0..n) into r.  On every result but REQ_OK
 * the password is already wiped. */
enum req_result auth_request_parse(const unsigned char *p, size_t n,
                                   struct auth_request *r);

/* Wipe the password (sodium_memzero). */
void auth_request_wipe(struct auth_request *r);

#endif
