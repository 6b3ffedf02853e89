/*
 * main.c — postern-smtpd, the per-connection SMTP session process
 * (DESIGN §1, §2 step 4).  Exec'd by the master as root with the trusted
 * facts in its arguments (args.h; protocol: postern-smtpd -s SESSION_ID
 * -m plain|starttls|tls -h HOSTNAME -a CLIENT_IP -p CLIENT_PORT
 * -z MESSAGE_SIZE_MAX -n RECIPIENTS_MAX -t IDLE_S -T SESSION_S
 * -c COMMAND_S -P PREAUTH_S -u UID -g GID -r CHROOT_DIR) and descriptors 0..5 as in lib/fds.h.
 *
 * The checklist: parse the arguments, check the descriptors and close
 * every other one (whoever started us may have leaked some), ignore
 * SIGPIPE, initialise libsodium and the time zone (tzset before the
 * chroot), make the client socket non-blocking, enter the sandbox
 * (smtpd/sandbox_rules.c), then serve the one session (session.c).
 * Failure policy: any set-up failure logs one line and exits 111; there
 * is no path that runs unsandboxed.  Leaves through _exit().
 */
#include "args.h"
#include "fdlayout.h"
#include "fds.h"
#include "log.h"
#include "sandbox.h"
#include "sandbox_rules.h"
#include "session.h"

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

/* Non-blocking client socket: every wait is a poll with a deadline. */
static void set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		log_fatal("cannot make descriptor %d non-blocking", fd);
}

int main(int argc, char *argv[])
{
	static struct smtpd_args args;
	static struct session s;
	struct sandbox_spec spec;
	const char *why = "";

	log_init("postern-smtpd");
	if (args_parse(argc, argv, &args, &why) < 0)
		log_fatal("bad arguments: %s", why);
	fds_expect(SMTPD_FD_COUNT, SMTPD_FD_COUNT);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("cannot ignore SIGPIPE");
	if (sodium_init() < 0)
		log_fatal("sodium_init failed");
	tzset();
	set_nonblocking(SMTPD_FD_CLIENT);
	if (args.mode != MODE_PLAIN)
		set_nonblocking(SMTPD_FD_POSTTLS);

	spec.role = "smtpd";
	spec.root = args.root;
	spec.uid = args.uid;
	spec.gid = args.gid;
	spec.rules = smtpd_sandbox_rules;
	spec.nrules = smtpd_sandbox_nrules;
	sandbox_enter(&spec);

	session_init(&s, &args);
	session_run(&s);
	_exit(0);
}
