/*
 * tlsd_args.c — parsing postern-tlsd's command line (grammar in
 * tlsd_args.h).  Runs before the sandbox; the values are the master's but
 * are still checked, so a master bug fails closed.
 */
#include "tlsd_args.h"

#include "argpairs.h"
#include "decimal.h"
#include "idarg.h"

#include <openssl/ssl.h>
#include <string.h>

static const char OPTS[] = "mckVHTugr";
/* Options that may appear up to TLSD_CERTS_MAX times. */
static const char MULTI[] = "ck";

/* An absolute path of printable non-blank ASCII into out. */
static int path(const char *s, char *out)
{
	return s[0] == '/' ? argpairs_token(s, out, TLSD_PATH_MAX + 1) : -1;
}

/* Apply one option's value; -1 if invalid. */
static int apply(void *ctx, char opt, const char *v)
{
	struct tlsd_args *a = ctx;

	switch (opt) {
	case 'm':
		if (strcmp(v, "starttls") == 0) a->implicit = 0;
		else if (strcmp(v, "tls") == 0) a->implicit = 1;
		else return -1;
		return 0;
	case 'c':
		return a->ncert < TLSD_CERTS_MAX ? path(v, a->cert[a->ncert++]) : -1;
	case 'k':
		return a->nkey < TLSD_CERTS_MAX ? path(v, a->key[a->nkey++]) : -1;
	case 'V':
		if (strcmp(v, "1.2") == 0) a->min_version = TLS1_2_VERSION;
		else if (strcmp(v, "1.3") == 0) a->min_version = TLS1_3_VERSION;
		else return -1;
		return 0;
	case 'H':
		return u64_from_dec(v, 1, 600, &a->handshake_s);
	case 'T':
		return u64_from_dec(v, 1, 7 * 86400, &a->session_s);
	case 'u':
	case 'g':
		return idarg_apply(opt, v, &a->uid, &a->gid);
	case 'r':
		return path(v, a->root);
	}
	return -1;
}

int tlsd_args_parse(int argc, char *const argv[], struct tlsd_args *a, const char **why)
{
	memset(a, 0, sizeof *a);
	if (argpairs_parse(argc, argv, OPTS, MULTI, apply, a, why) < 0)
		return -1;
	if (a->ncert != a->nkey) {
		*why = "-c and -k must pair up";
		return -1;
	}
	return 0;
}
