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
/* The session whose child is pid, or NULL. */
struct session *sessions_by_pid(const struct session_table *t, pid_t pid);
/* Number of sessions whose client address equals peer's address. */
size_t sessions_count_ip(const struct session_table *t,
                         const struct sockaddr_storage *peer);

#endif
