/*
 * main_maildir.c — postern-maildir, the local delivery worker for one
 * `maildir:` route (the queued <-> worker contract of lib/jobchan.h; route
 * grammar in lib/routespec.h).
 * The master opens the maildir root O_DIRECTORY|O_NOFOLLOW, derives its
 * owner with fstat, refuses root and owners below maildir_uid_min, and
 * execs this program as root with the arguments of maildir_args.h and the
 * descriptors of lib/fds.h (MAILDIR_FD_*): 0, 1 /dev/null, 2 the log
 * pipe, 3 the job channel (SOCK_SEQPACKET, grammar in lib/jobchan.h; route exactly "maildir"), 4
 * the maildir root.
 *
 * The checklist: arguments (uid never 0, never below -m); descriptors 0..4
 * open, everything above closed; fd 4 is a directory owned by -u; tmp/
 * and new/ opened relative to it with O_DIRECTORY|O_NOFOLLOW onto fds 5
 * and 6, cur/ checked (a directory, not a symlink), each owned by -u;
 * umask 077; sandbox_enter (chroot to -r, drop to the owner, seccomp with
 * maildir_sandbox_rules.c); then "/" must be the same inode as fd 4, so
 * the path the master named and the directory it opened agree.  Then up to -n jobs: each is delivered once into the single
 * maildir (one file per job, whatever the number of recipients, since a
 * route maps a domain to one maildir; every recipient gets the same
 * result), answered with one `rcpt` per recipient and `done`; after the
 * last, `bye` and exit 0.
 *
 * Failure policy: a bad argument, descriptor or maildir (incomplete, not
 * owned by -u, a symlink in place of tmp/ new/ cur/) logs one line and
 * exits 111 before any job is read: mail for the route then stays queued
 * (temporary) until the operator repairs the maildir — never bounced for
 * a local configuration problem.  A malformed job frame, a frame without
 * exactly one descriptor, or a failed send logs and exits 111 without
 * writing anything (queued treats the job's recipients as temp).  EOF on
 * the channel exits 0, and so does a channel queued closed with a job out
 * or its results unread (EPIPE, ECONNRESET: queued died or was restarted,
 * and its next instance retries the job).  Leaves through _exit().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdlayout.h"
#include "bufio.h"
#include "chan.h"
#include "fdpass.h"
#include "fds.h"
#include "log.h"
#include "maildir_args.h"
#include "jobchan.h"
#include "maildir_sandbox_rules.h"
#include "maildir_store.h"
#include "netstring.h"

#define SEND_TIMEOUT_MS 30000


/* st must be a directory owned by uid. */
static void check_dir(const struct stat *st, uid_t uid, const char *which)
{
	if (!S_ISDIR(st->st_mode))
		log_fatal("maildir-not-a-directory dir=%s", which);
	if (st->st_uid != uid)
		log_fatal("maildir-wrong-owner dir=%s uid=%u", which,
		          (unsigned)st->st_uid);
}

/* Open root/name as a directory without following a symlink onto fd
 * target; fatal if it is missing, a symlink or not the owner's. */
