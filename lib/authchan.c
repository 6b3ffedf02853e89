/*
 * authchan.c — the smtpd <-> authd channel (authchan.h), both directions,
 * for both ends.  Pure; every byte read is untrusted (authd reads a
 * process that parses the network; smtpd trusts authd no further than
 * the grammar).
 */
#include <sodium.h>
#include <string.h>

#include "authchan.h"
#include "netstring.h"

/* 1 if s is a field: at most AUTHCHAN_FIELD_MAX bytes (NUL-free by
 * construction). */
static int field_ok(const char *s)
{
	return strnlen(s, AUTHCHAN_FIELD_MAX + 1) <= AUTHCHAN_FIELD_MAX;
}

/* The `auth` request (see authchan.h). */
const unsigned char *authchan_write_request(unsigned char *buf, size_t cap, size_t *n,
                                            const char *mech, const char *authzid,
                                            const char *login, const char *password)
{
	struct frame_writer w;

	if ((strcmp(mech, "plain") != 0 && strcmp(mech, "login") != 0) || !field_ok(authzid) ||
	    !field_ok(login) || !field_ok(password) || login[0] == '\0' || password[0] == '\0')
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "auth");
	fw_str(&w, mech);
	fw_str(&w, authzid);
	fw_str(&w, login);
	fw_str(&w, password);
	return fw_finish(&w, n);
}

/* 1 if text may be a `no` text. */
int authchan_text_ok(const unsigned char *text, size_t n)
{
	if (n == 0 || n > AUTHCHAN_TEXT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (text[i] < ' ' || text[i] > '~')
			return 0;
	return 1;
}

/* `ok` ticket (see authchan.h). */
const unsigned char *authchan_write_ok(unsigned char *buf, size_t cap, size_t *n,
                                       const unsigned char *ticket, size_t ticket_len)
{
	struct frame_writer w;

	if (ticket_len == 0 || ticket_len > TICKET_MAX)
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "ok");
	fw_bytes(&w, ticket, ticket_len);
	return fw_finish(&w, n);
}

/* `no` code text (see authchan.h). */
const unsigned char *authchan_write_no(unsigned char *buf, size_t cap, size_t *n,
                                       unsigned code, const char *text)
{
	struct frame_writer w;

	if (code < 400 || code > 599 ||
	    !authchan_text_ok((const unsigned char *)text, strnlen(text, AUTHCHAN_TEXT_MAX + 1)))
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "no");
	fw_u64(&w, code);
	fw_str(&w, text);
	return fw_finish(&w, n);
}

/* The `auth` request's fields, in order. */
static int request_fields(struct frame_reader *fr, struct authchan_request *r)
{
	if (fr_is(fr, "auth") != 1)
		return -1;
	if (fr_is(fr, "plain") == 1)
		memcpy(r->mech, "plain", 6);
	else if (fr_is(fr, "login") == 1)
		memcpy(r->mech, "login", 6);
	else
		return -1;
	if (fr_str(fr, r->authzid, sizeof r->authzid) < 0 ||
	    fr_str(fr, r->login, sizeof r->login) < 0 ||
	    fr_str(fr, r->password, sizeof r->password) < 0 || fr_end(fr) < 0)
		return -1;
	r->password_len = strlen(r->password);
	return r->login[0] != '\0' && r->password_len > 0 ? 0 : -1;
}

/* Read a request (see authchan.h). */
int authchan_read_request(const unsigned char *p, size_t n, struct authchan_request *r)
{
	struct frame_reader fr;

	memset(r, 0, sizeof *r);
	fr_init(&fr, p, n);
	if (request_fields(&fr, r) == 0)
		return 0;
	sodium_memzero(r, sizeof *r);
	return -1;
}

/* Read an answer (see authchan.h). */
int authchan_read_answer(const unsigned char *p, size_t n, struct authchan_answer *a)
{
	struct frame_reader r;
	const unsigned char *f;
	size_t flen;
	uint64_t code;

	memset(a, 0, sizeof *a);
	fr_init(&r, p, n);
	if (fr_is(&r, "ok") == 1) {
		if (fr_bytes(&r, &f, &flen, sizeof a->ticket) < 0 || flen == 0 || fr_end(&r) < 0)
			return -1;
		a->kind = AUTHCHAN_OK;
		memcpy(a->ticket, f, flen);
		a->ticket_len = flen;
		return 0;
	}
	if (fr_is(&r, "no") == 1) {
		if (fr_u64(&r, &code, 599) < 0 || code < 400 ||
		    fr_bytes(&r, &f, &flen, AUTHCHAN_TEXT_MAX) < 0 || fr_end(&r) < 0 ||
		    !authchan_text_ok(f, flen))
			return -1;
		a->kind = AUTHCHAN_NO;
		a->code = (int)code;
		memcpy(a->text, f, flen);
		a->text[flen] = '\0';
		a->text_len = flen;
		return 0;
	}
	return -1;
}
