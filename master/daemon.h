/*
 * daemon.h — generic supervision of the master's long-running daemons
 * (postern-authd, postern-queued; control grammar in lib/ctlchan.h;
 * DESIGN §1, §4).
 *
 * A role registers a struct daemon_role in its slot; daemon.c then spawns
 * it by fork+exec (as root, empty environment, descriptors of lib/fds.h
 * DAEMON_FD_*, close_range, its own session), relays its log pipe with
 * the prefix role=NAME, talks to it on the control socket, restarts it
 * after it dies (1 s doubling to 60 s, reset after it ran 60 s; a SIGSYS
 * death is logged as event=sandbox-violation role=NAME), and SIGTERMs the
 * postern-smtpd of every session bound to the dead instance, since that
 * session's channel is gone.  While a daemon is down or not yet ready (no
 * `ready` frame since its start) a new session's channel end is closed at
 * once (smtpd answers 454 / 451).
 *
 * argv of a daemon: PROGRAM -u UID -g GID -r CHROOT [role options]; never
 * a key (/proc/PID/cmdline is world-readable).
 *
 * Control channel (SOCK_SEQPACKET, one lib/netstring.h frame per packet,
 * descriptors by SCM_RIGHTS, lib/fdpass.h):
 *  master -> daemon
 *   `key` bytes(32)                    the auth MAC key; first frame, once
 *   `table` name fd                    a table's CDB, read-only
 *   `session` id ip port listener mode + 1 fd: the daemon's end of that
 *                                      session's SOCK_SEQPACKET channel
 *   `tls` id version cipher            (TLS issue) facts from tlsd
 *   `worker` kind route + 1 fd         (queued only; workers.h) queued's end
 *                                      of a delivery worker's job channel;
 *                                      kind "smtp" (route "") or "maildir"
 *                                      (route = the routes.cdb value)
 *  daemon -> master
 *   `ready`                            after sandbox_enter, once
 * Anything else from a daemon (another verb, a second `ready`, a
 * descriptor, a packet over 64 bytes) is a protocol violation: the master
 * SIGKILLs it and it is restarted.  The master never blocks on a daemon:
 * frames it cannot send at once wait in a bounded per-daemon queue
 * flushed when the socket is writable; when that queue is full a session's
 * descriptor is closed instead (that session sees a dead peer).
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_DAEMON_H
#define POSTERN_MASTER_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "logrelay.h"

struct master;
struct session;

/* The daemon slots, in a fixed order (index of master.daemons and of
 * session.daemon_gen). */
enum daemon_slot { DAEMON_AUTHD, DAEMON_QUEUED, DAEMON_COUNT };
_Static_assert(DAEMON_COUNT <= 4, "session.daemon_gen holds SESSION_DAEMONS_MAX slots");

#define DAEMON_ARGS_MAX 32		/* role options, in addition to -u -g -r */
#define DAEMON_ARG_LEN 256
#define DAEMON_QUEUE_MAX 256		/* pending control frames */
#define DAEMON_FRAME_MAX 512

/* Role options for argv, copied into fixed storage. */
struct daemon_args {
	char v[DAEMON_ARGS_MAX][DAEMON_ARG_LEN];
	size_t n;
	int failed;			/* too many or too long */
};

/* Append one option word to a (sets a->failed if it does not fit). */
void daemon_arg(struct daemon_args *a, const char *s);

/* What a role adds to the generic supervision. */
struct daemon_role {
	const char *name;		/* "authd": log prefix role=authd */
	const char *program;		/* file name under libexec_dir */
	enum role user;			/* whose uid/gid it drops to */
	/* Its chroot directory. */
	const char *(*root)(const struct master *m);
	/* Descriptors for 4, 5, ... (at most DAEMON_FD_EXTRA_MAX); they stay
	 * the master's (the child gets copies).  Returns the count. */
	size_t (*extra_fds)(struct master *m, int *fds, size_t cap);
	/* Role options for argv (may be NULL). */
	void (*args)(const struct master *m, struct daemon_args *a);
	unsigned tables;		/* TABLE_BIT()s forwarded as `table` on change */
	unsigned tables_at_start;	/* TABLE_BIT()s sent right after `key` */
	int session_channel;		/* each session gets a channel to it */
};

