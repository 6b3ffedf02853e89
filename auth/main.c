/*
 * main.c — postern-authd, the password verifier (DESIGN §1, §2 step 5).
 * Started and supervised by the master (master/daemon.c, master/authd.c)
 * as root with the arguments of auth/args.h and the descriptors of
 * lib/fds.h: 0 and 1 /dev/null, 2 the log pipe, 3 the control socket
 * (frames in auth/control.h), 4 users.cdb read-only (or /dev/null when
 * there is no table yet).
 *
 * The checklist: arguments; descriptors; SIGPIPE ignored; libsodium; the
 * users table attached from fd 4; every allocation (sessions, limits,
 * cache, pool rings) and the wake-up pipe; sandbox_enter (chroot to the
 * empty directory, drop to postern-auth, seccomp with
 * auth/sandbox_rules.c); then the worker threads; `ready` to the master;
 * the event loop (serve.c).  Failure policy: any set-up failure logs one
 * line and exits 111; a malformed control frame exits 111 (the master
 * restarts authd); the master closing the control socket exits 0.
 * Leaves through _exit().
 */
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdlayout.h"
#include "args.h"
#include "bufio.h"
#include "chan.h"
#include "fds.h"
#include "ctlchan.h"
#include "log.h"
#include "netstring.h"
#include "pool.h"
#include "sandbox.h"
#include "sandbox_rules.h"
#include "serve.h"

/* Worker count: as configured, else one per online core. */
static unsigned worker_count(uint64_t conf)
{
	long n = conf > 0 ? (long)conf : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > POOL_WORKERS_MAX ? POOL_WORKERS_MAX : (unsigned)n;
}

/* Everything that allocates or opens, before the sandbox. */
static void prepare(struct authd *a, const struct authd_args *args)
{
	static struct limits lim;
	static struct auth_cache cache;
	struct fail_policy pol = {
		args->ip_delay_after, args->ip_refuse_after, args->login_delay_after,
		args->delay_max * 1000, args->fail_window * 1000,
	};
	int wake[2];

	a->ctl = DAEMON_FD_CONTROL;
	cdbfd_init(&a->users);
	if (cdbfd_attach(&a->users, AUTHD_FD_USERS) != 0)
		log_event("warning", "reason=no-users-table detail=auth-answers-454");
	serve_pick_dummy(a);
	faillim_init(&lim, &pol);
	cache_init(&cache, args->cache_ttl * 1000);
	a->limits = &lim;
	a->cache = &cache;
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		log_fatal("reason=pipe");
	a->wake = wake[0];
	if (serve_init(a) != 0 ||
	    pool_init(&a->pool, worker_count(args->workers), args->queue_max, wake[1]) != 0)
		log_fatal("reason=out-of-memory");
	log_event("start", "workers=%u queue_max=%llu", a->pool.workers,
	          (unsigned long long)args->queue_max);
}

/* Tell the master we are sandboxed and serving. */
static void send_ready(int ctl)
{
	unsigned char buf[32];
	const unsigned char *f;
	size_t n;

	f = ctlchan_write(buf, sizeof(buf), &n, &(struct ctl_msg){ .verb = CTL_READY });
	if (f == NULL || chan_send(ctl, f, n, clock_ms() + 5000) != 0)
		log_fatal("reason=ready-not-sent");
}

int main(int argc, char **argv)
{
	static struct authd a;
	struct authd_args args;
	struct sandbox_spec spec;
	const char *why = "";

	log_init("postern-authd");
	if (authd_args_parse(argc, argv, &args, &why) != 0)
		log_fatal("reason=bad-arguments detail=\"%s\"", why);
	fds_expect(AUTHD_FD_USERS + 1, AUTHD_FD_USERS + 1);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("reason=sigpipe");
	if (sodium_init() < 0)
		log_fatal("reason=sodium_init");
	prepare(&a, &args);

	spec.role = "authd";
	spec.root = args.root;
	spec.uid = args.uid;
	spec.gid = args.gid;
	spec.rules = authd_sandbox_rules;
	spec.nrules = authd_sandbox_nrules;
	sandbox_enter(&spec);

	if (pool_start(&a.pool) != 0)
		log_fatal("reason=threads");
	send_ready(a.ctl);
	if (serve_run(&a) != 0)
		log_fatal("reason=control-protocol");
	log_event("stop", "reason=master-closed-control");
	_exit(0);
}
