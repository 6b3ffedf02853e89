/*
 * accept.c — new connections: accept4 (non-blocking, close-on-exec), the
 * connection limits, then a session (session.c) or a 421 (limits.c).
 *
 * Process: postern (master).  Descriptors: the listeners.  Failure policy:
 * at most ACCEPT_BATCH connections per wake-up, so one busy listener cannot
 * starve the others or the log pipes; when out of descriptors or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM), accepting pauses for a second instead
 * of spinning on a listener that stays readable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accept.h"
#include "limits.h"
#include "log.h"
#include "session.h"

#define ACCEPT_BATCH 32
#define ACCEPT_PAUSE_MS 1000

/* Log a refused connection from peer on listener l. */
static void log_refused(const struct sockaddr_storage *peer,
                        const struct listen_spec *l, const char *reason)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	struct logline ll;

	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)peer;

		inet_ntop(AF_INET6, &sa->sin6_addr, ip, sizeof(ip));
		port = ntohs(sa->sin6_port);
	} else if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)peer;

		inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
		port = ntohs(sa->sin_port);
	}
	ll_begin(&ll, "refused");
	ll_str(&ll, "reason", reason);
	ll_str(&ll, "ip", ip);
	ll_u64(&ll, "port", port);
	ll_str(&ll, "listen", l->text);
	ll_emit(&ll);
}

/* Handle one accepted connection. */
static void take(struct master *m, int fd, const struct sockaddr_storage *peer,
                 const struct listen_spec *l)
{
	const char *over = limits_check(m, peer);

	if (over != NULL) {
		limits_refuse(fd, m->conf->hostname);
		close(fd);
		log_refused(peer, l, over);
		return;
	}
	(void)session_spawn(m, fd, peer, l);
}


/* Replies and TLS records are written whole and small: without
 * TCP_NODELAY, Nagle's algorithm and the client's delayed ACK hold a
 * record's body back by ~40 ms (measured by bench/: TLS set-up 55 ms
 * -> 12 ms).  Best effort: a failure only costs latency. */
static void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Accept what listener i has queued (see accept.h). */
void accept_ready(struct master *m, unsigned i)
{
	for (int k = 0; k < ACCEPT_BATCH && m->lfd[i] >= 0; k++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd;

		memset(&peer, 0, sizeof(peer));
		fd = accept4(m->lfd[i], (struct sockaddr *)&peer, &len,
		             SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			set_nodelay(fd);
			take(m, fd, &peer, &m->conf->listen[i]);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_event("error", "reason=accept-failed error=%s pause_ms=%d",
			          strerrorname_np(errno), ACCEPT_PAUSE_MS);
			m->accept_pause_until = now_ms() + ACCEPT_PAUSE_MS;
		}
		return;	/* EAGAIN: nothing more queued */
	}
}
