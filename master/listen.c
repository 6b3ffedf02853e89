/*
 * listen.c — the listening sockets: one per "listen =" line, with
 * SO_REUSEADDR (a restart must not wait for TIME_WAIT), IPV6_V6ONLY on IPv6
 * (so "[::]" never silently takes IPv4 too), non-blocking (the poll loop
 * must never sleep in accept) and close-on-exec.
 *
 * Process: postern (master), at start; closed at shutdown.  Failure policy:
 * a listener that cannot be opened is fatal (exit 111: temporary, a
 * supervisor may retry once the port is free).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define LISTEN_BACKLOG 128

/* Open one listener; the fd, or -1 with errno. */
static int open_one(const struct listen_spec *l)
{
	int one = 1, saved;
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	if (l->addr.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Open every configured listener (see listen.h). */
void listen_open_all(struct master *m)
{
	const struct master_conf *c = m->conf;

	for (unsigned i = 0; i < c->nlisten; i++) {
		int fd = open_one(&c->listen[i]);

		if (fd < 0)
			log_fatal("reason=listen-failed listen=%s error=%s",
			          c->listen[i].text, strerrorname_np(errno));
		m->lfd[i] = fd;
		log_event("listening", "listen=%s mode=%s", c->listen[i].text,
		          listen_mode_name(c->listen[i].mode));
	}
	m->nlisten = c->nlisten;
}

/* Close every listener. */
void listen_close_all(struct master *m)
{
	for (unsigned i = 0; i < m->nlisten; i++) {
		if (m->lfd[i] >= 0)
			close(m->lfd[i]);
		m->lfd[i] = -1;
	}
}
