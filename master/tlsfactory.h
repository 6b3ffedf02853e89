/*
 * tlsfactory.h — the master's tlsd factories (DESIGN §1, "Memory";
 * protocol and descriptors: smtpd/tlsd_factory.h): one `postern-tlsd -F`
 * per TLS listener mode in use (starttls, tls), from which each session's
 * tlsd is forked instead of exec'd.  The factory's children are the
 * master's own (clone CLONE_PARENT): reaped, signalled and logged as any
 * tlsd (children.c).
 *
 * Life of a factory: spawned while the master runs and the mode has a
 * listener (and tls_factory is on); usable once it sent `ready`; a fork
 * request is answered synchronously (a reply within FORK_REPLY_MS, else
 * the factory is killed).  Replaced — the old one's socket is closed, so
 * it exits, and a new one is exec'd (fresh address layout) — after
 * tls_factory_sessions children, after any child of it that died of a
 * signal the master did not send (a crash or a seccomp kill), on SIGHUP,
 * and when a certificate or key file changes (stat once a second); one
 * that has not exited RETIRE_GRACE_MS after its socket was closed is
 * killed, so a stuck factory cannot hold a slot.  A
 * factory that dies otherwise is restarted after 1 s doubling to 60 s.
 * Whenever no factory is ready, sessions get an exec'd tlsd as before:
 * a factory problem never refuses a connection.
 *
 * Log lines: event=tls-factory-start mode= pid=; event=tls-factory-ready
 * mode= pid=; event=tls-factory-replace
 * mode= pid= reason=sessions|child-crash|reload|tls-files|failed;
 * event=tls-factory-exit (childend.h) and event=tls-factory-failed
 * mode= reason=.  Its own log is relayed as role=tlsd-factory.
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_TLSFACTORY_H
#define POSTERN_MASTER_TLSFACTORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fds.h"
#include "logrelay.h"

struct master;

/* Two modes, each with a current factory and a few being replaced. */
#define TLSFACTORY_SLOTS 8

struct tls_factory {
	int used;
	int mode;			/* enum listen_mode (STARTTLS or TLS) */
	int retiring;			/* socket closed, waiting to be reaped */
	int ready;			/* `ready` came */
	pid_t pid;
	int sock;			/* request socket (master's end), or -1 */
	int logfd;			/* read end of its log pipe, or -1 */
	struct logrelay relay;
	uint64_t gen;			/* tlsfactories.next_gen when spawned */
	uint64_t forks;			/* children made */
	uint64_t started_ms;
	uint64_t retired_ms;		/* when its socket was closed */
};

struct tls_factories {
	struct tls_factory v[TLSFACTORY_SLOTS];
	uint64_t next_gen;
	uint64_t restart_at_ms[3];	/* per listen_mode: no spawn before */
	uint64_t backoff_ms[3];
	uint64_t files_sig;		/* certificate and key files (stat) */
};

/* Nothing running (master start). */
void tlsfactory_init(struct master *m);

/* Every loop round: spawn the factories that are due. */
void tlsfactory_step(struct master *m);

/* Fork a tlsd for a session on a `mode` listener from the current
 * factory, with src[TLSD_FD_*] as its descriptors (the master keeps
 * them; close its copies as after an exec).  Its pid and the factory's
 * generation in *gen; or -1 with errno ENOENT when no child was made (no
 * factory ready, the request could not be sent, clone failed: the caller
 * exec's the tlsd itself); or -1 with errno EPROTO when the factory took
 * the request but its answer was missing or wrong (it is killed): a child
 * may then hold the descriptors, so the caller must not start a second
 * tlsd on them but refuse the connection. */
pid_t tlsfactory_fork(struct master *m, int mode, const int src[TLSD_FD_COUNT],
                      uint64_t *gen);

/* A tlsd forked from generation gen ended with status: replace that
 * factory if it was a crash. */
void tlsfactory_child_ended(struct master *m, uint64_t gen, int status);

/* pid was reaped: if it is a factory, log, schedule, return 1. */
int tlsfactory_reaped(struct master *m, pid_t pid, int status);

/* Replace every factory (SIGHUP); reason for the log line. */
void tlsfactory_replace_all(struct master *m, const char *reason);

/* Close every factory's socket (shutdown): they exit; and send sig
 * (0: none) to those still running. */
void tlsfactory_stop_all(struct master *m, int sig);

/* Once a second: log relays' windows, the certificate files' stat. */
void tlsfactory_tick(struct master *m);

/* The poll loop: two entries per slot (request socket, log pipe); the
 * number written. */
size_t tlsfactory_pollfds(const struct master *m, int *fds, short *events);
/* Entry k of tlsfactory_pollfds had revents. */
void tlsfactory_on_ready(struct master *m, size_t k, short revents);

/* 1 if any factory is still running. */
int tlsfactory_running(const struct master *m);

#endif
