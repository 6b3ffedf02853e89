/*
 * sandbox.c — sandbox_enter(): the one way every postern role confines
 * itself (DESIGN.md section 1, invariant 3).  Runs in every sandboxed
 * process, once, after its privileged set-up and before it reads anything
 * untrusted.  Uses no descriptors of the caller; it opens /proc/self/status
 * and a memfd briefly and closes both before the filter is loaded.
 *
 * The checklist, in this order, every failure fatal (log_fatal: one line,
 * exit 111; there is no path that carries on unsandboxed):
 *   1. the process is single-threaded (/proc/self/status "Threads:"), so
 *      no thread escapes the uid change or the filter;
 *   2. as root: chroot(spec->root) and chdir("/"); setgroups(0),
 *      setresgid, setresuid to the role's numeric ids; then verify with
 *      getresuid/getresgid/getgroups/capget that every id is the target,
 *      no group and no capability is left, and setuid(0)/setgid(0) fail.
 *      uid 0 and gid 0 are refused as targets.
 *      Not root (development mode): chroot and the drop are skipped (the
 *      master runs every role under the invoking uid and logs one
 *      warning); a process whose real, effective or saved uid is still 0
 *      is refused, and when spec->uid is the real uid every uid and gid
 *      must equal the spec's;
 *   3. PR_SET_PDEATHSIG SIGKILL, set again after the drop (the kernel
 *      clears it whenever the euid or egid changes), then getppid()
 *      compared with the parent recorded on entry: a role must not
 *      outlive the master (a SIGKILLed master would otherwise leave
 *      authd, queued, workers and sessions running under pid 1), and a
 *      master that died before the signal was armed means exit now.
 *      Set before the filter, so the filter need not allow prctl;
 *   4. PR_SET_DUMPABLE 0 and RLIMIT_CORE 0: a seccomp kill must not write
 *      keys into a core file, and nobody may ptrace the role;
 *   5. PR_SET_NO_NEW_PRIVS 1, verified;
 *   6. the libseccomp filter: default SCMP_ACT_KILL_PROCESS (SCMP_ACT_TRAP
 *      plus a SIGSYS handler that logs the syscall's name in a
 *      -DSANDBOX_DEBUG build), sandbox_common_rules, then the role's
 *      rules; loaded with SECCOMP_FILTER_FLAG_TSYNC so threads started
 *      later are filtered too;
 *   7. in a -DSANDBOX_PROBE="open"|"socket"|"execve" build,
 *      sandbox_probe() (lib/sandbox_probe.c) tries that forbidden call.
 *
 * Why the filter is exported and loaded by hand instead of seccomp_load():
 * seccomp_load() and seccomp_release() free libseccomp's buffers after the
 * filter is active, and glibc's free() may then trim the heap (brk) or
 * unmap a large chunk (munmap), which a minimal allow-list kills.  So the
 * BPF program libseccomp generates is exported to a memfd, read back into
 * a static buffer, the context released, and only then is the program
 * installed with seccomp(2): nothing runs between the install and the
 * return to the role but a few stores.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef POSTERN_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

#include "decimal.h"
#include "log.h"
#include "sandbox.h"
#include "sandbox_probe.h"

#define STATUS_MAX 16384	/* /proc/self/status is about 1.5 KiB */

/* Name of errno e for a log line ("ENOENT"), never NULL. */
static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "unknown";
}

