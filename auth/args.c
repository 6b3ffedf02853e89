/*
 * args.c — parsing postern-authd's command line (args.h).  Numbers are
 * plain decimal within fixed ranges; every option exactly once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "idarg.h"

/* Decimal in [lo, hi] into *out; -1 otherwise. */
static int num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* The option letters and where they go. */
static uint64_t *slot(struct authd_args *a, int opt, uint64_t *lo, uint64_t *hi)
{
	*lo = 0;
	*hi = 1000000;
	switch (opt) {
	case 'w': *hi = 64; return &a->workers;
	case 'q': *lo = 1; *hi = 10000; return &a->queue_max;
	case 'c': *hi = 86400; return &a->cache_ttl;
	case 'd': return &a->ip_delay_after;
	case 'x': *lo = 1; return &a->ip_refuse_after;
	case 'l': return &a->login_delay_after;
	case 'm': *hi = 300; return &a->delay_max;
	case 'W': *lo = 1; *hi = 86400; return &a->fail_window;
	default: return NULL;
	}
}

/* Parse (see args.h). */
int authd_args_parse(int argc, char **argv, struct authd_args *a, const char **why)
{
	const char *letters = "ugrwqcdxlmW";
	unsigned seen = 0;
	int opt;

	memset(a, 0, sizeof(*a));
	*why = "bad option";
	while ((opt = getopt(argc, argv, "u:g:r:w:q:c:d:x:l:m:W:")) != -1) {
		const char *pos = strchr(letters, opt);
		uint64_t lo, hi, *dst;

		if (opt == '?' || pos == NULL || (seen & (1u << (pos - letters))))
			return -1;
		seen |= 1u << (pos - letters);
		if (opt == 'r') {
			a->root = optarg;
			continue;
		}
		if (opt == 'u' || opt == 'g') {
			if (idarg_apply((char)opt, optarg, &a->uid, &a->gid) != 0)
				return *why = "bad uid or gid", -1;
			continue;
		}
		dst = slot(a, opt, &lo, &hi);
		if (dst == NULL || num(optarg, lo, hi, dst) != 0)
			return *why = "number out of range", -1;
	}
	if (optind != argc || seen != (1u << strlen(letters)) - 1)
		return *why = "missing option or extra argument", -1;
	if (a->root[0] != '/')
		return *why = "chroot must be absolute", -1;
	return 0;
}
