/*
 * sandbox_rules.c — the seccomp allow-list of postern-authd, which holds
 * the password hashes (DESIGN §1: it may not write anything but its
 * sockets and log, touch the queue, open files, make sockets or exec;
 * invariant 3).  sandbox_enter() adds the common rules (write,
 * exit_group); anything else kills the process.
 *
 * authd starts its argon2id worker threads after sandbox_enter (which
 * requires a single thread), so thread creation is allowed here, but only
 * as threads: clone must carry CLONE_THREAD (a new process could escape
 * nothing, but it has no business here), and clone3 — whose flags live
 * in memory a filter cannot read — fails with ENOSYS, which makes glibc
 * fall back to clone.  No mapping may be executable.  Checked with
 * `strace -f` on the integration tests (tests/integration/test_auth*.py).
 */
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>

#include "sandbox_rules.h"

#define NO_EXEC SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)

const struct sandbox_rule authd_sandbox_rules[] = {
	/* serve.c: the event loop's wait. */
	SB_RULE(poll),
	/* serve.c: draining the pool's wake-up pipe. */
	SB_RULE(read),
	/* fdpass_recv: control frames with descriptors from the master. */
	SB_RULE(recvmsg),
	/* chan_send / chan_recv on the sessions' channels and `ready`. */
	SB_RULE(sendto),
	SB_RULE(recvfrom),
	/* closing a session's channel, or a replaced table. */
	SB_RULE(close),
	/* cdbfd_attach (cdb_init): size and read-only mapping of a table. */
	SB_RULE(fstat),
	SB_RULE(newfstatat),
	/* mmap: tables (PROT_READ), thread stacks, malloc arenas, libsodium's
	 * argon2 memory (64 MiB per verification by default); never exec. */
	SB_RULE_ARG1(mmap, NO_EXEC),
	/* glibc's per-thread malloc arenas and stack guard pages. */
	SB_RULE_ARG1(mprotect, NO_EXEC),
	SB_RULE(munmap),
	/* glibc frees a finished argon2 block / trims arenas. */
	SB_RULE(madvise),
	SB_RULE(brk),
	/* pool.c: mutex and condition variable. */
	SB_RULE(futex),
	/* pthread_create: threads only. */
	SB_RULE_ARG1(clone, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)),
	SB_PROBE(clone3, ENOSYS),
	/* pthread_create: the new thread's signal mask, robust futex list
	 * and restartable-sequence registration. */
	SB_RULE(rt_sigprocmask),
	/* glibc's first pthread_create installs its cancellation handler
	 * (SIGCANCEL); measured with a -DSANDBOX_DEBUG build. */
	SB_RULE(rt_sigaction),
	SB_RULE(set_robust_list),
	SB_RULE(rseq),
	/* a thread that ends (never in normal operation). */
	SB_RULE(exit),
	/* clock_ms(): vDSO, but the syscall where the clock has no vDSO path. */
	SB_RULE(clock_gettime),
	/* sched_yield inside glibc's lock back-off. */
	SB_RULE(sched_yield),
#ifdef POSTERN_SANITIZER
	/* The ASan runtime's thread-start hook (make asan only; measured
	 * with a -DSANDBOX_DEBUG asan build): */
	SB_RULE(gettid),
	SB_RULE(sched_getaffinity),	/* pthread_getattr_np for the thread's stack */
#endif
};

const size_t authd_sandbox_nrules = sizeof authd_sandbox_rules / sizeof authd_sandbox_rules[0];
