/*
 * cmd_ehlo.c — EHLO and HELO (RFC 5321 §4.1.1.1, §4.1.4): check the
 * client's name (a domain or an address literal, §4.1.3), reset any
 * transaction, and list the extensions postern offers.  postern-smtpd,
 * inside the sandbox.  A bad argument is 501 5.5.4 and changes nothing.
 *
 * Offered: PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152),
 * ENHANCEDSTATUSCODES (RFC 2034), SMTPUTF8 (RFC 6531), DSN (RFC 3461),
 * STARTTLS (RFC 3207) only where cmd_starttls_allowed() (a starttls
 * listener before TLS and before AUTH), AUTH PLAIN LOGIN (RFC 4954) only
 * where cmd_auth_allowed().  No CHUNKING.
 */
#include "commands.h"

#include "decimal.h"
#include "hostname.h"
#include "reply.h"
#include "session.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define HELO_NAME_MAX 255

/* 1 if arg is "[IPv4]" or "[IPv6:addr]" (RFC 5321 §4.1.3). */
static int is_address_literal(const char *arg, size_t n)
{
	char inner[64];
	unsigned char bin[16];

	if (n < 3 || arg[0] != '[' || arg[n - 1] != ']' || n - 2 >= sizeof inner)
		return 0;
	memcpy(inner, arg + 1, n - 2);
	inner[n - 2] = '\0';
	if (strncasecmp(inner, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, inner + 5, bin) == 1;
	return inet_pton(AF_INET, inner, bin) == 1;
}

/* 1 if the EHLO/HELO argument is acceptable.  Underscores are tolerated
 * in names (common in Windows host names; harmless here, the name is
 * only logged and recorded). */
static int helo_arg_ok(const char *arg, size_t n)
{
	char name[HELO_NAME_MAX + 1];
	size_t i;

	if (n == 0 || n > HELO_NAME_MAX)
		return 0;
	if (arg[0] == '[')
		return is_address_literal(arg, n);
	memcpy(name, arg, n);
	if (name[n - 1] == '.')		/* a fully qualified trailing dot */
		n--;
	for (i = 0; i < n; i++)
		if (name[i] == '_')
			name[i] = 'x';
	return hostname_valid(name, n);
}

/* Shared by EHLO and HELO: validate, reset, enter READY.  0 if ok. */
static int hello(struct session *s, const char *arg, size_t n, int esmtp)
{
	if (!helo_arg_ok(arg, n)) {
		reply_error(s, 501, "5.5.4 Invalid domain name or address literal");
		return -1;
	}
	session_reset_txn(s);
	session_enter_state(s, ST_READY);
	s->esmtp = esmtp;
	return 0;
}

/* One "250-KEYWORD" line. */
static void ext(struct session *s, const char *kw, int more)
{
	reply_line(s, 250, more, kw, strlen(kw));
}

void cmd_ehlo(struct session *s, const char *arg, size_t n)
{
	char size[5 + U64_DEC_MAX + 1] = "SIZE ";
	size_t len = 5;
	int auth = cmd_auth_allowed(s), starttls = cmd_starttls_allowed(s);

	if (hello(s, arg, n, 1) < 0)
		return;
	len += u64_to_dec(size + len, U64_DEC_MAX, s->args->size_max);
	size[len] = '\0';
	ext(s, s->args->hostname, 1);
	ext(s, "PIPELINING", 1);
	ext(s, size, 1);
	ext(s, "8BITMIME", 1);
	ext(s, "ENHANCEDSTATUSCODES", 1);
	ext(s, "SMTPUTF8", 1);
	ext(s, "DSN", auth || starttls);
	if (starttls)
		ext(s, "STARTTLS", auth);
	if (auth)
		ext(s, "AUTH PLAIN LOGIN", 0);
}

void cmd_helo(struct session *s, const char *arg, size_t n)
{
	if (hello(s, arg, n, 0) < 0)
		return;
	ext(s, s->args->hostname, 0);
}
