/*
 * argpairs.c — "-X value" command lines (argpairs.h).  Used by
 * postern-smtpd and postern-tlsd before their sandbox.  Failure policy:
 * the first problem stops the parse with a constant reason that names the
 * option at most, never echoes a value (the caller logs it and exits 111).
 */
#include "argpairs.h"

#include <string.h>

/* The reason for a bad value of option o (one process, one parse). */
static const char *bad_value(char o)
{
	static char reason[] = "invalid value for -?";

	reason[sizeof reason - 2] = o;
	return reason;
}

/* Walk the pairs, then check every option came. */
int argpairs_parse(int argc, char *const argv[], const char *opts, const char *multi,
                   argpairs_apply_fn apply, void *ctx, const char **why)
{
	size_t nopts = strlen(opts);
	unsigned seen = 0, all = (1u << nopts) - 1;

	if (nopts == 0 || nopts > 31) {
		*why = "bad option table";
		return -1;
	}
	for (int i = 1; i < argc; i += 2) {
		const char *o = argv[i], *p;

		if (o[0] != '-' || o[1] == '\0' || o[2] != '\0' ||
		    (p = strchr(opts, o[1])) == NULL) {
			*why = "unknown argument";
			return -1;
		}
		unsigned bit = 1u << (p - opts);
		if ((seen & bit) && strchr(multi, o[1]) == NULL) {
			*why = "option given twice";
			return -1;
		}
		if (i + 1 >= argc) {
			*why = "option without a value";
			return -1;
		}
		if (apply(ctx, o[1], argv[i + 1]) < 0) {
			*why = bad_value(o[1]);
			return -1;
		}
		seen |= bit;
	}
	if (seen != all) {
		*why = "missing option";
		return -1;
	}
	return 0;
}

/* A printable non-blank token (see argpairs.h). */
int argpairs_token(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);

	if (n == 0 || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return -1;
	memcpy(out, s, n + 1);
	return 0;
}
