/*
 * tlsd_factory.c — postern-tlsd's factory mode (protocol, descriptors and
 * the child's steps: tlsd_factory.h).  Process: the factory, as root
 * until its sandbox (user postern-tls, chroot, its own allow-list below),
 * and each forked child until the child's session ends.
 *
 * The factory's allow-list is tlsd's (tlsd_sandbox_rules.c: whatever a
 * child does under its own filter must also pass this one) plus exactly
 * what the fork path needs: recvmsg for a request and its descriptors,
 * close, the one clone it makes, and for the child before its own filter
 * dup2/fcntl/close_range (descriptor layout), prctl PR_SET_PDEATHSIG,
 * getppid and seccomp(SET_MODE_FILTER).  No open, socket, connect or
 * execve.  The child's filter has no clone, so only the factory forks.
 *
 * Failure policy: a malformed request (a master bug) is fatal: log, exit
 * 111; the master then falls back to exec'd tlsds until a new factory is
 * up.  A failed clone is answered "err ERRNAME".
 */
#include "tlsd_factory.h"

#include "factorychan.h"
#include "fdpass.h"
#include "fds.h"
#include "log.h"
#include "sandbox.h"
#include "sandbox_probe.h"
#include "tlsd_ctx.h"
#include "tlsd_sandbox_rules.h"
#include "tlsd_session.h"
#include "tlsd_start.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <openssl/rand.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The one clone the factory may make: a process (not a thread) whose
 * parent is the master. */
#define FACTORY_CLONE_FLAGS (CLONE_PARENT | SIGCHLD)

/* Where the child parks its descriptors before placing them on 0..5. */
#define PARK_MIN 16

static const struct sandbox_rule factory_extra_rules[] = {
	/* a request and its descriptors (lib/fdpass.c) */
	SB_RULE(recvmsg),
	/* the request's descriptors, once the child has them */
	SB_RULE(close),
	/* one tlsd per request, child of the master */
	SB_RULE_ARG1(clone, SCMP_A0(SCMP_CMP_EQ, FACTORY_CLONE_FLAGS, 0)),
	/* in the child before its own filter: descriptors onto 0..5 */
	SB_RULE_ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0)),
	SB_RULE_ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_GETFL, 0)),
	SB_RULE_ARG1(fcntl, SCMP_A1(SCMP_CMP_EQ, F_SETFL, 0)),
	SB_RULE(dup2),
	SB_RULE(close_range),
	/* the child dies with the master, which must still be its parent */
	SB_RULE_ARG1(prctl, SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG, 0)),
	SB_RULE(getppid),
	/* the child's own filter, stacked on this one */
	SB_RULE_ARG2(seccomp, SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0),
	             SCMP_A1(SCMP_CMP_EQ, 0, 0)),
};

#define FACTORY_NRULES_MAX 64
static struct sandbox_rule factory_rules[FACTORY_NRULES_MAX];
static struct sandbox_prog child_prog;
static pid_t master_pid;

/* tlsd's rules followed by the fork path's. */
static size_t factory_rules_build(void)
{
	size_t n = tlsd_sandbox_nrules, extra = SB_NRULES(factory_extra_rules);

	if (n + extra > FACTORY_NRULES_MAX)
		log_fatal("factory rule table too small");
	memcpy(factory_rules, tlsd_sandbox_rules, n * sizeof factory_rules[0]);
	memcpy(factory_rules + n, factory_extra_rules, extra * sizeof factory_rules[0]);
	return n + extra;
}

/* fds[0..TLSD_FD_COUNT) onto 0..TLSD_FD_COUNT-1, nothing else open. */
static void place_fds(const int fds[TLSD_FD_COUNT])
{
	int park[TLSD_FD_COUNT];

	for (int i = 0; i < TLSD_FD_COUNT; i++) {
		park[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, PARK_MIN);
		if (park[i] < 0)
			log_fatal("child: cannot park descriptor %d", fds[i]);
	}
	for (int i = 0; i < TLSD_FD_COUNT; i++) {
		if (dup2(park[i], i) != i)
			log_fatal("child: cannot place descriptor %d", i);
	}
	if (close_range(TLSD_FD_COUNT, ~0U, 0) != 0)
		log_fatal("child: cannot close the factory's descriptors");
}

/* A forked DRBG would repeat its parent's bytes: OpenSSL notices the new
 * pid by itself; reseeding from getrandom makes sure of it. */
