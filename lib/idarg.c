/*
 * idarg.c — uid/gid values of the roles' command lines (idarg.h), read
 * with lib/decimal.c.  Any process, before its sandbox; no I/O.
 * Failure policy: a bad value is -1; the caller refuses to start.
 */
#include <stdint.h>

#include "decimal.h"
#include "idarg.h"

_Static_assert(sizeof(uid_t) >= 4 && sizeof(gid_t) >= 4, "ids of 32 bits");

/* Parse one id (see idarg.h). */
int idarg_parse(const char *s, unsigned *out)
{
	uint64_t v;

	if (s == NULL || u64_from_dec(s, 1, IDARG_MAX, &v) != 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Store -u or -g (see idarg.h). */
int idarg_apply(char opt, const char *v, uid_t *uid, gid_t *gid)
{
	unsigned id;

	if ((opt != 'u' && opt != 'g') || idarg_parse(v, &id) != 0)
		return -1;
	if (opt == 'u')
		*uid = (uid_t)id;
	else
		*gid = (gid_t)id;
	return 0;
}
