/*
 * fdpass.c — SCM_RIGHTS send and receive (fdpass.h).  Used by the master
 * (sending) and the long-running daemons (receiving).  The receiver is
 * strict because a descriptor it did not ask for is a resource leak at best
 * and a confused-deputy at worst: on any surprise it closes everything that
 * arrived and reports EPROTO.  Syscalls: sendmsg, recvmsg, close.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/* Room for more descriptors than a sender may legally pass, so an excess
 * is seen (and closed) rather than silently cut by the kernel. */
#define FDPASS_RECV_ROOM (FDPASS_MAX * 2)

/* Send data with descriptors attached. */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	/* A zero-length message would read as EOF on the other side. */
	if (len == 0 || nfds > FDPASS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if ((size_t)r != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Close n descriptors. */
static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* Collect every SCM_RIGHTS descriptor into got[FDPASS_RECV_ROOM]; returns
 * -1 if a control message of another kind is present. */
static int collect_fds(struct msghdr *msg, int *got, size_t *ngot)
{
	int bad = 0;

	*ngot = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL;
	     c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && *ngot < FDPASS_RECV_ROOM; i++)
			memcpy(&got[(*ngot)++], CMSG_DATA(c) + i * sizeof(int),
			       sizeof(int));
	}
	return bad ? -1 : 0;
}

/* Receive data and descriptors (see fdpass.h). */
ssize_t fdpass_recv(int sock, void *buf, size_t cap, int *fds, size_t maxfds,
                    size_t *nfds)
{
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(sizeof(int) * FDPASS_RECV_ROOM)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	                      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	int got[FDPASS_RECV_ROOM];
	size_t ngot;
	ssize_t r;
	int bad;

	*nfds = 0;
	do {
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	bad = collect_fds(&msg, got, &ngot);
	if (r == 0) {
		close_all(got, ngot);
		return 0;
	}
	if (bad || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || ngot > maxfds) {
		close_all(got, ngot);
		errno = EPROTO;
		return -1;
	}
	if (ngot > 0)
		memcpy(fds, got, sizeof(int) * ngot);
	*nfds = ngot;
	return r;
}
