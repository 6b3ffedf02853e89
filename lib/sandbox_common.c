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
 * ASan/UBSan runtime makes on its own in a clean run (allocator mappings,
 * the _exit path), so the sanitizer build of a role is not killed for
 * what the role itself never does.  Measured with strace -f on the asan
 * build of tests/unit/test_sandbox.c and of a program that mallocs sizes
 * from 16 bytes to 32 MiB inside the sandbox.
 */
#include <errno.h>
#include <sys/mman.h>

#include "sandbox.h"

/* The rules sandbox_enter() always adds (see sandbox.h). */
const struct sandbox_rule sandbox_common_rules[] = {
	SB_RULE(write),		/* log lines (lib/log.c): one write(2) each */
	SB_RULE(exit_group),	/* _exit(): the only way out of a role */
	/* The kernel resumes a sleeping poll()/nanosleep() with a timeout
	 * through restart_syscall after a stop (SIGSTOP/SIGCONT from an
	 * operator, a debugger attaching): without it `kill -STOP` then
	 * `kill -CONT`, or `strace -p`, would kill any role with SIGSYS.
	 * It only resumes the interrupted call with its own arguments. */
	SB_RULE(restart_syscall),
#ifdef POSTERN_SANITIZER
	/* ASan/UBSan runtime (measured with strace on the asan build of
	 * tests/unit/test_sandbox.c): */
	SB_RULE(sigaltstack),	/* its _exit() path queries the signal stack */
	/* its allocator maps each size class's region, and large blocks,
	 * lazily at any malloc(); never executable */
	SB_RULE_ARG1(mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SB_RULE(munmap),
	SB_RULE(madvise),	/* ... and marks their shadow NOHUGEPAGE */
	/* Not here: what a sanitizer *report* needs inside the sandbox
	 * (readlink and open of /proc/self/..., and the symbolizer's
	 * fork/exec).  A finding inside the sandbox therefore ends as
	 * SIGSYS; reproduce it in the unit test of that module, outside. */
#endif
};

/* Number of entries in sandbox_common_rules. */
const size_t sandbox_common_nrules =
	sizeof sandbox_common_rules / sizeof sandbox_common_rules[0];
