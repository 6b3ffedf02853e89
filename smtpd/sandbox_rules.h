/*
 * sandbox_rules.h — postern-smtpd's seccomp allow-list (sandbox_rules.c),
 * handed to sandbox_enter() by main.c.
 */
#ifndef POSTERN_SMTPD_SANDBOX_RULES_H
#define POSTERN_SMTPD_SANDBOX_RULES_H

#include <stddef.h>

#include "sandbox.h"

extern const struct sandbox_rule smtpd_sandbox_rules[];
extern const size_t smtpd_sandbox_nrules;

#endif
