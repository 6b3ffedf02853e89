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

/* Most descriptors a child is given (a daemon's four plus extras). */
#define CHILD_FD_MAX 16

/* Become the program of progfd with src[i] on fd i for i < n; role names
 * the child in a failure line.  Never returns. */
void child_exec(const char *role, const int *src, size_t n, int progfd,
                char *const argv[]) __attribute__((noreturn));

#endif