static void reseed(void)
{
	if (RAND_poll() != 1)
		log_fatal("child: OpenSSL RNG reseed failed");
}

/* The child: one tlsd on the request's descriptors (see the header). */
static void __attribute__((noreturn)) child(const struct tlsd_args *a, SSL_CTX *ctx,
                                           const int fds[TLSD_FD_COUNT])
{
	static struct tls_ticket_keys keys;

	place_fds(fds);	/* fd 2 is now the session's log pipe */
	log_init("postern-tlsd");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != master_pid)
		log_fatal("child: the master is gone");
	tlsd_set_nonblocking();
	sandbox_add_prepared(&child_prog, "tlsd");
	reseed();
	tlsd_read_keys(&keys);
	tlsd_ctx_set_keys(ctx, &keys);
	explicit_bzero(&keys, sizeof keys);
	_exit(tlsd_session_run(a, tlsd_new_ssl(ctx)));
}

/* Send one frame to the master (lib/factorychan.h). */
static void reply(const struct factorychan_msg *m)
{
	unsigned char buf[FACTORYCHAN_MAX];
	const unsigned char *f;
	size_t n;

	f = factorychan_write(buf, sizeof buf, &n, m);
	if (f == NULL || send(TLSD_FACTORY_FD_REQUESTS, f, n, MSG_NOSIGNAL) != (ssize_t)n)
		log_fatal("cannot answer the master");
}

/* One well-formed request: fork the child, answer with its pid. */
static void fork_one(const struct tlsd_args *a, SSL_CTX *ctx, const int fds[TLSD_FD_COUNT])
{
	struct factorychan_msg out = { .verb = FC_PID };
	long pid = syscall(SYS_clone, FACTORY_CLONE_FLAGS, 0, 0, 0, 0);
	int err = errno;

	if (pid == 0)
		child(a, ctx, fds);
	for (int i = 0; i < TLSD_FD_COUNT; i++)
		close(fds[i]);
	if (pid < 0) {
		const char *name = strerrorname_np(err);

		out.verb = FC_ERR;
		name = name ? name : "unknown";
		memcpy(out.err, name, strnlen(name, FACTORYCHAN_ERR_MAX));
	} else {
		out.pid = (pid_t)pid;
	}
	reply(&out);
}

/* The master closed its end: leave.  A probe build tries its forbidden
 * call here first (the fork probe excepted: the factory may clone), so
 * the tests see the factory's own filter at work too. */
static void __attribute__((noreturn)) leave(void)
{
#ifdef SANDBOX_PROBE
	if (strcmp(SANDBOX_PROBE, "fork") != 0)
		sandbox_probe_run(SANDBOX_PROBE);
#endif
	_exit(0);
}

/* Requests until EOF (see tlsd_factory.h). */
static void __attribute__((noreturn)) serve(const struct tlsd_args *a, SSL_CTX *ctx)
{
	for (;;) {
		unsigned char buf[FACTORYCHAN_MAX];
		struct factorychan_msg req;
		int fds[TLSD_FD_COUNT];
		size_t nfds = 0;
		ssize_t n = fdpass_recv(TLSD_FACTORY_FD_REQUESTS, buf, sizeof buf, fds,
		                        TLSD_FD_COUNT, &nfds);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			leave();
		if (n < 0 || factorychan_parse(buf, (size_t)n, &req) != 0 || req.verb != FC_FORK ||
		    nfds != TLSD_FD_COUNT) {
			if (n < 0)
				log_fatal("request socket: %s", strerrorname_np(errno) ?
				          strerrorname_np(errno) : "unknown");
			log_fatal("malformed request (%zd bytes, %zu descriptors)", n, nfds);
		}
		fork_one(a, ctx, fds);
	}
}

/* The factory's life (see tlsd_factory.h). */
void tlsd_factory_run(const struct tlsd_args *a, SSL_CTX *ctx)
{
	struct sandbox_spec spec;

	master_pid = getppid();
	tlsd_sandbox_spec(a, &spec);
	sandbox_build(&spec, &child_prog);
	spec.role = "tlsd-factory";
	spec.rules = factory_rules;
	spec.nrules = factory_rules_build();
	sandbox_enter_factory(&spec);
	reply(&(struct factorychan_msg){ .verb = FC_READY });
	serve(a, ctx);
}
