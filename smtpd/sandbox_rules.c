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
 */
#include "sandbox_rules.h"

const struct sandbox_rule smtpd_sandbox_rules[] = {
	/* bufin_fill: client bytes on fd 0 (non-blocking). */
	SB_RULE(read),
	/* fd_wait (bufio.c) and chan.c: every wait has a deadline. */
	SB_RULE(poll),
	/* chan_send: send(2) of one frame to authd (fd 4) or queued (fd 5). */
	SB_RULE(sendto),
	/* chan_recv: recv(2) of authd's or queued's answer. */
	SB_RULE(recvfrom),
	/* auth_client.c, queue_client.c: shutting a broken channel down. */
	SB_RULE(shutdown),
	/* clock_ms() and the greeting's date: served by the vDSO, but glibc
	 * falls back to the syscall when the clock source has no vDSO path
	 * (some virtual machines); without it such hosts would kill every
	 * session. */
	SB_RULE(clock_gettime),
};

const size_t smtpd_sandbox_nrules = sizeof smtpd_sandbox_rules / sizeof smtpd_sandbox_rules[0];
