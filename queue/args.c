/*
 * args.c — parsing postern-queued's command line (args.h).  The master
 * built it, but every value is still range-checked.
 */
#include <string.h>

#include "args.h"
#include "idarg.h"

/* Strict decimal in [min, max]. */
static int num(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out)
{
	unsigned long long v = 0;

	if (s == NULL || *s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (unsigned long long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* Copy s into out[cap]; -1 if empty or too long. */
static int str(const char *s, char *out, size_t cap)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, s, n + 1);
	return 0;
}

/* Apply one option; -1 if its value is bad. */
static int option(struct queued_args *a, char opt, const char *v, unsigned *seen)
{
	unsigned long long x;
	struct queued_conf *c = &a->conf;

	switch (opt) {
	case 'u': *seen |= 1; return idarg_apply(opt, v, &a->uid, &a->gid);
	case 'g': *seen |= 2; return idarg_apply(opt, v, &a->uid, &a->gid);
	case 'r': *seen |= 4; return str(v, a->root, sizeof a->root);
	case 'h': return str(v, c->hostname, sizeof c->hostname);
	case 'z': return num(v, 1024, 1ULL << 40, (unsigned long long *)&c->size_max);
	case 'n': return num(v, 1, 100000, (unsigned long long *)&c->rcpt_max);
	case 'f': return num(v, 0, 1ULL << 50, (unsigned long long *)&c->minfree);
	case 't': return num(v, 1, 7 * 86400, (unsigned long long *)&c->idle_s);
	case 'c': return num(v, 1, 100000, (unsigned long long *)&c->sessions_max);
	case 'H': if (num(v, 0, 1, &x) < 0) return -1; c->header_check = (int)x; return 0;
	case 'I': if (num(v, 0, 1, &x) < 0) return -1; c->received_ip = (int)x; return 0;
	case 'S': if (num(v, 0, 1, &x) < 0) return -1; c->syncfs = (int)x; return 0;
	case 'O': return str(v, c->helo, sizeof c->helo);
	case 'R': return num(v, 1, 30 * 86400, (unsigned long long *)&c->retry_min_s);
	case 'X': return num(v, 1, 30 * 86400, (unsigned long long *)&c->retry_max_s);
	case 'L': return num(v, 1, 366 * 86400, (unsigned long long *)&c->lifetime_s);
	case 'D': return num(v, 0, 366 * 86400, (unsigned long long *)&c->delay_notice_s);
	case 'W': return num(v, 1, 10000, (unsigned long long *)&c->concurrency);
	case 'P': return num(v, 1, 10000, (unsigned long long *)&c->per_destination);
	default: return -1;
	}
}

/* Parse (see args.h). */
int queued_args_parse(int argc, char *argv[], struct queued_args *a, const char **why)
{
	unsigned seen = 0;

	memset(a, 0, sizeof *a);
	memcpy(a->conf.hostname, "localhost", sizeof "localhost");
	a->conf.size_max = 25ULL << 20;
	a->conf.rcpt_max = 100;
	a->conf.minfree = 0;
	a->conf.idle_s = 3600;
	a->conf.sessions_max = 1024;
	a->conf.header_check = 1;
	a->conf.retry_min_s = 300;
	a->conf.retry_max_s = 3600;
	a->conf.lifetime_s = 432000;
	a->conf.delay_notice_s = 14400;
	a->conf.concurrency = 20;
	a->conf.per_destination = 4;
	for (int i = 1; i < argc; i += 2) {
		if (argv[i][0] != '-' || argv[i][1] == '\0' || argv[i][2] != '\0' || i + 1 >= argc ||
		    option(a, argv[i][1], argv[i + 1], &seen) < 0) {
			*why = argv[i];
			return -1;
		}
	}
	if (seen != 7) {
		*why = "-u, -g and -r are required";
		return -1;
	}
	if (a->conf.helo[0] == '\0')
		memcpy(a->conf.helo, a->conf.hostname, sizeof a->conf.helo);
	if (a->conf.retry_max_s < a->conf.retry_min_s)
		a->conf.retry_max_s = a->conf.retry_min_s;
	if (a->conf.per_destination > a->conf.concurrency)
		a->conf.per_destination = a->conf.concurrency;
	return 0;
}
