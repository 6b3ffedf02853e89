/*
 * sandbox_rules.h — postern-authd's seccomp allow-list (sandbox_rules.c).
 */
#ifndef POSTERN_AUTH_SANDBOX_RULES_H
#define POSTERN_AUTH_SANDBOX_RULES_H

#include <stddef.h>

#include "sandbox.h"

extern const struct sandbox_rule authd_sandbox_rules[];
extern const size_t authd_sandbox_nrules;

#endif
