/*
 * decimal.c — unsigned numbers as decimal digits and back (decimal.h).
 * Used by every process (log lines, netstring frames, the EHLO SIZE
 * keyword, the sandbox's trap report, the roles' command lines).  Descriptors: none.  Failure policy: a buffer
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

/* s as a number in [min, max]; 19 digits at most, so no overflow. */
int u64_from_dec(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 19)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
