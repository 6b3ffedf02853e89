/*
 * childend.h — what the master does when one of its long-running children
 * (a daemon of daemon.c, a delivery worker of workers.c) has been reaped:
 * relay the rest of its log pipe, then log how it ended.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_CHILDEND_H
#define POSTERN_MASTER_CHILDEND_H

#include <stdint.h>
#include <sys/types.h>

#include "logrelay.h"

struct master;

/* Relay what is left in the log pipe *fd (prefix key) and close it;
 * *fd becomes -1.  Nothing when *fd is already -1. */
void childend_drain_log(struct master *m, struct logrelay *r, int *fd,
                        const char *key, uint64_t budget);

/* One line `event` (e.g. "daemon-exit") with role, pid, the exit status
 * or signal, and ran_ms; a SIGSYS death is logged first as
 * event=sandbox-violation, the line the tests and operators look for. */
void childend_log(const char *event, const char *role, pid_t pid, int status,
                  uint64_t ran_ms);

#endif
