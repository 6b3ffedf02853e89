/*
 * child.h — the last steps of every process the master starts, in the
 * forked child: default signals, a new session, exactly the documented
 * descriptors on 0..n-1 (everything else close-on-exec), then execveat of
 * the program opened and checked at start (progfd.h).  Any failure writes
 * one "event=spawn-failed" line on fd 2 and _exit(127); the master logs the
 * exit like any other.
 */
#ifndef POSTERN_MASTER_CHILD_H
#define POSTERN_MASTER_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* Most descriptors a child is given (a daemon's four plus extras). */
#define CHILD_FD_MAX 16

/* Become the program of progfd with src[i] on fd i for i < n; role names
 * the child in a failure line.  Never returns. */
void child_exec(const char *role, const int *src, size_t n, int progfd,
                char *const argv[]) __attribute__((noreturn));

/* vfork(2), then child_exec in the child: the child borrows the master's
 * memory until its execveat instead of copying its page tables, and the
 * master is suspended meanwhile.  For the per-connection processes (two
 * per session on TLS listeners), where fork's copy and the master's
 * copy-on-write faults after it were the master's largest cost.  The
 * child only reads the master's memory (src, argv) and writes its own
 * stack; the master installs no signal handlers (signalfd), so none can
 * run in the child.  The child's pid, or -1 with errno set. */
pid_t child_spawn(const char *role, const int *src, size_t n, int progfd,
                  char *const argv[]);

#endif
