/*
 * sandbox_rules.c — the seccomp allow-list of postern-deliver (DESIGN §1:
 * it may not write the queue, open files, make non-IP sockets or exec;
 * invariant 3).  sandbox_enter() adds the common rules (write,
 * exit_group); anything else kills the process.  No open/openat (the
 * resolver state, the TLS context and the CA bundle are ready before the
 * sandbox; relay-secrets.cdb is a descriptor), no execve, no fork.
 * Measured with `strace -ff` on tests/integration/test_deliver_{smtp,dns}.py
 * (plain, STARTTLS, verify, AUTH, MX lookups with dnsmasq): after the
 * filter the worker made read poll sendto write close socket connect
 * recvmsg pread64 setsockopt newfstatat recvfrom getsockopt lseek getpid
 * getrandom brk exit_group.  bind is hit with -b only; writev, fstat,
 * mmap/munmap/madvise and clock_gettime are margin (glibc's TCP DNS path,
 * large allocations, a clock without vDSO), each named below.
 */
#include <sys/mman.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "sandbox_rules.h"

#define NO_EXEC SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)

const struct sandbox_rule deliver_sandbox_rules[] = {
	/* conn.c (SMTP over TCP) and res_nquery (DNS over UDP, TCP after a
	 * truncated answer): IP sockets only, never AF_UNIX/AF_NETLINK. */
	SB_RULE_ARG1(socket, SCMP_A0(SCMP_CMP_EQ, AF_INET, 0)),
	SB_RULE_ARG1(socket, SCMP_A0(SCMP_CMP_EQ, AF_INET6, 0)),
	SB_RULE(connect),	/* conn_open; res_nquery's UDP socket */
	SB_RULE(bind),		/* conn_open: the configured source address (-b) */
	SB_RULE(getsockopt),	/* SO_ERROR after a non-blocking connect */
	/* res_nquery turns on IP_RECVERR (IPV6_RECVERR) on its UDP socket;
	 * only IP-level options, nothing at SOL_SOCKET (no SO_BINDTODEVICE). */
	SB_RULE_ARG1(setsockopt, SCMP_A1(SCMP_CMP_EQ, IPPROTO_IP, 0)),
	SB_RULE_ARG1(setsockopt, SCMP_A1(SCMP_CMP_EQ, IPPROTO_IPV6, 0)),
	SB_RULE(poll),		/* every wait with a deadline; res_nquery */
	SB_RULE(read),		/* server replies (plain and TLS records); DNS over TCP */
	SB_RULE(sendto),	/* send(2): commands, frames; res_nquery's query */
	SB_RULE(writev),	/* res_nquery over TCP after a truncated answer (glibc send_vc; read from its source, not hit by the tests) */
	SB_RULE(recvfrom),	/* res_nquery's answer; chan_recv */
	SB_RULE(recvmsg),	/* fdpass_recv: the job frame with the message fd */
	SB_RULE(close),		/* connections, the message fd after a job */
	SB_RULE(fstat),		/* body_scan: size of the message file */
	SB_RULE(newfstatat),	/* glibc's fstat */
	SB_RULE(pread64),	/* body.c reads the message without a file offset */
	SB_RULE(lseek),		/* stdio-free libc paths that ask for the offset */
	SB_RULE(getpid),	/* OpenSSL's fork check in its random generator */
	SB_RULE(getrandom),	/* OpenSSL and libsodium randomness */
	SB_RULE(clock_gettime),	/* deadlines (vDSO normally) */
	/* malloc: OpenSSL per connection, never executable mappings. */
	SB_RULE_ARG1(mmap, NO_EXEC),
	SB_RULE(munmap),
	SB_RULE(brk),
	SB_RULE(madvise),	/* glibc's free of large blocks */
};

const size_t deliver_sandbox_nrules = sizeof deliver_sandbox_rules / sizeof deliver_sandbox_rules[0];
