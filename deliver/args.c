/*
 * args.c — reading postern-deliver's command line (grammar in args.h).
 * Runs before the sandbox; touches no descriptor.  Every value is checked;
 * anything unknown, repeated or invalid is refused.
 */
#include <arpa/inet.h>
#include <string.h>

#include "args.h"
#include "decimal.h"
#include "hostname.h"
#include "idarg.h"

/* An IPv4 or IPv6 literal into a sockaddr (port 0). */
static int parse_bind(struct deliver_args *a, const char *v)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a->bind;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->bind;

	memset(&a->bind, 0, sizeof(a->bind));
	if (inet_pton(AF_INET, v, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		a->bindlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, v, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		a->bindlen = sizeof(*s6);
	} else
		return -1;
	a->have_bind = 1;
	return 0;
}

/* "A.B.C.D:PORT". */
static int parse_resolver(struct deliver_args *a, const char *v)
{
	const char *colon = strrchr(v, ':');
	char ip[INET_ADDRSTRLEN];
	uint64_t port;

	if (colon == NULL || (size_t)(colon - v) >= sizeof(ip))
		return -1;
	memcpy(ip, v, (size_t)(colon - v));
	ip[colon - v] = '\0';
	memset(&a->resolver, 0, sizeof(a->resolver));
	if (inet_pton(AF_INET, ip, &a->resolver.sin_addr) != 1 ||
	    u64_from_dec(colon + 1, 1, 65535, &port) != 0)
		return -1;
	a->resolver.sin_family = AF_INET;
	a->resolver.sin_port = htons((uint16_t)port);
	a->have_resolver = 1;
	return 0;
}

/* One value or seven comma-separated values, seconds 1..86400. */
static int parse_timeouts(struct deliver_args *a, const char *v)
{
	uint64_t t[TMO_COUNT];
	size_t k = 0;
	char part[16];

	while (k < TMO_COUNT) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);

		if (n == 0 || n >= sizeof(part))
			return -1;
		memcpy(part, v, n);
		part[n] = '\0';
		if (u64_from_dec(part, 1, 86400, &t[k++]) != 0)
			return -1;
		if (comma == NULL)
			break;
		v = comma + 1;
	}
	if (k != 1 && k != TMO_COUNT)
		return -1;
	for (size_t i = 0; i < TMO_COUNT; i++)
		a->timeout_ms[i] = (k == 1 ? t[0] : t[i]) * 1000;
	return 0;
}

/* Check and store one option. */
static int apply(struct deliver_args *a, char opt, const char *v)
{
	uint64_t x;

	switch (opt) {
	case 'u':
	case 'g':
		return idarg_apply(opt, v, &a->uid, &a->gid);
	case 'r':
		a->root = v;
		return v[0] == '/' ? 0 : -1;
	case 'H':
		a->helo = v;
		return hostname_valid(v, strlen(v)) ? 0 : -1;
	case 'b':
		return parse_bind(a, v);
	case 'R':
		return parse_resolver(a, v);
	case 'n':
		return u64_from_dec(v, 1, 1000000, &a->jobs);
	case 'C':
		a->cafile = v;
		return v[0] == '/' ? 0 : -1;
	case 't':
		return parse_timeouts(a, v);
	case 'P':
		if (u64_from_dec(v, 1, 65535, &x) != 0)
			return -1;
		a->mx_port = (unsigned)x;
		return 0;
	default:
		return -1;
	}
}

/* Parse argv (see args.h). */
int deliver_args_parse(int argc, char *const argv[], struct deliver_args *a, const char **why)
{
	static const char known[] = "ugrHbRnCtP";
	char seen[sizeof(known)] = { 0 };

	memset(a, 0, sizeof(*a));
	a->jobs = 100;
	a->mx_port = 25;
	parse_timeouts(a, "30,300,300,300,120,180,600");
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *pos;

		if (k[0] != '-' || k[1] == '\0' || k[2] != '\0' ||
		    (pos = strchr(known, k[1])) == NULL) {
			*why = "unknown argument";
			return -1;
		}
		if (seen[pos - known]++) {
			*why = "option given twice";
			return -1;
		}
		if (i + 1 >= argc) {
			*why = "option without a value";
			return -1;
		}
		if (apply(a, k[1], argv[i + 1]) != 0) {
			*why = "invalid value";
			return -1;
		}
	}
	if (!seen[0] || !seen[1] || !seen[2] || !seen[3]) {
		*why = "missing option";
		return -1;
	}
	return 0;
}