static void open_subdir(const char *name, int target, uid_t uid)
{
	struct stat st;
	int fd = openat(MAILDIR_FD_ROOT, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		log_fatal("maildir-incomplete dir=%s errno=%s", name,
		          strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	if (fstat(fd, &st) != 0)
		log_fatal("fstat dir=%s", name);
	check_dir(&st, uid, name);
	if (fd != target) {
		if (dup2(fd, target) != target)
			log_fatal("dup2 dir=%s", name);
		close(fd);
	}
}

/* The maildir must be complete and the owner's before the sandbox; returns
 * the root's stat for the check after the chroot. */
static struct stat check_maildir(uid_t uid)
{
	struct stat root, cur;

	if (fstat(MAILDIR_FD_ROOT, &root) != 0)
		log_fatal("fstat dir=root");
	check_dir(&root, uid, "root");
	/* tmp/ first onto 5, then new/ onto 6: each openat takes the lowest
	 * free number, which is 5 after fds_expect. */
	open_subdir("tmp", MAILDIR_FD_TMP, uid);
	open_subdir("new", MAILDIR_FD_NEW, uid);
	if (fstatat(MAILDIR_FD_ROOT, "cur", &cur, AT_SYMLINK_NOFOLLOW) != 0)
		log_fatal("maildir-incomplete dir=cur");
	check_dir(&cur, uid, "cur");
	return root;
}

/* Started without root (development mode) there is no chroot and no
 * uid change, so the worker must already be the maildir's owner. */
static void check_dev_mode(uid_t uid)
{
	if (geteuid() != 0 && (getuid() != uid || geteuid() != uid))
		log_fatal("not-root-and-not-the-owner uid=%u", (unsigned)getuid());
}

/* After the chroot "/" must be the directory the master opened (without
 * root there is no chroot: the filter and fds 5, 6 are all that confine). */
static void check_root_is_fd(const struct stat *root, int chrooted)
{
	struct stat now;

	if (!chrooted) {
		log_event("warning", "reason=not-root detail=no-chroot");
		return;
	}
	if (stat("/", &now) != 0)
		log_fatal("stat-root");
	if (now.st_dev != root->st_dev || now.st_ino != root->st_ino)
		log_fatal("chroot-is-not-fd4");
	/* fd 4 stays open (it is "/" anyway): closing it would put the next
	 * job's message on 4 instead of MAILDIR_FD_MESSAGE. */
}

/* queued closed the channel: its doing, not a failure. */
static void channel_closed(void)
{
	log_event("stop", "reason=channel-closed");
	_exit(0);
}

/* Send one frame on the job channel; leave if queued closed it, fatal
 * on any other failure. */
static void send_frame(const unsigned char *f, size_t n)
{
	if (f == NULL)
		log_fatal("frame-too-long");
	if (chan_send(MAILDIR_FD_JOBS, f, n, clock_ms() + SEND_TIMEOUT_MS) != 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			channel_closed();
		log_fatal("job-channel-send errno=%s",
		          strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	}
}

/* One result per recipient, then `done`. */
static void report(const struct job *job, const struct maildir_result *res)
{
	static unsigned char buf[1024];
	size_t n;

	const unsigned char *f;

	for (uint64_t i = 0; i < job->nrcpt; i++) {
		f = frame_rcpt(buf, sizeof(buf), &n, job->id, i, res->ok ? "ok" : "temp",
		               res->code, res->status, res->text);
		send_frame(f, n);
	}
	f = frame_done(buf, sizeof(buf), &n, job->id);
	send_frame(f, n);
}

/* Log the outcome of one job. */
static void log_result(const struct job *job, const struct maildir_result *res)
{
	struct logline l;

	ll_begin(&l, res->ok ? "delivered" : "deferred");
	ll_u64(&l, "job", job->id);
	ll_u64(&l, "rcpts", job->nrcpt);
	ll_u64(&l, "code", res->code);
	ll_str(&l, "status", res->status);
	if (res->ok) {
		ll_str(&l, "file", res->name);
		ll_u64(&l, "bytes", res->bytes);
	}
	ll_emit(&l);
}

/* Receive and run one job; 0 at EOF (or ECONNRESET: queued died with
 * this worker's last frames unread), 1 after a job. */
static int one_job(struct maildir_store *st)
{
	static unsigned char buf[FRAME_MAX];
	const unsigned char *payload;
	size_t plen, used, nfds;
	int fds[1];
	static struct job job;
	struct maildir_result res;
	ssize_t r = fdpass_recv(MAILDIR_FD_JOBS, buf, sizeof(buf), fds, 1, &nfds);

	if (r == 0 || (r < 0 && errno == ECONNRESET))
		return 0;
	if (r < 0)
		log_fatal("job-channel errno=%s",
		          strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	if (netstring_parse(buf, (size_t)r, sizeof(buf), &payload, &plen, &used) != NS_OK ||
	    used != (size_t)r || job_parse(&job, payload, plen) != 0 ||
	    !job_route_is(&job, "maildir") || nfds != 1 ||
	    fds[0] != MAILDIR_FD_MESSAGE) {
		/* the filter only lets pread64 reach fd 7; anything else is a
		 * peer that does not follow the grammar.  A route other than
		 * "maildir" was meant for another kind of worker: guessing
		 * would deliver to the wrong place. */
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		log_fatal("malformed-job-frame fds=%zu", nfds);
	}
	maildir_deliver(st, MAILDIR_FD_MESSAGE, job.header.p, job.header.n, &res);
	close(MAILDIR_FD_MESSAGE);
	log_result(&job, &res);
	report(&job, &res);
	return 1;
}

int main(int argc, char **argv)
{
	static struct maildir_store st;
	struct maildir_args args;
	struct sandbox_spec spec;
	struct stat root;
	const char *why = "";
	size_t nbye;
	int chrooted;

	log_init("postern-maildir");
	if (maildir_args_parse(argc, argv, &args, &why) != 0)
		log_fatal("bad-arguments detail=\"%s\"", why);
	fds_expect(MAILDIR_FD_ROOT + 1, MAILDIR_FD_ROOT + 1);
	check_dev_mode(args.uid);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("sigpipe");
	if (maildir_host_escape(args.host, st.host, sizeof(st.host)) != 0)
		log_fatal("bad-arguments detail=\"invalid value for -h\"");
	root = check_maildir(args.uid);
	st.tmp_dir = MAILDIR_FD_TMP;
	st.new_dir = MAILDIR_FD_NEW;
	st.pid = (long)getpid();
	umask(077);

	spec.role = "maildir";
	spec.root = args.root;
	spec.uid = args.uid;
	spec.gid = args.gid;
	spec.rules = maildir_sandbox_rules;
	spec.nrules = maildir_sandbox_nrules;
	chrooted = geteuid() == 0;	/* sandbox_enter chroots exactly then */
	sandbox_enter(&spec);
	check_root_is_fd(&root, chrooted);
	log_event("start", "jobs=%llu", (unsigned long long)args.jobs);

	for (uint64_t done = 0; done < args.jobs; done++) {
		if (one_job(&st) == 0)
			channel_closed();
	}
	{
		static unsigned char buf[32];
		const unsigned char *f = frame_bye(buf, sizeof(buf), &nbye);

		send_frame(f, nbye);
	}
	log_event("stop", "reason=batch-done");
	_exit(0);
}
