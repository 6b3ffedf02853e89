/*
 * master.h — the state of the running master, shared by its modules: the
 * configuration in force, the role ids, the listening sockets, the session
 * table and the shutdown state.  One instance lives in main.c.
 *
 * Process: postern (master), root, unsandboxed; single-threaded.
 */
#ifndef POSTERN_MASTER_MASTER_H
#define POSTERN_MASTER_MASTER_H

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "daemon.h"
#include "sessions.h"
#include "tables.h"
#include "ticket.h"
#include "ticketkeys.h"
#include "tlsfactory.h"
#include "workers.h"

/* Numeric ids of the role users, resolved once at start (getpwnam opens
 * files, which no child may do). */
struct role_ids {
	int root;			/* started as root */
	uid_t uid[ROLE_COUNT];
	gid_t gid[ROLE_COUNT];
};

enum master_state {
	MS_RUNNING,		/* accepting */
	MS_DRAINING,		/* listeners closed, sessions may finish */
	MS_TERMINATING,		/* SIGTERM sent to the sessions left */
};

struct master {
	struct master_conf *conf;	/* in force; SIGHUP updates reloadable keys */
	struct role_ids ids;
	int devnull;			/* O_RDWR, for the unused child fds */
	int sigfd;			/* signalfd: CHLD TERM INT HUP */
	int lfd[CONF_LISTEN_MAX];	/* listeners, -1 once closed */
	unsigned nlisten;
	uint64_t accept_pause_until;	/* ms; set after EMFILE */
	struct session_table sessions;
	enum master_state state;
	uint64_t deadline_ms;		/* end of the current shutdown phase */
	/* The long-running daemons (daemon.c) and what they are handed: the
	 * auth MAC key (randombytes_buf at start; master, authd and queued
	 * only, DESIGN invariant 5) and the table descriptors (tables.c). */
	struct daemon daemons[DAEMON_COUNT];
	unsigned char auth_key[TICKET_KEY_LEN];
	struct tables tables;
	/* The delivery workers (workers.c), bound to queued's instance. */
	struct worker_pool workers;
	/* The per-connection programs, opened and checked once at start
	 * (progfd.h) and exec'd by descriptor; prog_tlsd is -1 when no
	 * listener is starttls or tls. */
	int prog_smtpd, prog_tlsd;
	/* TLS 1.3 session-ticket keys (ticketkeys.h; master and tlsd only). */
	struct ticket_keyring tickets;
	/* The tlsd factories, one per TLS listener mode (tlsfactory.h). */
	struct tls_factories tls_factories;
	/* Sessions whose `ack` to tlsd waits for a daemon's control queue
	 * to drain (master/tlsd.c); a hint, recounted by tlsd_acks_flush. */
	size_t tls_acks_pending;
};

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t now_ms(void);

#endif
