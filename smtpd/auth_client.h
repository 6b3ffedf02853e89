/*
 * auth_client.h — postern-smtpd's side of the auth channel (fd 4; the
 * grammar, `auth` out and `ok`/`no` in, is lib/authchan.h, which
 * postern-authd links too).
 *
 * One request in flight at a time.  Failure policy: EOF, an error, a
 * timeout, a malformed frame, an unknown verb, a code out of range or
 * unprintable text all mean "authentication unavailable": the channel is
 * shut down and the caller answers 454 4.7.0.  The frame that carried
 * the password is wiped after sending.
 */
#ifndef POSTERN_SMTPD_AUTH_CLIENT_H
#define POSTERN_SMTPD_AUTH_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "authchan.h"
#include "sasl.h"
#include "ticket.h"

#define AUTH_TEXT_MAX AUTHCHAN_TEXT_MAX

enum auth_result {
	AUTH_OK,		/* ticket set */
	AUTH_NO,		/* code and text set */
	AUTH_UNAVAILABLE,	/* channel dead or peer misbehaved */
};

struct auth_answer {
	unsigned char ticket[TICKET_MAX];	/* lib/ticket.h: tag and login */
	size_t ticket_len;
	int code;
	char text[AUTH_TEXT_MAX + 1];
	size_t text_len;
};

/* Ask authd on fd to verify creds with mechanism mech ("plain"/"login"). */
enum auth_result auth_client_verify(int fd, const char *mech,
                                    const struct sasl_creds *creds,
                                    int64_t deadline_ms, struct auth_answer *ans);

#endif
