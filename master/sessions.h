/*
 * sessions.h — the bounded table of live per-connection sessions: who they
 * are (trusted facts the master learnt from accept, never from the child),
 * their pid, their log pipe, and the counts the connection limits need.
 *
 * Process: postern (master).  Failure policy: the table never grows past
 * CONF_CONNECTIONS_HARD_MAX; adding to a full table fails and the caller
 * refuses the connection.
 */
#ifndef POSTERN_MASTER_SESSIONS_H
#define POSTERN_MASTER_SESSIONS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "logrelay.h"
#include "randid.h"

/* At least DAEMON_COUNT (master/daemon.h checks it). */
#define SESSION_DAEMONS_MAX 4

struct session {
	pid_t pid;
	char id[RANDID_LEN + 1];
	struct sockaddr_storage peer;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
	int logfd;			/* read end of the log pipe; -1 at EOF */
	uint64_t started_ms;
	int killed;			/* the master sent SIGKILL */
	struct logrelay relay;
	/* Per daemon slot (master/daemon.h): the instance this session's
	 * channel was handed to, 0 for none.  When that instance dies the
	 * session is ended. */
	uint64_t daemon_gen[SESSION_DAEMONS_MAX];
	/* postern-tlsd in front of postern-smtpd (starttls and tls
	 * listeners; master/tlsd.c).  The session ends when both are
	 * reaped (master/children.c). */
	pid_t tls_pid;			/* 0: no tlsd (plain listener) */
	uint64_t tls_factory_gen;	/* forked from that factory; 0: exec'd */
	int tls_logfd;			/* read end of tlsd's log pipe; -1 at EOF */
	int tls_factsfd;		/* master's end of the facts socket, or -1 */
	int tls_facts;			/* a valid `tls` frame arrived */
	/* The `ack` to tlsd (lib/tlsfacts.h) waits until, for each daemon
	 * slot, frame number tls_ack_frame[slot] (our `tls` frame, 0: none
	 * sent) has left the master's queue (daemon_frame_out). */
	int tls_ack_pending;
	uint64_t tls_ack_frame[SESSION_DAEMONS_MAX];
	char tls_logkey[RANDID_LEN + 24];	/* "session=ID role=tlsd" */
	struct logrelay tls_relay;
	int smtpd_done, tls_done;	/* reaped */
	int tls_killed;			/* tlsd sent SIGKILL after smtpd ended */
	int smtpd_status;		/* wait status of postern-smtpd */
	uint64_t smtpd_ended_ms;	/* when smtpd was reaped (tlsd's grace) */
};

struct session_table {
	struct session **v;
	size_t n;
};

/* Allocate the table (hard cap).  0, or -1 on ENOMEM. */
int sessions_init(struct session_table *t);
/* A new zeroed session in the table, or NULL if full or out of memory. */
struct session *sessions_add(struct session_table *t);
/* Forget s (it must be in the table) and free it. */
void sessions_remove(struct session_table *t, struct session *s);
/* The session whose postern-smtpd or postern-tlsd is pid (not yet
 * reaped), or NULL. */
struct session *sessions_by_pid(const struct session_table *t, pid_t pid);
/* Send sig to s's processes that are not reaped yet. */
void sessions_kill(struct session *s, int sig);
/* Number of sessions whose client address equals peer's address. */
size_t sessions_count_ip(const struct session_table *t,
                         const struct sockaddr_storage *peer);

#endif
