/*
 * signals.c — blocking the master's signals and reading them from a
 * signalfd (see signals.h).  Children get a default mask and dispositions
 * back in session.c before execve.
 *
 * Process: postern (master).  Failure policy: failing to set up signals
 * is fatal at start (exit 111); a failed read just ends this round.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"

/* The set read through the signalfd. */
static void loop_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* Block the set, ignore SIGPIPE, open the signalfd. */
int signals_setup(void)
{
	sigset_t set;
	int fd;

	loop_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		log_fatal("reason=sigprocmask error=%s", strerrorname_np(errno));
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("reason=sigpipe error=%s", strerrorname_np(errno));
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		log_fatal("reason=signalfd error=%s", strerrorname_np(errno));
	return fd;
}

/* Read every pending signal into seen. */
void signals_read(int fd, struct signals_seen *seen)
{
	struct signalfd_siginfo si;

	memset(seen, 0, sizeof(*seen));
	for (;;) {
		ssize_t r = read(fd, &si, sizeof(si));

		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(si))
			return;
		switch (si.ssi_signo) {
		case SIGCHLD: seen->chld = 1; break;
		case SIGHUP: seen->hup = 1; break;
		case SIGTERM: case SIGINT: seen->stop = (int)si.ssi_signo; break;
		default: break;
		}
	}
}
