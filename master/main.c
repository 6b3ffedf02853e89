/*
 * main.c — postern, the master: `postern -c DIR [-t]`.
 *
 * Reads DIR/postern.conf (conf.c), resolves the role users (roles.c),
 * checks the chroot and the programs, binds the listeners (listen.c) and
 * runs the poll loop (loop.c) that spawns one postern-smtpd per connection
 * (session.c) and relays its log (logrelay.c).  Runs in the foreground,
 * logs key=value lines to stderr, never daemonises.  With -t it checks the
 * configuration (and, as root, the users and paths) and exits.
 *
 * Process: postern (master), started by root (or, for development, by any
 * user: then every child runs as that user without chroot, and one warning
 * says so).  Descriptors: 0..2 as inherited (made valid first).
 * Exit status: 0 after a clean shutdown or a good -t; 1 for a bad command
 * line or configuration (permanent: a supervisor should not retry); 111
 * for a temporary failure (a port in use, out of resources).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "authd.h"
#include "conf.h"
#include "daemon.h"
#include "queued.h"
#include "config.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "maildirs.h"
#include "master.h"
#include "roles.h"
#include "signals.h"
#include "tlsfiles.h"

static struct master_conf conf_current, conf_scratch;

/* Usage error: exit 1. */
static void __attribute__((noreturn)) usage(void)
{
	static const char msg[] = "usage: postern -c DIR [-t]\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	exit(1);
}

/* A configuration error "FILE:LINE: reason" on stderr, plainly (the
 * operator reads it at a terminal); control bytes are escaped.  Exit 1. */
static void __attribute__((noreturn)) config_error(const char *err)
{
	char line[LOG_LINE_MAX];
	int cut;
	size_t n = (size_t)snprintf(line, sizeof(line), "postern: ");

	n += logrelay_escape(line + n, sizeof(line) - n - 1, err, strlen(err), &cut);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
	exit(1);
}

/* Make sure fds 0..2 are open, so nothing we open lands on them and a
 * log line can never go into a client's socket. */
static void fix_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			_exit(111);
	}
}

/* Parse -c DIR and -t; DIR is made absolute. */
static void parse_args(int argc, char **argv, char dir[CONF_PATH_MAX], int *test)
{
	const char *given = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "c:t")) != -1) {
		switch (opt) {
		case 'c': given = optarg; break;
		case 't': *test = 1; break;
		default: usage();
		}
	}
	if (given == NULL || optind != argc)
		usage();
	if (realpath(given, dir) == NULL) {
		char err[CONF_PATH_MAX + 64];

		snprintf(err, sizeof(err), "%s: %s", given, strerror(errno));
		config_error(err);
	}
}

/* Load and check everything; exits 1 on any problem. */
static void load(struct master *m, const char *dir)
{
	char err[CONF_ERR_MAX + 2 * CONF_PATH_MAX];

	if (conf_load(dir, m->conf, err, sizeof(err)) != 0 ||
	    roles_resolve(m->conf, &m->ids, err, sizeof(err)) != 0 ||
	    roles_check_paths(m->conf, m->ids.root, err, sizeof(err)) != 0 ||
	    roles_open_programs(m, err, sizeof(err)) != 0)
		config_error(err);
	authd_register(m);
	queued_register(m);
	if (daemons_open_programs(m, err, sizeof(err)) != 0)
		config_error(err);
	workers_init(m);
	tlsfactory_init(m);
	if (workers_open_programs(m, err, sizeof(err)) != 0)
		config_error(err);
}

/* No core file and no ptrace by other processes of our uid: the master
 * holds the auth MAC key and the TLS ticket keys (DESIGN invariant 5), and
 * a crash must not write them to disk.  Children get dumpable back at
 * execve and set it off again in sandbox_enter; RLIMIT_CORE 0 they inherit. */
static void no_core_dumps(void)
{
	struct rlimit zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_fatal("reason=no-core-dumps error=%s", strerrorname_np(errno));
}

/* Everything the loop needs: randomness, /dev/null, signals, sockets. */
static void prepare(struct master *m)
{
	no_core_dumps();
	if (sodium_init() < 0)
		log_fatal("reason=sodium_init");
	m->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (m->devnull < 0)
		log_fatal("reason=open-devnull error=%s", strerrorname_np(errno));
	if (sessions_init(&m->sessions) != 0)
		log_fatal("reason=out-of-memory");
	m->sigfd = signals_setup();
	if (!m->ids.root)
		log_event("warning", "reason=not-root uid=%u gid=%u chroot=no "
		          "detail=everything-runs-as-uid-%u-without-chroot",
		          (unsigned)m->ids.uid[ROLE_SMTPD], (unsigned)m->ids.gid[ROLE_SMTPD],
		          (unsigned)m->ids.uid[ROLE_SMTPD]);
	listen_open_all(m);
	/* The auth MAC key: generated here, handed only to authd and queued
	 * (DESIGN invariant 5); never in argv. */
	randombytes_buf(m->auth_key, sizeof(m->auth_key));
	tables_init(&m->tables);
	(void)tables_refresh(&m->tables, m->conf->dir, m->ids.root, 1);
	maildirs_routes_changed(m);
	ticketkeys_init(&m->tickets);
}

/* postern -c DIR [-t]: load, check, then serve until SIGTERM. */
int main(int argc, char **argv)
{
	static struct master m;
	char dir[CONF_PATH_MAX];
	int test = 0;

	fix_std_fds();
	log_init("postern");
	parse_args(argc, argv, dir, &test);
	m.conf = &conf_current;
	load(&m, dir);
	if (test) {
		log_event("config-ok", "listeners=%u", m.conf->nlisten);
		return 0;
	}
	prepare(&m);
	log_event("start", "listeners=%u connections_max=%llu pid=%ld",
	          m.conf->nlisten, (unsigned long long)m.conf->connections_max,
	          (long)getpid());
	(void)tlsfiles_check(&m);
	daemons_start_all(&m);
	return loop_run(&m, &conf_scratch);
}