/* Read all of /proc/self/status into buf (NUL-terminated); fatal if not. */
static void read_status(char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		log_fatal("sandbox-status errno=%s", errname(errno));
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_fatal("sandbox-status errno=%s", errname(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len + 1 >= cap)
		log_fatal("sandbox-status too-long=1");
	buf[len] = '\0';
}

/* Step 1: refuse to go on unless this is the only thread.  A thread that
 * exists now would keep the old uids (the kernel changes them per thread;
 * glibc's broadcast is no guarantee for a thread in the middle of a call). */
static void assert_single_threaded(void)
{
	static char status[STATUS_MAX];
	const char *p;
	char *end;
	unsigned long n;

	read_status(status, sizeof status);
	p = strstr(status, "\nThreads:");
	if (p == NULL)
		log_fatal("sandbox-threads detail=no-threads-line");
	p += strlen("\nThreads:");
	errno = 0;
	n = strtoul(p, &end, 10);
	if (errno != 0 || end == p || *end != '\n')
		log_fatal("sandbox-threads detail=unparsable");
	if (n != 1)
		log_fatal("sandbox-threads threads=%lu", n);
}

/* True if the process holds no capability at all (permitted, effective,
 * inheritable), checked with capget(2) so no libcap is needed. */
static int has_no_capabilities(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	size_t i;

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return 0;
	return 1;
}

/* True if real, effective and saved uid and gid all equal uid/gid. */
static int ids_are(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return 0;
	return ru == uid && eu == uid && su == uid &&
	       rg == gid && eg == gid && sg == gid;
}

/* Verify the drop of step 2 from the kernel's point of view. */
static void verify_dropped(const struct sandbox_spec *spec)
{
	if (!ids_are(spec->uid, spec->gid))
		log_fatal("sandbox-verify role=%s detail=ids", spec->role);
	if (getgroups(0, NULL) != 0)
		log_fatal("sandbox-verify role=%s detail=groups", spec->role);
	if (!has_no_capabilities())
		log_fatal("sandbox-verify role=%s detail=capabilities",
			  spec->role);
	/* Raw syscalls: glibc's wrappers broadcast to threads, and we want
	 * the kernel's answer for this thread. */
	if (syscall(SYS_setuid, 0) == 0 || syscall(SYS_setgid, 0) == 0)
		log_fatal("sandbox-verify role=%s detail=regained-root",
			  spec->role);
}

/* Step 2 as root: chroot, then drop groups, gid, uid (in that order: a
 * process that has dropped its uid can no longer drop its groups). */
static void chroot_and_drop(const struct sandbox_spec *spec)
{
	if (chroot(spec->root) != 0)
		log_fatal("sandbox-chroot role=%s dir=%s errno=%s", spec->role,
			  spec->root, errname(errno));
	if (chdir("/") != 0)
		log_fatal("sandbox-chdir role=%s errno=%s", spec->role,
			  errname(errno));
	if (setgroups(0, NULL) != 0)
		log_fatal("sandbox-setgroups role=%s errno=%s", spec->role,
			  errname(errno));
	if (setresgid(spec->gid, spec->gid, spec->gid) != 0)
		log_fatal("sandbox-setresgid role=%s errno=%s", spec->role,
			  errname(errno));
	if (setresuid(spec->uid, spec->uid, spec->uid) != 0)
		log_fatal("sandbox-setresuid role=%s errno=%s", spec->role,
			  errname(errno));
	verify_dropped(spec);
}

/* Step 2 without root (development mode): nothing to drop, but a
 * half-dropped root (saved uid 0) must not carry on, and when the spec
 * names our own uid the ids must be exactly the spec's. */
static void check_unprivileged(const struct sandbox_spec *spec)
{
	uid_t ru, eu, su;

	if (getresuid(&ru, &eu, &su) != 0 || ru == 0 || eu == 0 || su == 0)
		log_fatal("sandbox-dev role=%s detail=uid-0-left", spec->role);
	if (spec->uid == ru && !ids_are(spec->uid, spec->gid))
		log_fatal("sandbox-dev role=%s detail=ids", spec->role);
}

/* Step 3: die with the parent.  Called on entry and again after the
 * drop (which cleared it).  parent is getppid() on entry: a different
 * answer now means the parent is gone (re-parented to init or a
 * subreaper) and the signal will never come. */
static void die_with_parent(const struct sandbox_spec *spec, pid_t parent)
{
	int sig = 0;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
	    prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) != 0)
		log_fatal("sandbox-pdeathsig role=%s errno=%s", spec->role,
			  errname(errno));
	if (sig != SIGKILL)
		log_fatal("sandbox-pdeathsig role=%s detail=not-set", spec->role);
	if (getppid() != parent)
		log_fatal("sandbox-parent-gone role=%s parent=%ld", spec->role,
			  (long)parent);
}

