/*
 * sandbox_rules.h — postern-deliver's seccomp allow-list (sandbox_rules.c).
 */
#ifndef POSTERN_DELIVER_SANDBOX_RULES_H
#define POSTERN_DELIVER_SANDBOX_RULES_H

#include <stddef.h>

#include "sandbox.h"

extern const struct sandbox_rule deliver_sandbox_rules[];
extern const size_t deliver_sandbox_nrules;

#endif
