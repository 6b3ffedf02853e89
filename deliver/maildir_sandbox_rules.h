/*
 * maildir_sandbox_rules.h — postern-maildir's seccomp allow-list
 * (maildir_sandbox_rules.c), used by deliver/main_maildir.c and its unit
 * test.
 */
#ifndef POSTERN_DELIVER_MAILDIR_SANDBOX_RULES_H
#define POSTERN_DELIVER_MAILDIR_SANDBOX_RULES_H

#include <stddef.h>

#include "sandbox.h"

/* The only flags with which postern-maildir may open a file. */
#define MAILDIR_OPEN_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
#define MAILDIR_OPEN_MODE 0600

extern const struct sandbox_rule maildir_sandbox_rules[];
extern const size_t maildir_sandbox_nrules;

#endif
