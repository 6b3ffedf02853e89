/*
 * ticket.h — the session ticket of DESIGN §2 step 5: proof, from
 * postern-authd to postern-queued, that a login authenticated in one
 * session.  postern-smtpd carries it but cannot forge or move it: the tag
 * is crypto_auth (HMAC-SHA512-256) under the auth MAC key that only the
 * master, authd and queued hold, over
 *
 *     "postern-ticket-v1" ‖ session id (RANDID_LEN bytes) ‖ login
 *
 * The session id has a fixed length, so the concatenation is unambiguous.
 * queued verifies with the session id of the socket the ticket arrived on
 * (a trusted fact from the master), never with an id smtpd sends, so a
 * ticket replayed into another session fails.
 *
 * Wire form (what smtpd stores and forwards): tag (32 bytes) ‖ login.
 */
#ifndef POSTERN_TICKET_H
#define POSTERN_TICKET_H

#include <stddef.h>
#include <sodium.h>

#include "randid.h"

#define TICKET_KEY_LEN crypto_auth_KEYBYTES
#define TICKET_TAG_LEN crypto_auth_BYTES
#define TICKET_LOGIN_MAX 256
#define TICKET_MAX (TICKET_TAG_LEN + TICKET_LOGIN_MAX)

/* Build the ticket for login in session_id into out[cap]; returns its
 * length, or 0 if the login is empty or too long or out too small. */
size_t ticket_make(unsigned char *out, size_t cap,
                   const unsigned char key[TICKET_KEY_LEN],
                   const char session_id[RANDID_LEN],
                   const char *login, size_t loginlen);

/* Check a ticket against session_id (constant time).  On success copies the
 * login, NUL-terminated, into login[cap] and returns 0; -1 otherwise (bad
 * tag, bad length, login with a NUL or too long for login[cap]). */
int ticket_verify(const unsigned char *ticket, size_t n,
                  const unsigned char key[TICKET_KEY_LEN],
                  const char session_id[RANDID_LEN],
                  char *login, size_t cap);

#endif
