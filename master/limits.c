/*
 * limits.c — connection limits and the 421 refusal (see limits.h).
 *
 * Process: postern (master).  Descriptors: a freshly accepted client
 * socket, non-blocking.  Failure policy: a failed or short write of the 421
 * is ignored; the connection is closed either way.
 */
#include <stdio.h>
#include <sys/socket.h>

#include "limits.h"

/* The limit a new session from peer would exceed, or NULL. */
const char *limits_check(const struct master *m, const struct sockaddr_storage *peer)
{
	const struct master_conf *c = m->conf;

	if (m->sessions.n >= c->connections_max ||
	    m->sessions.n >= CONF_CONNECTIONS_HARD_MAX)
		return "connections_max";
	if (sessions_count_ip(&m->sessions, peer) >= c->connections_per_ip_max)
		return "connections_per_ip_max";
	return NULL;
}

/* Best-effort 421 (MSG_NOSIGNAL: a gone client must not SIGPIPE us). */
void limits_refuse(int fd, const char *hostname)
{
	char line[CONF_HOSTNAME_MAX + 64];
	int n = snprintf(line, sizeof(line),
	                 "421 4.7.0 %s Too many connections, try again later\r\n",
	                 hostname);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}
