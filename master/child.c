/*
 * child.c — from fork to execveat in every child of the master (see
 * child.h).  Runs only in the forked child of a single-threaded master, so
 * it may use the master's memory but must not return into it; after
 * child_spawn's vfork that memory is the master's own, so nothing here
 * writes anything but the child's stack and its own kernel state
 * (descriptors, signal dispositions, session).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "fds.h"
#include "progfd.h"

_Static_assert(DAEMON_FD_EXTRA + DAEMON_FD_EXTRA_MAX <= CHILD_FD_MAX,
               "a daemon's descriptors fit CHILD_FD_MAX");
_Static_assert(SMTPD_FD_COUNT <= CHILD_FD_MAX && TLSD_FD_COUNT <= CHILD_FD_MAX,
               "a session's descriptors fit CHILD_FD_MAX");

/* Where the child parks its descriptors before dup2 onto 0..n-1. */
#define FD_PARK_MIN 10

/* One line on fd 2 about a failed step, then _exit(127). */
static void __attribute__((noreturn)) child_fail(const char *role, const char *step)
{
	char line[160];
	const char *e = strerrorname_np(errno);
	int n = snprintf(line, sizeof(line),
	                 "postern: event=spawn-failed role=%s step=%s error=%s\n", role,
	                 step, e ? e : "unknown");

	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(STDERR_FILENO, line, (size_t)n);
	_exit(127);
}

/* Default signal mask and dispositions: SIG_IGN survives execve, and the
 * master ignores SIGPIPE and blocks its signalfd set. */
static void child_reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* src[i] onto fd i for i < n, the rest close-on-exec.  The sources may
 * themselves sit on 0..n-1 (the master may have been started with 0..2
 * closed), so each is first parked above FD_PARK_MIN. */
static void child_place_fds(const char *role, const int *src, size_t n)
{
	int park[CHILD_FD_MAX];

	if (n > CHILD_FD_MAX) {
		errno = EMFILE;
		child_fail(role, "too-many-fds");
	}
	for (size_t i = 0; i < n; i++) {
		park[i] = fcntl(src[i], F_DUPFD_CLOEXEC, FD_PARK_MIN);
		if (park[i] < 0)
			child_fail(role, "park-fd");
	}
	for (size_t i = 0; i < n; i++) {
		if (dup2(park[i], (int)i) != (int)i)	/* clears FD_CLOEXEC on i */
			child_fail(role, "dup2");
	}
	/* Close-on-exec rather than closed: the program's descriptor must
	 * stay open until execveat. */
	if (close_range((unsigned)n, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		child_fail(role, "close_range");
}

/* Become the program (see child.h). */
void child_exec(const char *role, const int *src, size_t n, int progfd,
                char *const argv[])
{
	/* The program's descriptor may itself sit on 0..n-1: park it too. */
	int prog = fcntl(progfd, F_DUPFD_CLOEXEC, FD_PARK_MIN);

	if (prog < 0)
		child_fail(role, "park-fd");
	child_reset_signals();
	(void)setsid();
	child_place_fds(role, src, n);
	progfd_exec(prog, argv);
	child_fail(role, "execve");
}

/* vfork and exec (see child.h). */
pid_t child_spawn(const char *role, const int *src, size_t n, int progfd,
                  char *const argv[])
{
	pid_t pid = vfork();

	if (pid == 0)
		child_exec(role, src, n, progfd, argv);
	return pid;
}
