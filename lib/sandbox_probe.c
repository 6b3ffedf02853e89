/*
 * sandbox_probe.c — the forbidden calls of the probe builds (make probes,
 * -DSANDBOX_PROBE="open"|"socket"|"execve"|"fork").  Runs inside a role's process
 * right after its filter is loaded (lib/sandbox.c); uses no descriptor but
 * fd 2 for its one log line.
 *
 * Each probe goes through syscall(2), not the libc wrapper, so the test
 * really exercises the named syscall (glibc's open() is openat, its
 * execve() could be anything tomorrow).  The expected outcome is that the
 * kernel kills the process with SIGSYS.  A probe that returns means the
 * filter let it through (or turned it into an errno): that is logged as
 * event=sandbox-probe-survived and the process exits 112, so a test can
 * tell "killed" from "survived" from "refused to start" (111).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox_probe.h"

/* Try the forbidden call named what; see sandbox_probe.h. */
void sandbox_probe_run(const char *what)
{
	/* execve: if it ever ran, the shell exits 112 too, so "survived"
	 * looks the same whether the path existed in the chroot or not. */
	static char *const argv[] = { "sh", "-c", "exit 112", NULL };
	static char *const envp[] = { NULL };
	long rc;
	const char *ename;
	struct logline l;

	if (strcmp(what, "open") == 0)
		rc = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	else if (strcmp(what, "socket") == 0)
		rc = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(what, "execve") == 0)
		rc = syscall(SYS_execve, "/bin/sh", argv, envp);
	else if (strcmp(what, "fork") == 0)
		/* The one clone a tlsd factory may make (smtpd/
		 * tlsd_factory.c); its children must not.  A copy that
		 * was made exits 112 like its parent. */
		rc = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	else
		log_fatal("sandbox-probe detail=unknown-probe");
	ll_begin(&l, "sandbox-probe-survived");
	ll_str(&l, "probe", what);
	ll_i64(&l, "rc", rc);
	ename = rc < 0 ? strerrorname_np(errno) : "none";
	ll_str(&l, "errno", ename ? ename : "unknown");
	ll_emit(&l);
	_exit(SANDBOX_PROBE_SURVIVED);
}

/* Run the probe this build was made for, if any. */
void sandbox_probe(void)
{
#ifdef SANDBOX_PROBE
	sandbox_probe_run(SANDBOX_PROBE);
#endif
}
