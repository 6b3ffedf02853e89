/*
 * chan.c — frames over SOCK_SEQPACKET (chan.h).  Grammar: each packet is
 * exactly one netstring (netstring.h); the receiver's buffer size is the
 * cap, and MSG_TRUNC tells a packet that did not fit from one that did, so
 * an over-long packet is refused rather than read as a shorter one.
 * Failure policy: any malformed packet is EPROTO; the caller closes the
 * channel (one bad peer hurts only its own session).
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "bufio.h"
#include "chan.h"
#include "netstring.h"

/* Send one frame as one packet by the deadline. */
int chan_send(int fd, const unsigned char *frame, size_t n, int64_t deadline_ms)
{
	for (;;) {
		ssize_t r = send(fd, frame, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r >= 0) {
			if ((size_t)r == n)
				return 0;
			errno = EMSGSIZE;	/* SEQPACKET sends are atomic */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return -1;
		if (fd_wait(fd, POLLOUT, deadline_ms) < 0)
			return -1;
	}
}

/* Receive one packet and check it is exactly one frame. */
ssize_t chan_recv(int fd, unsigned char *buf, size_t cap,
                  const unsigned char **payload, size_t *plen, int64_t deadline_ms)
{
	size_t used;
	ssize_t r;

	*payload = NULL;
	*plen = 0;
	for (;;) {
		/* MSG_TRUNC: the return value is the real packet length. */
		r = recv(fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT);
		if (r >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (fd_wait(fd, POLLIN, deadline_ms) < 0)
			return -1;
	}
	if (r == 0)
		return 0;
	if ((size_t)r > cap ||
	    netstring_parse(buf, (size_t)r, cap, payload, plen, &used) != NS_OK ||
	    used != (size_t)r) {
		*payload = NULL;
		*plen = 0;
		errno = EPROTO;
		return -1;
	}
	return r;
}
