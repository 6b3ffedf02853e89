/*
 * argpairs.h — command lines made of "-X value" pairs, the form the
 * master gives every per-connection role (postern-smtpd, postern-tlsd):
 * trusted facts, but still checked, so a master bug fails closed.  Runs
 * before the sandbox; touches no descriptor.
 */
#ifndef POSTERN_ARGPAIRS_H
#define POSTERN_ARGPAIRS_H

#include <stddef.h>

/* Check and store one option's value: 0, or -1 if it is invalid. */
typedef int (*argpairs_apply_fn)(void *ctx, char opt, const char *value);

/* Read argv[1..argc) as pairs "-X value".  Every letter of opts (at most
 * 31) must come; only those also in multi may come more than once.  Each
 * value goes to apply in order.  0, or -1 with a constant reason in *why:
 * "unknown argument", "option given twice", "option without a value",
 * "invalid value for -X", "missing option". */
int argpairs_parse(int argc, char *const argv[], const char *opts, const char *multi,
                   argpairs_apply_fn apply, void *ctx, const char **why);

/* Copy s into out[cap] if it fits (with its NUL) and is made only of
 * printable non-blank ASCII: such values end up in log lines and paths.
 * 0, or -1 with out untouched. */
int argpairs_token(const char *s, char *out, size_t cap);

#endif
