/*
 * ticket.c — making and checking session tickets (see ticket.h).  Used by
 * postern-authd (make) and postern-queued (verify); no descriptors, no
 * allocation.  Fails closed: anything but an exact, authentic ticket for
 * this session is refused.
 */
#include "ticket.h"

#include <string.h>

static const char ticket_context[] = "postern-ticket-v1";

/* The MAC over context ‖ session id ‖ login. */
static void ticket_tag(unsigned char tag[TICKET_TAG_LEN],
                       const unsigned char key[TICKET_KEY_LEN],
                       const char session_id[RANDID_LEN],
                       const char *login, size_t loginlen)
{
	crypto_auth_hmacsha512256_state st;

	crypto_auth_hmacsha512256_init(&st, key, TICKET_KEY_LEN);
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)ticket_context,
	                                 sizeof ticket_context - 1);
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)session_id,
	                                 RANDID_LEN);
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)login, loginlen);
	crypto_auth_hmacsha512256_final(&st, tag);
	sodium_memzero(&st, sizeof st);
}

/* Build tag ‖ login into out. */
size_t ticket_make(unsigned char *out, size_t cap,
                   const unsigned char key[TICKET_KEY_LEN],
                   const char session_id[RANDID_LEN],
                   const char *login, size_t loginlen)
{
	if (loginlen == 0 || loginlen > TICKET_LOGIN_MAX)
		return 0;
	if (memchr(login, '\0', loginlen) != NULL)
		return 0;
	if (cap < TICKET_TAG_LEN + loginlen)
		return 0;
	ticket_tag(out, key, session_id, login, loginlen);
	memcpy(out + TICKET_TAG_LEN, login, loginlen);
	return TICKET_TAG_LEN + loginlen;
}

/* Recompute the tag for this session and compare in constant time. */
int ticket_verify(const unsigned char *ticket, size_t n,
                  const unsigned char key[TICKET_KEY_LEN],
                  const char session_id[RANDID_LEN],
                  char *login, size_t cap)
{
	unsigned char tag[TICKET_TAG_LEN];
	const char *name;
	size_t namelen;
	int ok;

	if (n <= TICKET_TAG_LEN || n > TICKET_MAX)
		return -1;
	name = (const char *)ticket + TICKET_TAG_LEN;
	namelen = n - TICKET_TAG_LEN;
	if (namelen >= cap || memchr(name, '\0', namelen) != NULL)
		return -1;
	ticket_tag(tag, key, session_id, name, namelen);
	ok = crypto_verify_32(tag, ticket) == 0;
	sodium_memzero(tag, sizeof tag);
	if (!ok)
		return -1;
	memcpy(login, name, namelen);
	login[namelen] = '\0';
	return 0;
}
