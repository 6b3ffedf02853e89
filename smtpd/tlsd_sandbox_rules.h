/*
 * tlsd_sandbox_rules.h — postern-tlsd's seccomp allow-list (the table is
 * in tlsd_sandbox_rules.c, one syscall per line with its reason).
 */
#ifndef POSTERN_SMTPD_TLSD_SANDBOX_RULES_H
#define POSTERN_SMTPD_TLSD_SANDBOX_RULES_H

#include "sandbox.h"

extern const struct sandbox_rule tlsd_sandbox_rules[];
extern const size_t tlsd_sandbox_nrules;

#endif
