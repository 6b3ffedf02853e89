/*
 * args.c — parsing postern-smtpd's command line (see args.h for the
 * grammar).  Runs in postern-smtpd before the sandbox; touches no
 * descriptor.  Failure policy: return -1 with a constant reason; main.c
 * logs it and exits 111.
 */
#include "args.h"

#include "argpairs.h"
#include "decimal.h"
#include "hostname.h"
#include "idarg.h"

#include <arpa/inet.h>
#include <string.h>

/* Options in the order of the usage line; each exactly once. */
static const char OPTS[] = "smhapznTtcPurg";

/* Apply one option's value; -1 if invalid. */
static int apply(void *ctx, char opt, const char *v)
{
	struct smtpd_args *a = ctx;
	unsigned char ip[16];
	uint64_t n;

	switch (opt) {
	case 's':
		return argpairs_token(v, a->session_id, sizeof a->session_id);
	case 'm':
		if (strcmp(v, "plain") == 0) a->mode = MODE_PLAIN;
		else if (strcmp(v, "starttls") == 0) a->mode = MODE_STARTTLS;
		else if (strcmp(v, "tls") == 0) a->mode = MODE_TLS;
		else return -1;
		return 0;
	case 'h':
		if (!hostname_valid(v, strlen(v)))
			return -1;
		return argpairs_token(v, a->hostname, sizeof a->hostname);
	case 'a':
		if (inet_pton(AF_INET, v, ip) != 1 && inet_pton(AF_INET6, v, ip) != 1)
			return -1;
		return argpairs_token(v, a->client_ip, sizeof a->client_ip);
	case 'p':
		if (u64_from_dec(v, 0, 65535, &n) < 0) return -1;
		a->client_port = (unsigned)n;
		return 0;
	case 'z':
		return u64_from_dec(v, 1, (uint64_t)1 << 40, &a->size_max);
	case 'n':
		return u64_from_dec(v, 1, 1000000, &a->rcpt_max);
	case 't':
		return u64_from_dec(v, 1, 86400, &a->idle_s);
	case 'T':
		return u64_from_dec(v, 1, 7 * 86400, &a->session_s);
	case 'c':
		return u64_from_dec(v, 1, 86400, &a->command_s);
	case 'P':
		return u64_from_dec(v, 1, 7 * 86400, &a->preauth_s);
	case 'u':
	case 'g':
		return idarg_apply(opt, v, &a->uid, &a->gid);
	case 'r':
		if (v[0] != '/') return -1;
		return argpairs_token(v, a->root, sizeof a->root);
	}
	return -1;
}

int args_parse(int argc, char *const argv[], struct smtpd_args *a, const char **why)
{
	memset(a, 0, sizeof *a);
	return argpairs_parse(argc, argv, OPTS, "", apply, a, why);
}

const char *args_mode_name(enum listen_mode m)
{
	switch (m) {
	case MODE_PLAIN: return "plain";
	case MODE_STARTTLS: return "starttls";
	case MODE_TLS: return "tls";
	}
	return "?";
}
