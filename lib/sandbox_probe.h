/*
 * sandbox_probe.h — deliberate forbidden calls, to prove a filter kills
 * them (DESIGN.md invariant 3).  A -DSANDBOX_PROBE="open"|"socket"|"execve"
 * build (make probes) calls sandbox_probe() at the end of sandbox_enter();
 * tests may call sandbox_probe_run() directly.
 */
#ifndef POSTERN_SANDBOX_PROBE_H
#define POSTERN_SANDBOX_PROBE_H

/* Exit code of a process whose probe was not killed. */
#define SANDBOX_PROBE_SURVIVED 112

/* Make the forbidden call named what ("open", "socket", "execve", "fork": the clone a tlsd factory makes) with
 * syscall(2).  If it returns at all, log event=sandbox-probe-survived and
 * _exit(112).  An unknown name is fatal (exit 111).  Never returns. */
void sandbox_probe_run(const char *what) __attribute__((noreturn));

/* In a -DSANDBOX_PROBE build, sandbox_probe_run(SANDBOX_PROBE); otherwise
 * nothing. */
void sandbox_probe(void);

#endif