/* Step 4: no core file, no ptrace attach, no /proc/PID/mem for peers. */
static void forbid_core_dumps(const struct sandbox_spec *spec)
{
	const struct rlimit zero = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_fatal("sandbox-dumpable role=%s errno=%s", spec->role,
			  errname(errno));
	if (setrlimit(RLIMIT_CORE, &zero) != 0)
		log_fatal("sandbox-rlimit-core role=%s errno=%s", spec->role,
			  errname(errno));
}

/* Step 5: execve can never again grant privileges (and seccomp requires
 * it of an unprivileged process). */
static void set_no_new_privs(const struct sandbox_spec *spec)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		log_fatal("sandbox-no-new-privs role=%s errno=%s", spec->role,
			  errname(errno));
}

#ifdef SANDBOX_DEBUG
/* Debug builds: trap instead of kill, and name the syscall.  The names
 * are resolved before the filter is loaded: the handler may not allocate,
 * and libseccomp's resolver does. */
#define TRAP_NAMES 512
#define TRAP_NAME_MAX 32
static char trap_names[TRAP_NAMES][TRAP_NAME_MAX];
static struct logline trap_prefix;	/* "prog: event=sandbox-violation role=X" */

/* Append s to buf[*len..cap), cut at cap; async-signal-safe. */
static void trap_append(char *buf, size_t *len, size_t cap, const char *s)
{
	while (*s && *len < cap)
		buf[(*len)++] = *s++;
}

/* SIGSYS handler: one log line naming the syscall, then exit 111. */
static void trap_handler(int sig, siginfo_t *si, void *uc)
{
	char line[LOG_LINE_MAX];
	char num[U64_DEC_MAX + 1];
	size_t len = trap_prefix.len;
	unsigned nr = (unsigned)si->si_syscall;

	(void)sig;
	(void)uc;
	memcpy(line, trap_prefix.buf, len);
	trap_append(line, &len, sizeof line - 1, " syscall=");
	trap_append(line, &len, sizeof line - 1,
		    nr < TRAP_NAMES && trap_names[nr][0] ? trap_names[nr] : "?");
	num[u64_to_dec(num, U64_DEC_MAX, nr)] = '\0';
	trap_append(line, &len, sizeof line - 1, " nr=");
	trap_append(line, &len, sizeof line - 1, num);
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0) {
		/* nothing left to report it to */
	}
	_exit(111);
}

/* Resolve the name table and install the SIGSYS handler. */
static void install_trap(const struct sandbox_spec *spec)
{
	struct sigaction sa;
	sigset_t set;
	int nr;

	for (nr = 0; nr < TRAP_NAMES; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(
			SCMP_ARCH_NATIVE, nr);

		if (name) {
			size_t l = strnlen(name, TRAP_NAME_MAX - 1);

			memcpy(trap_names[nr], name, l);
			trap_names[nr][l] = '\0';
			free(name);
		}
	}
	ll_begin(&trap_prefix, "sandbox-violation");
	ll_str(&trap_prefix, "role", spec->role);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = trap_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigaction(SIGSYS, &sa, NULL) != 0 ||
	    sigprocmask(SIG_UNBLOCK, &set, NULL) != 0)
		log_fatal("sandbox-sigsys role=%s errno=%s", spec->role,
			  errname(errno));
}
#define SANDBOX_DEFAULT_ACTION SCMP_ACT_TRAP
#else
#define SANDBOX_DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

/* Add one table of rules to ctx; fatal on a malformed rule or one
 * libseccomp refuses (unknown syscall, conflicting actions). */
