/*
 * childend.c — relaying a reaped child's last log lines and logging its
 * end (childend.h).  Shared by the daemons' and the workers' supervision
 * so both report deaths, and sandbox violations, the same way.
 *
 * Process: postern (master).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childend.h"
#include "log.h"
#include "master.h"

/* Relay the rest of the pipe and close it. */
void childend_drain_log(struct master *m, struct logrelay *r, int *fd,
                        const char *key, uint64_t budget)
{
	uint64_t now_s = now_ms() / 1000;

	if (*fd < 0)
		return;
	logrelay_read(r, *fd, key, m->conf->log_lines_per_second * 4, now_s, budget);
	logrelay_finish(r, key, m->conf->log_lines_per_second * 4, now_s);
	close(*fd);
	*fd = -1;
}

/* Log how the child ended. */
void childend_log(const char *event, const char *role, pid_t pid, int status,
                  uint64_t ran_ms)
{
	struct logline l;
	char buf[32];

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		ll_begin(&l, "sandbox-violation");
		ll_str(&l, "role", role);
		ll_str(&l, "signal", "SIGSYS");
		ll_i64(&l, "pid", pid);
		ll_emit(&l);
	}
	ll_begin(&l, event);
	ll_str(&l, "role", role);
	ll_i64(&l, "pid", pid);
	if (WIFEXITED(status)) {
		snprintf(buf, sizeof(buf), "exit:%d", WEXITSTATUS(status));
		ll_str(&l, "status", buf);
	} else {
		const char *ab = sigabbrev_np(WTERMSIG(status));

		snprintf(buf, sizeof(buf), "SIG%s", ab ? ab : "?");
		ll_str(&l, "signal", buf);
	}
	ll_u64(&l, "ran_ms", ran_ms);
	ll_emit(&l);
}
