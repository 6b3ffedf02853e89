/*
 * sandbox_rules.c — the seccomp allow-list of postern-smtpd, the process
 * that parses the network (DESIGN §1: it may not open files, connect,
 * create sockets or exec; invariant 3).  sandbox_enter() adds the common
 * rules (write, exit_group).  Everything else is killed.
 *
 * After the sandbox postern-smtpd allocates nothing (buffers live in
 * struct session and in static storage), so brk/mmap are absent.  The
 * list was checked by running the dialogue suite under strace -f -c.
 */
#include "sandbox_rules.h"

#include <sys/socket.h>

const struct sandbox_rule smtpd_sandbox_rules[] = {
	/* bufin_fill: client bytes on fd 0 (non-blocking). */
	SB_RULE(read),
	/* bufin_fill, bufout_flush, chan_*: waiting with a deadline. */
	SB_RULE(poll),
	SB_RULE(ppoll),
	/* chan_send / chan_recv on the SOCK_SEQPACKET channels (fd 4, 5). */
	SB_RULE(sendto),
	SB_RULE(recvfrom),
	SB_RULE(sendmsg),
	SB_RULE(recvmsg),
	/* auth_client/queue_client: shutting a misbehaving channel down. */
	SB_RULE(shutdown),
	/* clock_ms() when the vDSO is unavailable. */
	SB_RULE(clock_gettime),
	/* Greeting date (localtime_r, time). */
	SB_RULE(time),
	/* main.c: leaving through _exit(). */
	SB_RULE(exit),
};

const size_t smtpd_sandbox_nrules = sizeof smtpd_sandbox_rules / sizeof smtpd_sandbox_rules[0];