static void add_rules(scmp_filter_ctx ctx, const struct sandbox_spec *spec,
		      const struct sandbox_rule *rules, size_t n)
{
	size_t i;

	if (n > 0 && rules == NULL)
		log_fatal("sandbox-rules role=%s detail=null-table", spec->role);
	for (i = 0; i < n; i++) {
		const struct sandbox_rule *r = &rules[i];
		uint32_t action;
		int rc;

		if (r->nargs > 3)
			log_fatal("sandbox-rules role=%s rule=%zu detail=nargs",
				  spec->role, i);
		if (r->action == SB_ALLOW)
			action = SCMP_ACT_ALLOW;
		else if (r->action == SB_ERRNO && r->err > 0 && r->err < 4096)
			action = SCMP_ACT_ERRNO((uint32_t)r->err);
		else
			log_fatal("sandbox-rules role=%s rule=%zu detail=action",
				  spec->role, i);
		rc = seccomp_rule_add_array(ctx, action, r->syscall, r->nargs,
					    r->args);
		if (rc != 0)
			log_fatal("sandbox-rules role=%s rule=%zu syscall=%d "
				  "errno=%s", spec->role, i, r->syscall,
				  errname(-rc));
	}
}

/* Rule k of the common rules followed by the role's. */
static const struct sandbox_rule *rule_at(const struct sandbox_spec *spec,
					  size_t k)
{
	return k < sandbox_common_nrules ? &sandbox_common_rules[k]
		: &spec->rules[k - sandbox_common_nrules];
}

/* libseccomp lets an unconditional rule silently override every
 * conditional rule of the same syscall, whatever their actions (an
 * "allow socket(AF_INET)" next to "socket -> EACCES" becomes "always
 * EACCES"), and accepts a role's rule contradicting a common one.  So one
 * syscall may carry different actions only if all its rules have argument
 * comparisons; anything else is a mistake in a table, and fatal. */
static void check_consistent(const struct sandbox_spec *spec)
{
	size_t n = sandbox_common_nrules + spec->nrules, i, j;

	for (i = 0; i < n; i++) {
		const struct sandbox_rule *a = rule_at(spec, i);

		for (j = i + 1; j < n; j++) {
			const struct sandbox_rule *b = rule_at(spec, j);

			if (a->syscall != b->syscall ||
			    (a->action == b->action && a->err == b->err) ||
			    (a->nargs > 0 && b->nargs > 0))
				continue;
			log_fatal("sandbox-rules role=%s syscall=%d "
				  "detail=mixed-actions", spec->role,
				  a->syscall);
		}
	}
}

/* The role's own program, kept outside the stack. */
static struct sandbox_prog own_prog;

/* Export ctx's BPF program into out. */
static void export_filter(scmp_filter_ctx ctx, const struct sandbox_spec *spec,
			  struct sandbox_prog *out)
{
	size_t len = 0;
	int rc;
	int fd = memfd_create("postern-seccomp", MFD_CLOEXEC);

