/*
 * sandbox_rules.h — postern-queued's seccomp allow-list (sandbox_rules.c),
 * handed to sandbox_enter() by queue/main.c.
 */
#ifndef POSTERN_QUEUE_SANDBOX_RULES_H
#define POSTERN_QUEUE_SANDBOX_RULES_H

#include <stddef.h>

#include "sandbox.h"

extern const struct sandbox_rule queued_sandbox_rules[];
extern const size_t queued_sandbox_nrules;

#endif
