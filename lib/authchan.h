/*
 * authchan.h — the auth channel between a session's postern-smtpd (fd 4;
 * smtpd/auth_client.c) and postern-authd (auth/serve.c, auth/request.c):
 * its whole grammar, written once and linked by both ends.
 * SOCK_SEQPACKET, one netstring frame per packet (lib/netstring.h):
 *
 *   smtpd -> authd:  `auth` mech(`plain`|`login`) authzid login password
 *                    (each field at most AUTHCHAN_FIELD_MAX bytes without
 *                    NUL; login and password not empty)
 *   authd -> smtpd:  `ok` ticket            (1..TICKET_MAX bytes)
 *                 |  `no` code text         (code 400..599; text printable
 *                                            ASCII, 1..AUTHCHAN_TEXT_MAX)
 *
 * One request in flight at a time.  Failure policy: the writers refuse
 * (NULL) what the grammar does not allow rather than send it; a reader
 * returns -1 for anything else, and the reading end closes the channel
 * (authd: that session; smtpd: 454 4.7.0).  The request carries a
 * password: callers wipe the frame buffers and the parsed request.
 * Pure (fuzz, unit tests).
 */
#ifndef POSTERN_AUTHCHAN_H
#define POSTERN_AUTHCHAN_H

#include <stddef.h>

#include "ticket.h"

#define AUTHCHAN_FIELD_MAX 256	/* smtpd's SASL_FIELD_MAX */
#define AUTHCHAN_TEXT_MAX 400
#define AUTHCHAN_FRAME_MAX 2048

struct authchan_request {
	char mech[8];				/* "plain" or "login" */
	char authzid[AUTHCHAN_FIELD_MAX + 1];
	char login[AUTHCHAN_FIELD_MAX + 1];
	char password[AUTHCHAN_FIELD_MAX + 1];
	size_t password_len;
};

enum authchan_kind { AUTHCHAN_OK, AUTHCHAN_NO };

struct authchan_answer {
	enum authchan_kind kind;
	unsigned char ticket[TICKET_MAX];	/* AUTHCHAN_OK */
	size_t ticket_len;
	int code;				/* AUTHCHAN_NO */
	char text[AUTHCHAN_TEXT_MAX + 1];
	size_t text_len;
};

/* Frames into buf[cap]: the frame and its length in *n, or NULL. */
const unsigned char *authchan_write_request(unsigned char *buf, size_t cap, size_t *n,
                                            const char *mech, const char *authzid,
                                            const char *login, const char *password);
const unsigned char *authchan_write_ok(unsigned char *buf, size_t cap, size_t *n,
                                       const unsigned char *ticket, size_t ticket_len);
const unsigned char *authchan_write_no(unsigned char *buf, size_t cap, size_t *n,
                                       unsigned code, const char *text);

/* Read a frame payload p[0..n).  0, or -1 outside the grammar (*r / *a
 * then holds nothing: a request's password is wiped). */
int authchan_read_request(const unsigned char *p, size_t n, struct authchan_request *r);
int authchan_read_answer(const unsigned char *p, size_t n, struct authchan_answer *a);

/* 1 if text[0..n) may be a `no` text. */
int authchan_text_ok(const unsigned char *text, size_t n);

#endif
