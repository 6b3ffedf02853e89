/*
 * maildir_sandbox_rules.c — the seccomp allow-list of postern-maildir,
 * the local delivery worker (DESIGN §1: it runs as the maildir's owner,
 * chrooted to that maildir; it may not write outside it or use the
 * network; invariant 3).  sandbox_enter() adds the common rules (write:
 * log lines and the message file; exit_group); anything else kills.
 *
 * Descriptor numbers are fixed (lib/fds.h MAILDIR_FD_*): 3 the job
 * channel, 5 tmp/, 6 new/, 7 the job's message, so the filter can name
 * them.  Paths cannot be filtered (a pointer's target is not visible to
 * seccomp): that is what the chroot and the O_NOFOLLOW directory
 * descriptors are for.  Flags are compared exactly, so an openat to read,
 * to truncate, to follow a symlink, of a directory or relative to the
 * working directory (the sandbox probe's openat(AT_FDCWD, "/", O_RDONLY))
 * is killed.  No socket, connect, execve, mmap or brk: the worker uses
 * static buffers only.
 */
#include <fcntl.h>

#include "fds.h"
#include "maildir_sandbox_rules.h"

#define ARG_IS(n, v) SCMP_CMP((n), SCMP_CMP_EQ, (scmp_datum_t)(v), 0)

const struct sandbox_rule maildir_sandbox_rules[] = {
	/* fdpass_recv: one job frame with its message descriptor, from the
	 * job channel only. */
	SB_RULE_ARG1(recvmsg, ARG_IS(0, MAILDIR_FD_JOBS)),
	/* chan_send: rcpt, done, bye on the job channel only. */
	SB_RULE_ARG1(sendto, ARG_IS(0, MAILDIR_FD_JOBS)),
	/* chan_send waits for room in the channel (fd_wait). */
	SB_RULE(poll),
	/* maildir_store.c step 2: a new file in tmp/, exclusive, never
	 * through a symlink, write-only, mode 0600. */
	SB_RULE_ARG3(openat, ARG_IS(0, MAILDIR_FD_TMP), ARG_IS(2, MAILDIR_OPEN_FLAGS),
	             ARG_IS(3, MAILDIR_OPEN_MODE)),
	/* step 3: the message's bytes, by offset, from the job's descriptor. */
	SB_RULE_ARG1(pread64, ARG_IS(0, MAILDIR_FD_MESSAGE)),
	/* step 4 (the file) and step 6 (new/): durability before `ok`. */
	SB_RULE(fsync),
	/* step 5: tmp/NAME -> new/NAME, no flags (never follows a symlink). */
	SB_RULE_ARG3(linkat, ARG_IS(0, MAILDIR_FD_TMP), ARG_IS(2, MAILDIR_FD_NEW),
	             ARG_IS(4, 0)),
	/* step 5 and any failure: remove the tmp/ name (files, not dirs). */
	SB_RULE_ARG2(unlinkat, ARG_IS(0, MAILDIR_FD_TMP), ARG_IS(2, 0)),
	/* the message descriptor after each job, and the tmp/ file. */
	SB_RULE(close),
	/* main_maildir.c: stat("/") after the chroot, compared with fd 4
	 * (glibc's stat and fstat are newfstatat); metadata inside the
	 * chroot only. */
	SB_RULE(newfstatat),
	/* step 1: the R part of the name (32 random bits). */
	SB_RULE_ARG1(getrandom, ARG_IS(2, 0)),
	/* step 1 and chan_send's deadline: vDSO, but the syscall where the
	 * clock has no vDSO path. */
	SB_RULE(clock_gettime),
};

const size_t maildir_sandbox_nrules = SB_NRULES(maildir_sandbox_rules);
