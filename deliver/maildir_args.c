/*
 * maildir_args.c — postern-maildir's command line (maildir_args.h), read
 * with lib/argpairs.c.  Failure policy: the first bad value stops the
 * parse with a constant reason; the caller logs it and exits 111.
 */
#include <string.h>

#include "decimal.h"
#include "argpairs.h"
#include "idarg.h"
#include "maildir_args.h"

#define MAILDIR_JOBS_MAX 100000
#define MAILDIR_ROOT_MAX 4000

/* Store one option's value if it is valid. */
static int apply(void *ctx, char opt, const char *v)
{
	struct maildir_args *a = ctx;

	switch (opt) {
	case 'u':
	case 'g':
		return idarg_apply(opt, v, &a->uid, &a->gid);	/* never 0 (root) */
	case 'r':
		if (v[0] != '/' || strnlen(v, MAILDIR_ROOT_MAX) >= MAILDIR_ROOT_MAX)
			return -1;
		a->root = v;
		return 0;
	case 'm':
		return u64_from_dec(v, 1, 0xfffffffeu, &a->uid_min);
	case 'n':
		return u64_from_dec(v, 1, MAILDIR_JOBS_MAX, &a->jobs);
	case 'h':
		if (v[0] == '\0' || strnlen(v, 256) > 253)
			return -1;
		a->host = v;
		return 0;
	default:
		return -1;
	}
}

/* Parse (see maildir_args.h); also refuses uid 0 and uid < uid_min. */
int maildir_args_parse(int argc, char *const argv[], struct maildir_args *a,
                       const char **why)
{
	memset(a, 0, sizeof(*a));
	if (argpairs_parse(argc, argv, "ugrmnh", "", apply, a, why) != 0)
		return -1;
	if ((uint64_t)a->uid < a->uid_min) {
		*why = "uid below maildir_uid_min";
		return -1;
	}
	return 0;
}
