/*
 * decimal.h — unsigned numbers as decimal digits, for log lines,
 * netstring lengths and SMTP replies, and back, for command lines.  Pure, no allocation, no locale,
 * async-signal-safe (the sandbox's SIGSYS reporter uses it).
 */
#ifndef POSTERN_DECIMAL_H
#define POSTERN_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define U64_DEC_MAX 20	/* digits of UINT64_MAX */

/* Write the decimal digits of v (at least one; no sign, no NUL) into
 * out[0..cap); returns their count, or 0 with nothing written if they do
 * not fit. */
size_t u64_to_dec(char *out, size_t cap, uint64_t v);
/* Read the NUL-terminated s as a number in [min, max]: 1 to 19 digits, no
 * sign, no blank, no leading zero (so one text has one meaning).  0 and
 * *out set, or -1 and *out untouched. */
int u64_from_dec(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
