/*
 * main.c — postern-deliver, the SMTP delivery worker (the last step of a
 * message's path: queue to the next hop).  One of a pool the master spawns as root and recycles after a
 * batch of jobs or after a remote server misbehaved.
 *
 * Descriptors (lib/fds.h DELIVER_FD_*):
 *   0, 1  /dev/null
 *   2     log pipe to the master (one line per event, lib/log.h)
 *   3     the job channel to postern-queued (SOCK_SEQPACKET; grammar in
 *         lib/jobchan.h: `job` + message fd in; `rcpt`, `done`, `bye` out)
 *   4     optional: relay-secrets.cdb, read-only (NAME -> "login password")
 * Arguments: deliver/args.h (trusted facts: -u -g -r -H, optional -b -R
 * -n -C -t, and -P for tests only).  No key or password in argv.
 *
 * The checklist: arguments; descriptors (0..3 required, 4 optional,
 * nothing above); SIGPIPE ignored; tzset; sodium_init; res_ninit (reads
 * /etc/resolv.conf); the OpenSSL client context with the CA bundle;
 * relay-secrets attached; sandbox_enter (empty chroot, the
 * postern-deliver user, deliver/sandbox_rules.c); then jobs until the
 * batch is done, a peer misbehaved (`bye`, exit 0) or queued closes the
 * channel (exit 0); between jobs a clean session may stay open for the
 * next job to the same destination (keep.h), and is ended before `bye`.  A malformed frame or a channel error: exit 111.
 * Leaves through _exit() (exit() runs OpenSSL's cleanup).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fdlayout.h"
#include "args.h"
#include "bufio.h"
#include "chan.h"
#include "dns.h"
#include "fdpass.h"
#include "fds.h"
#include "log.h"
#include "netstring.h"
#include "sandbox.h"
#include "sandbox_rules.h"
#include "tls.h"
#include "worker.h"

/* Descriptors 0..3 must be open, 4 may be; nothing above. */
static int check_fds(void)
{
	fds_expect(DELIVER_FD_JOBS + 1, DELIVER_FD_SECRETS + 1);
	return fcntl(DELIVER_FD_SECRETS, F_GETFD) >= 0;
}

/* End the kept session, tell queued we are leaving, then leave. */
static void bye(struct worker *w, const char *why)
{
	unsigned char buf[32];
	const unsigned char *f;
	int chan = w->chan;
	size_t n;

	keep_close(&w->keep, 1, "bye");
	f = frame_bye(buf, sizeof(buf), &n);
	if (f != NULL)
		(void)chan_send(chan, f, n, clock_ms() + 5000);
	log_event("stop", "reason=%s", why);
	_exit(0);
}

/* queued closed the channel (at end of file, or while a job was out:
 * queued died or was restarted and retries that job's recipients): the
 * master's doing, not a failure, so exit 0. */
static void channel_closed(struct worker *w)
{
	keep_close(&w->keep, 1, "channel-closed");
	log_event("stop", "reason=channel-closed");
	_exit(0);
}

/* Receive one job frame and its descriptor: 1, 0 at EOF; fatal if bad.
 * ECONNRESET counts as EOF: it is how a queued that died before reading
 * this worker's last frames closes the channel.  While a session is
 * kept, the wait also watches it (keep.h). */
static int next_job(struct worker *w, unsigned char *buf, const unsigned char **payload,
                    size_t *plen, int *msgfd)
{
	int chan = w->chan;
	size_t nfds = 0, used;
	ssize_t r;

	if (keep_wait_job(&w->keep, chan) != 0)
		log_fatal("job-channel errno=%d", errno);
	for (;;) {
		r = fdpass_recv(chan, buf, FRAME_MAX, msgfd, 1, &nfds);
		if (r >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return 0;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    fd_wait(chan, POLLIN, DEADLINE_NONE) != 0)
			log_fatal("job-channel errno=%d", errno);
	}
	if (r == 0)
		return 0;
	if (nfds != 1 || netstring_parse(buf, (size_t)r, FRAME_MAX, payload, plen, &used) != NS_OK ||
	    used != (size_t)r) {
		for (size_t i = 0; i < nfds; i++)
			close(msgfd[i]);
		log_fatal("bad-job-frame");
	}
	return 1;
}

int main(int argc, char **argv)
{
	static struct worker w;
	static unsigned char frame[FRAME_MAX];
	static struct deliver_args args;
	struct sandbox_spec spec;
	const char *why = "";
	uint64_t done = 0;
	int have_secrets;

	log_init("postern-deliver");
	if (deliver_args_parse(argc, argv, &args, &why) != 0)
		log_fatal("bad-arguments detail=\"%s\"", why);
	have_secrets = check_fds();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("sigpipe");
	tzset();
	if (sodium_init() < 0)
		log_fatal("sodium_init");
	w.args = &args;
	w.chan = DELIVER_FD_JOBS;
	w.keep.c.fd = -1;
	if (dns_init(&w.res, args.have_resolver ? &args.resolver : NULL,
	             (unsigned)(args.timeout_ms[TMO_CONNECT] / 1000 < 5 ?
	                        args.timeout_ms[TMO_CONNECT] / 1000 : 5)) != 0)
		log_fatal("res_ninit");
	w.tls = tls_client_ctx(args.cafile);
	w.tls_verify_ready = args.cafile != NULL;
	cdbfd_init(&w.secrets);
	if (have_secrets && cdbfd_attach(&w.secrets, DELIVER_FD_SECRETS) != 0)
		log_fatal("relay-secrets-unreadable");

	spec.role = "deliver";
	spec.root = args.root;
	spec.uid = args.uid;
	spec.gid = args.gid;
	spec.rules = deliver_sandbox_rules;
	spec.nrules = deliver_sandbox_nrules;
	sandbox_enter(&spec);
	log_event("start", "jobs=%llu secrets=%d", (unsigned long long)args.jobs, have_secrets);

	for (;;) {
		const unsigned char *payload;
		size_t plen;
		int msgfd[1], r;

		if (next_job(&w, frame, &payload, &plen, msgfd) == 0)
			channel_closed(&w);
		r = worker_job(&w, payload, plen, msgfd[0]);
		if (r == WORKER_GONE)
			channel_closed(&w);
		if (r != 0)
			log_fatal("job-channel");
		done++;
		if (w.misbehaved)
			bye(&w, "peer-misbehaved");
		if (done >= args.jobs)
			bye(&w, "batch-done");
	}
}
