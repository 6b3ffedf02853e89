/*
 * sandbox.h — the one way every postern role enters its sandbox.
 *
 * A role does its privileged set-up (open descriptors, load keys, tzset,
 * library initialisation) and then calls sandbox_enter(), which in order:
 * asserts the process is single-threaded; chroots to spec->root (skipped,
 * like the uid change, when not started as root); drops to spec->uid/gid
 * with no supplementary groups and verifies the drop; sets
 * PR_SET_PDEATHSIG SIGKILL (again after the drop, which clears it) and
 * exits if the parent it was started by is already gone, so no role
 * outlives the master; sets PR_SET_DUMPABLE 0 and RLIMIT_CORE 0; sets no_new_privs; loads the role's
 * libseccomp allow-list with SCMP_ACT_KILL_PROCESS as default and TSYNC.
 * Any failure writes one log line and exits 111: there is no path that
 * carries on unsandboxed.
 *
 * A build with -DSANDBOX_DEBUG traps instead of killing and logs the name of
 * the forbidden syscall.  A build with -DSANDBOX_PROBE="open" (or "socket",
 * "execve") tries that call right after the filter is loaded, so tests can
 * see each role's filter kill it (lib/sandbox_probe.c).
 */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/types.h>

enum sandbox_action {
	SB_ALLOW,	/* the syscall runs */
	SB_ERRNO,	/* a harmless probe: fails with .err, nothing else */
};

/* One line of a role's allow-list.  nargs argument comparisons (at most 3)
 * must all hold for the rule to match; a call that matches no rule is
 * killed. */
struct sandbox_rule {
	int syscall;			/* SCMP_SYS(name) */
	enum sandbox_action action;
	int err;			/* errno for SB_ERRNO */
	unsigned nargs;
	struct scmp_arg_cmp args[3];
};

#define SB_RULE(name) { SCMP_SYS(name), SB_ALLOW, 0, 0, {{0}} }
#define SB_RULE_ARG1(name, a) { SCMP_SYS(name), SB_ALLOW, 0, 1, { a } }
#define SB_RULE_ARG2(name, a, b) { SCMP_SYS(name), SB_ALLOW, 0, 2, { a, b } }
#define SB_RULE_ARG3(name, a, b, c) { SCMP_SYS(name), SB_ALLOW, 0, 3, { a, b, c } }
#define SB_PROBE(name, e) { SCMP_SYS(name), SB_ERRNO, (e), 0, {{0}} }
#define SB_PROBE_ARG1(name, e, a) { SCMP_SYS(name), SB_ERRNO, (e), 1, { a } }

/* Entries in a rule table: .nrules = SB_NRULES(smtpd_rules). */
#define SB_NRULES(table) (sizeof(table) / sizeof((table)[0]))

struct sandbox_spec {
	const char *role;		/* for log lines */
	const char *root;		/* chroot directory (must exist) */
	uid_t uid;			/* numeric, resolved by the master */
	gid_t gid;
	const struct sandbox_rule *rules;
	size_t nrules;
};

/* Enter the sandbox described by spec; returns only on success. */
void sandbox_enter(const struct sandbox_spec *spec);

/* A seccomp program built now and installed later: up to the kernel's
 * BPF_MAXINSNS instructions (32 KiB). */
struct sandbox_prog {
	unsigned short len;		/* instructions */
	struct sock_filter insns[BPF_MAXINSNS];
};

/* Build spec's allow-list (sandbox_common_rules, then spec->rules, default
 * kill) into out without installing it; only spec->role and the rules are
 * used.  Needs memfd_create, so it is done before sandbox_enter.  Fatal on
 * any error. */
void sandbox_build(const struct sandbox_spec *spec, struct sandbox_prog *out);

/* sandbox_enter() without the probe of a -DSANDBOX_PROBE build, for a
 * process that forks per-connection children (postern-tlsd's factory):
 * its children run the probe in sandbox_add_prepared, after their own
 * filter. */
void sandbox_enter_factory(const struct sandbox_spec *spec);

/* In a forked child of a sandboxed process: stack the prepared program p
 * on the inherited filters (the child's syscalls must pass both), then
 * run the probe of a -DSANDBOX_PROBE build.  Needs no_new_privs (already
 * set by sandbox_enter) and the seccomp syscall in the inherited filter.
 * Fatal (log line, exit 111) if it cannot be installed. */
void sandbox_add_prepared(const struct sandbox_prog *p, const char *role);

/* For a child of the master between fork and execve: PR_SET_PDEATHSIG
 * SIGKILL (kept across the execve of a program that is not set-id), then
 * getppid() must still be parent (the master's pid, read before fork), so
 * a master killed during the role's set-up before sandbox_enter takes the
 * role with it.  0, or -1 with errno (ESRCH: the master is already gone):
 * the caller _exits. */
int sandbox_die_with_parent(pid_t parent);

/* Rules every role needs to leave and to log: write, exit_group, and the
 * sanitizer runtime's needs in -DPOSTERN_SANITIZER builds.  sandbox_enter
 * adds them itself. */
extern const struct sandbox_rule sandbox_common_rules[];
extern const size_t sandbox_common_nrules;

#endif
