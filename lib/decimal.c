/*
 * decimal.c — unsigned numbers as decimal digits (decimal.h).  Used by
 * every process (log lines, netstring frames, the EHLO SIZE keyword, the
 * sandbox's trap report).  Descriptors: none.  Failure policy: a buffer
 * too small gets nothing, never a truncated number that reads as another.
 */
#include "decimal.h"

#include <string.h>

/* Decimal digits of v into out[0..cap); their count, or 0. */
size_t u64_to_dec(char *out, size_t cap, uint64_t v)
{
	char tmp[U64_DEC_MAX];
	size_t n = sizeof tmp;

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (sizeof tmp - n > cap)
		return 0;
	memcpy(out, tmp + n, sizeof tmp - n);
	return sizeof tmp - n;
}
