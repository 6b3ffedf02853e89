/*
 * sandbox_rules.c — the seccomp allow-list of postern-smtpd, the process
 * that parses the network (DESIGN §1: it may not open files, connect,
 * create sockets or exec; invariant 3).  sandbox_enter() adds the common
 * rules (write, exit_group); everything else kills the process.
 *
 * After the sandbox postern-smtpd allocates nothing (buffers live in
 * struct session and in static storage), so brk/mmap are absent.  Checked
 * by running the dialogue suite under `strace -f`: after the filter is
 * loaded the process makes only poll, read, write, sendto, recvfrom,
 * shutdown and exit_group.
 *
 * Argument filters, defence in depth: read only from the client (fd 0, or
 * fd 1 after STARTTLS), sendto/recvfrom only on the three channels (fds
 * 3..5, lib/fds.h), so even a compromised parser cannot read its log pipe
 * or pass client bytes to a channel through read(2).  Several rules for
 * one syscall, all with comparisons and the same action, are ORed by
 * libseccomp (lib/sandbox.c check_consistent() refuses any mixing with an
 * unconditional rule).  write stays unfiltered: it is a common rule.
 */
#include "sandbox_rules.h"

#include "fds.h"

/* The call's first argument is descriptor fd (compared as the kernel
 * sees an int: the low 32 bits).  The second datum is unused by EQ; it is
 * given so that every field is initialised (clang's
 * -Wmissing-field-initializers in the fuzz build). */
#define FD_IS(fd) SCMP_A0_32(SCMP_CMP_EQ, (fd), 0)

const struct sandbox_rule smtpd_sandbox_rules[] = {
	/* bufin_fill: client bytes on fd 0, or fd 1 after STARTTLS. */
	SB_RULE_ARG1(read, FD_IS(SMTPD_FD_CLIENT)),
	SB_RULE_ARG1(read, FD_IS(SMTPD_FD_POSTTLS)),
	/* fd_wait (bufio.c) and chan.c: every wait has a deadline. */
	SB_RULE(poll),
	/* chan_send: send(2) of one frame to tlsd (fd 3, STARTTLS), authd
	 * (fd 4) or queued (fd 5). */
	SB_RULE_ARG1(sendto, FD_IS(SMTPD_FD_CONTROL)),
	SB_RULE_ARG1(sendto, FD_IS(SMTPD_FD_AUTH)),
	SB_RULE_ARG1(sendto, FD_IS(SMTPD_FD_QUEUE)),
	/* chan_recv: recv(2) of their answers. */
	SB_RULE_ARG1(recvfrom, FD_IS(SMTPD_FD_CONTROL)),
	SB_RULE_ARG1(recvfrom, FD_IS(SMTPD_FD_AUTH)),
	SB_RULE_ARG1(recvfrom, FD_IS(SMTPD_FD_QUEUE)),
	/* auth_client.c, queue_client.c: shutting a broken channel down. */
	SB_RULE(shutdown),
	/* clock_ms() and the greeting's date: served by the vDSO, but glibc
	 * falls back to the syscall when the clock source has no vDSO path
	 * (some virtual machines); without it such hosts would kill every
	 * session. */
	SB_RULE(clock_gettime),
};

const size_t smtpd_sandbox_nrules = sizeof smtpd_sandbox_rules / sizeof smtpd_sandbox_rules[0];