	if (fd < 0)
		log_fatal("sandbox-memfd role=%s errno=%s", spec->role,
			  errname(errno));
	rc = seccomp_export_bpf(ctx, fd);
	if (rc != 0)
		log_fatal("sandbox-export role=%s errno=%s", spec->role,
			  errname(-rc));
	if (lseek(fd, 0, SEEK_SET) != 0)
		log_fatal("sandbox-export role=%s errno=%s", spec->role,
			  errname(errno));
	for (;;) {
		ssize_t n = read(fd, (char *)out->insns + len,
				 sizeof out->insns - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_fatal("sandbox-export role=%s errno=%s", spec->role,
				  errname(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof out->insns) {
			char extra;

			if (read(fd, &extra, 1) != 0)
				log_fatal("sandbox-export role=%s "
					  "detail=too-long", spec->role);
			break;
		}
	}
	close(fd);
	if (len == 0 || len % sizeof out->insns[0] != 0)
		log_fatal("sandbox-export role=%s detail=bad-length", spec->role);
	out->len = (unsigned short)(len / sizeof out->insns[0]);
}

/* Build spec's allow-list with libseccomp into out (see sandbox.h). */
void sandbox_build(const struct sandbox_spec *spec, struct sandbox_prog *out)
{
	scmp_filter_ctx ctx = seccomp_init(SANDBOX_DEFAULT_ACTION);

	if (ctx == NULL)
		log_fatal("sandbox-seccomp-init role=%s", spec->role);
	/* A syscall made through another ABI (int 0x80, x32) is killed, not
	 * merely the thread. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS) != 0)
		log_fatal("sandbox-seccomp-attr role=%s", spec->role);
	add_rules(ctx, spec, sandbox_common_rules, sandbox_common_nrules);
	add_rules(ctx, spec, spec->rules, spec->nrules);
	check_consistent(spec);
	export_filter(ctx, spec, out);
	seccomp_release(ctx);
}

/* Install p on this thread, or on every thread (TSYNC); fatal if not. */
static void install(const struct sandbox_prog *p, const char *role, unsigned flags)
{
	struct sock_fprog prog;
	long rc;

	prog.len = p->len;
	prog.filter = (struct sock_filter *)p->insns;
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (rc != 0)	/* > 0: the id of a thread that could not sync */
		log_fatal("sandbox-seccomp-load role=%s rc=%ld errno=%s",
			  role, rc, rc < 0 ? errname(errno) : "none");
}

/* Step 6: build the allow-list with libseccomp, then install it on every
 * thread (TSYNC; there is only one, but pools started later inherit it). */
static void load_filter(const struct sandbox_spec *spec)
{
	sandbox_build(spec, &own_prog);
#ifdef SANDBOX_DEBUG
	install_trap(spec);
#endif
	install(&own_prog, spec->role, SECCOMP_FILTER_FLAG_TSYNC);
}

/* A prepared filter on top of the inherited ones (see sandbox.h). */
void sandbox_add_prepared(const struct sandbox_prog *p, const char *role)
{
	/* Without no_new_privs the kernel refuses the filter (EACCES), so
	 * install() fails closed on that too.  No TSYNC: the caller is the
	 * single thread of a fresh fork. */
	if (p == NULL || p->len == 0)
		log_fatal("sandbox-prepared role=%s detail=empty", role);
	install(p, role, 0);
#ifdef SANDBOX_PROBE
	sandbox_probe();
#endif
}

/* Between fork and execve (see sandbox.h). */
int sandbox_die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		return -1;
	if (getppid() != parent) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* Steps 1-6 (see the header comment). */
static void enter(const struct sandbox_spec *spec)
{
	pid_t parent = getppid();

	if (spec == NULL || spec->role == NULL || spec->root == NULL ||
	    spec->root[0] == '\0')
		log_fatal("sandbox-spec detail=incomplete");
	if (spec->uid == 0 || spec->gid == 0)
		log_fatal("sandbox-spec role=%s detail=target-is-root",
			  spec->role);
	assert_single_threaded();
	die_with_parent(spec, parent);
#ifdef POSTERN_SANITIZER
	/* While /proc is still reachable, let the ASan/UBSan runtime cache
	 * the memory map (its documented hook for sandboxes).  A report from
	 * inside the sandbox still ends in SIGSYS when the runtime opens
	 * /proc/self/cmdline: see lib/sandbox_common.c. */
	__sanitizer_sandbox_on_notify(NULL);
#endif
	if (geteuid() == 0)
		chroot_and_drop(spec);
	else
		check_unprivileged(spec);
	die_with_parent(spec, parent);
	forbid_core_dumps(spec);
	set_no_new_privs(spec);
	load_filter(spec);
}

/* Enter the sandbox described by spec; returns only on success. */
void sandbox_enter(const struct sandbox_spec *spec)
{
	enter(spec);
#ifdef SANDBOX_PROBE
	sandbox_probe();
#endif
}

/* A factory's sandbox: the probe waits for its children (see sandbox.h). */
void sandbox_enter_factory(const struct sandbox_spec *spec)
{
	enter(spec);
}