/* One pending control frame (and its descriptor, owned, or -1). */
struct daemon_frame {
	unsigned char buf[DAEMON_FRAME_MAX];
	size_t len;
	int fd;
};

struct daemon {
	const struct daemon_role *role;	/* NULL: slot not in use */
	int progfd;			/* its program (progfd.h), or -1 if missing */
	pid_t pid;			/* 0 while down */
	int ctl;			/* master's end of the control socket, or -1 */
	int logfd;			/* read end of the log pipe, or -1 */
	char logkey[48];		/* "role=NAME" */
	struct logrelay relay;
	int ready;			/* `ready` received from this instance */
	uint64_t gen;			/* instance number, 1 for the first */
	uint64_t started_ms;
	uint64_t backoff_ms;		/* last restart delay; 0 before any */
	uint64_t restart_at_ms;		/* 0: no restart scheduled */
	struct daemon_frame *q;		/* DAEMON_QUEUE_MAX pending frames */
	size_t qhead, qlen;
	/* Frames ever queued, and ever taken off the queue (written, or
	 * dropped with a dead instance): a frame queued as number k is out
	 * of the master's hands once ndone >= k (daemon_frame_out). */
	uint64_t nqueued, ndone;
};

/* Put role in slot (before daemons_start_all). */
void daemon_register(struct master *m, enum daemon_slot slot,
                     const struct daemon_role *role);

/* Open every registered daemon's program once (progfd.h; exec'd by
 * descriptor from then on).  A missing program is only logged (that
 * daemon stays down, its sessions see a dead peer); a program that fails
 * the ownership checks is an error: -1 with the reason in err. */
int daemons_open_programs(struct master *m, char *err, size_t errcap);

/* Start every registered daemon (at master start). */
void daemons_start_all(struct master *m);

/* 1 if the daemon in slot is running (it may not be ready yet). */
int daemon_up(const struct master *m, enum daemon_slot slot);

/* Hand each daemon that has a session channel its end of s's channel
 * (fds[slot], always consumed: sent with the `session` frame, or closed
 * when the daemon is down or busy) and record which instance s is bound
 * to.  fds[slot] of a slot without a daemon are closed. */
void daemons_bind_session(struct master *m, struct session *s,
                          const struct listen_spec *l, int fds[DAEMON_COUNT]);

/* Queue a frame with an optional descriptor (consumed; -1 for none) for
 * the daemon in slot.  0, or -1 (daemon down, frame too big, queue full:
 * fd closed). */
int daemon_send(struct master *m, enum daemon_slot slot,
                const unsigned char *frame, size_t n, int fd);

/* The number the last frame queued for slot got (see struct daemon);
 * 0 if none ever was. */
uint64_t daemon_last_frame(const struct master *m, enum daemon_slot slot);

/* 1 if frame number k of slot is no longer in the master's queue: written
 * into the daemon's control socket, or dropped because that instance
 * died (its sessions are ended then). */
int daemon_frame_out(const struct master *m, enum daemon_slot slot, uint64_t k);

/* The tables in bits changed: send `table` frames to the daemons that
 * consume them. */
void daemons_tables_changed(struct master *m, unsigned bits);

/* Re-stat the tables (all reopened when force: SIGHUP) and hand the
 * changed ones to their daemons.  Without force, at most once per
 * TABLES_CHECK_MS. */
void daemons_refresh_tables(struct master *m, int force);

/* pid was reaped with status: if it is a daemon, log, end its sessions,
 * schedule the restart, and return 1; else 0. */
int daemons_reaped(struct master *m, pid_t pid, int status);

/* Once a second: restarts that are due. */
void daemons_tick(struct master *m);

/* The poll loop: the daemon descriptors to watch.  For each slot, two
 * entries (log pipe, control socket; fd -1 when absent) with their
 * events; returns the number written (2 * DAEMON_COUNT). */
size_t daemons_pollfds(const struct master *m, int *fds, short *events);
/* The entry k of daemons_pollfds had revents. */
void daemons_on_ready(struct master *m, size_t k, short revents);

/* At the end of shutdown: SIGTERM every daemon, wait up to timeout_ms,
 * SIGKILL what is left, reap. */
void daemons_stop_all(struct master *m, uint64_t timeout_ms);

#endif
