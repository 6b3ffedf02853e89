/*
 * sandbox_test.h — helpers shared by tests/unit/test_sandbox*.c: run a
 * function in a forked child that enters a sandbox, collect how it ended,
 * what it reported on a pipe and what it logged on fd 2.
 *
 * The child sets alarm(20) before anything else, so a child that hangs
 * dies of SIGALRM and the test fails instead of blocking CI.  As root the
 * sandbox is a fresh empty directory under /tmp and uid/gid 65534
 * (nobody/nogroup); otherwise (development) the invoking ids, and the
 * root-only parts skip.
 */
#ifndef POSTERN_SANDBOX_TEST_H
#define POSTERN_SANDBOX_TEST_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define NOBODY 65534

struct child_run {
	int status;		/* from waitpid */
	char out[4096];		/* what the child wrote to its report fd */
	size_t outlen;
	char err[8192];		/* what it wrote to fd 2 */
	size_t errlen;
};

/* Body of a child: writes results to report_fd; returning means exit 0. */
typedef void (*child_body)(int report_fd);

static char sbt_root[64];	/* the empty chroot directory */

/* The spec every test starts from: role "test", the empty directory, the
 * unprivileged ids, and the caller's rules. */
static inline struct sandbox_spec sbt_spec(const struct sandbox_rule *rules,
					   size_t n)
{
	struct sandbox_spec s;

	s.role = "test";
	s.root = sbt_root;
	s.uid = geteuid() == 0 ? NOBODY : getuid();
	s.gid = geteuid() == 0 ? NOBODY : getgid();
	s.rules = rules;
	s.nrules = n;
	return s;
}

/* Read fd to EOF into buf (cap bytes at most); returns the length. */
static inline size_t sbt_drain(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;
		char sink[256];

		if (len < cap)
			n = read(fd, buf + len, cap - len);
		else
			n = read(fd, sink, sizeof sink);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < cap)
			len += (size_t)n;
	}
	return len;
}

/* Fork, run body in the child with fd 2 and a report fd on pipes, wait. */
static inline void sbt_run(child_body body, struct child_run *r)
{
	int rep[2], err[2];
	pid_t pid;

	memset(r, 0, sizeof *r);
	if (pipe(rep) != 0 || pipe(err) != 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		alarm(20);
		close(rep[0]);
		close(err[0]);
		if (dup2(err[1], 2) != 2)
			_exit(120);
		close(err[1]);
		body(rep[1]);
		_exit(0);
	}
	close(rep[1]);
	close(err[1]);
	r->outlen = sbt_drain(rep[0], r->out, sizeof r->out - 1);
	r->errlen = sbt_drain(err[0], r->err, sizeof r->err - 1);
	close(rep[0]);
	close(err[0]);
	while (waitpid(pid, &r->status, 0) < 0)
		if (errno != EINTR)
			abort();
}

/* True if the child was killed by signal sig. */
static inline int sbt_killed_by(const struct child_run *r, int sig)
{
	return WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig;
}

/* True if the child exited with code. */
static inline int sbt_exited(const struct child_run *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

/* Group set-up: the empty chroot directory, reachable by nobody. */
static inline int sbt_setup(void **state)
{
	(void)state;
	memcpy(sbt_root, "/tmp/postern-sandbox-XXXXXX",
	       sizeof "/tmp/postern-sandbox-XXXXXX");
	if (mkdtemp(sbt_root) == NULL || chmod(sbt_root, 0755) != 0)
		return -1;
	return 0;
}

/* Group tear-down: remove the directory. */
static inline int sbt_teardown(void **state)
{
	(void)state;
	return rmdir(sbt_root);
}

#endif
