/*
 * tlsd_sandbox_rules.c — the seccomp allow-list of postern-tlsd, the
 * process that holds the TLS key and speaks TLS to the network (DESIGN §1:
 * it may not open files or connect; invariant 3).  sandbox_enter() adds
 * write and exit_group.  Everything OpenSSL could need a file for (config,
 * providers, certificate and key, RNG seeding, algorithm fetches) is done
 * before the filter (tlsd_ctx.c).
 *
 * Measured with strace -f on the tlsd test suite (STARTTLS and implicit
 * TLS, TLS 1.2 and 1.3, RSA and ECDSA, tickets): after the filter the
 * process makes only the calls below.
 */
#include "tlsd_sandbox_rules.h"

#include <sys/mman.h>

const struct sandbox_rule tlsd_sandbox_rules[] = {
	/* relay and handshake reads: client socket, pre/post-TLS pairs */
	SB_RULE(read),
	/* every wait (relay, handshake, control, facts) has a deadline */
	SB_RULE(poll),
	/* chan.c: the control frames to smtpd and the facts frame */
	SB_RULE(sendto),
	SB_RULE(recvfrom),
	/* passing a half-close on; "closing" the pre-TLS pair */
	SB_RULE(shutdown),
	/* OpenSSL's RNG: fork detection, and reseeding its DRBG */
	SB_RULE(getpid),
	SB_RULE(getrandom),
	/* malloc/free of OpenSSL's record buffers (released when idle) and
	 * handshake state: heap growth and trimming, large blocks mapped and
	 * unmapped.  Never executable memory. */
	SB_RULE(brk),
	SB_RULE_ARG1(mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SB_RULE(munmap),
	/* clock_ms(): vDSO, with the syscall as the fallback on hosts whose
	 * clock source has no vDSO path */
	SB_RULE(clock_gettime),
};

const size_t tlsd_sandbox_nrules = sizeof tlsd_sandbox_rules / sizeof tlsd_sandbox_rules[0];
