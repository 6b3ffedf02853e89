/*
 * main.c — postern-queued, the queue daemon (DESIGN §1, §2 step 6, §5).
 * Long-running; exec'd and supervised by the master (master/daemon.c,
 * master/queued.c) as root with:
 *   0, 1  /dev/null
 *   2     log pipe to the master
 *   3     control socket to the master (SOCK_SEQPACKET; server.h grammar)
 * and its trusted facts in arguments (args.h).  No table is open at start:
 * tables and sessions arrive as `table`/`session` frames with a descriptor.
 *
 * The checklist: arguments, descriptors, SIGPIPE ignored, sodium_init and
 * tzset (before the chroot), open the queue directory as descriptors
 * (qdir.c), read the quota counters (quota_state.c), start-up recovery (recover.c), the scheduler's index (one
 * scan of new/ and cur/, sched.c; its time is logged), bind the admin socket
 * queue/control (control.c), enter the sandbox (chroot = the queue
 * directory, uid postern-queue, queue/sandbox_rules.c), say `ready`, serve
 * (server.c).  Failure policy: any set-up failure logs one line and exits
 * 111; there is no path that runs unsandboxed.  Leaves through _exit().
 */
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdlayout.h"
#include "args.h"
#include "bufio.h"
#include "chan.h"
#include "commit.h"
#include "control.h"
#include "ctlchan.h"
#include "log.h"
#include "netstring.h"
#include "qdir.h"
#include "recover.h"
#include "sandbox.h"
#include "sandbox_rules.h"
#include "sched.h"
#include "server.h"

/* Log what recovery did. */
static void log_recovery(const struct recover_stats *st)
{
	struct logline l;

	ll_begin(&l, "recovered");
	ll_u64(&l, "kept", st->kept);
	ll_u64(&l, "tmp_removed", st->tmp_removed);
	ll_u64(&l, "message_removed", st->msg_removed);
	ll_u64(&l, "envelope_removed", st->env_removed);
	ll_u64(&l, "state_removed", st->state_removed);
	ll_u64(&l, "unknown", st->unknown);
	ll_emit(&l);
}

/* Build the scheduler's index; log how many messages and how long. */
static void index_queue(struct queued *d)
{
	int64_t t0 = clock_ms();
	long n;

	if (sched_new(d) == NULL)
		log_fatal("out of memory for the scheduler");
	n = sched_scan(d->sched);
	if (n < 0)
		log_fatal("queue: cannot scan new/ and cur/");
	log_event("indexed", "messages=%ld ms=%lld", n, (long long)(clock_ms() - t0));
}

/* Tell the master we are sandboxed and serving. */
static void say_ready(void)
{
	unsigned char buf[32];
	const unsigned char *f;
	size_t n;

	f = ctlchan_write(buf, sizeof buf, &n, &(struct ctl_msg){ .verb = CTL_READY });
	if (f == NULL || chan_send(QUEUED_FD_CONTROL, f, n, clock_ms() + 5000) < 0)
		log_fatal("cannot send ready to the master");
}

int main(int argc, char *argv[])
{
	static struct queued_args a;
	static struct queued d;
	struct recover_stats st;
	struct sandbox_spec spec;
	char err[512];
	const char *why = "";
	int own = geteuid() == 0, admin;

	log_init("postern-queued");
	if (queued_args_parse(argc, argv, &a, &why) < 0)
		log_fatal("bad arguments: %s", why);
	fds_expect(QUEUED_FD_CONTROL + 1, QUEUED_FD_CONTROL + 1);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sodium_init() < 0)
		log_fatal("cannot ignore SIGPIPE or initialise libsodium");
	tzset();
	d.conf = a.conf;
	commit_use_syncfs(d.conf.syncfs);
	cdbfd_init(&d.senders);
	cdbfd_init(&d.quotas);
	cdbfd_init(&d.routes);
	if (quota_init(&d.quota) < 0)
		log_fatal("out of memory");
	if (qdir_open(&d.q, a.root, own, a.uid, a.gid, err, sizeof err) < 0)
		log_fatal("queue: %s", err);
	(void)quota_load(&d.quota, d.q.root, (uint64_t)time(NULL));
	if (recover_queue(&d.q, &st) < 0)
		log_fatal("queue recovery failed");
	log_recovery(&st);
	index_queue(&d);
	admin = control_listen(a.root, own, a.uid, a.gid, err, sizeof err);
	if (admin < 0)
		log_fatal("admin socket: %s", err);

	memset(&spec, 0, sizeof spec);
	spec.role = "queued";
	spec.root = a.root;
	spec.uid = a.uid;
	spec.gid = a.gid;
	spec.rules = queued_sandbox_rules;
	spec.nrules = queued_sandbox_nrules;
	sandbox_enter(&spec);
	say_ready();
	log_event("ready", "sessions_max=%llu", (unsigned long long)d.conf.sessions_max);
	_exit(server_run(&d, admin));
}
