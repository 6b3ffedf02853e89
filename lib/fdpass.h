/*
 * fdpass.h — passing descriptors with SCM_RIGHTS over a local socket
 * (SOCK_SEQPACKET in postern): the master hands tables and session sockets
 * to its daemons this way.
 */
#ifndef POSTERN_FDPASS_H
#define POSTERN_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX 8

/* Send buf[0..len) (len >= 1) with nfds <= FDPASS_MAX descriptors.  0, or
 * -1 with errno (EINVAL for bad arguments).  Never raises SIGPIPE. */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/* Receive one message into buf[cap] and up to maxfds descriptors (opened
 * close-on-exec) into fds, count in *nfds.  Returns the bytes received, 0
 * at EOF, -1 with errno.  A truncated message or control part, more than
 * maxfds descriptors, or an unexpected control message is EPROTO, and then
 * every descriptor that arrived has been closed. */
ssize_t fdpass_recv(int sock, void *buf, size_t cap, int *fds, size_t maxfds,
                    size_t *nfds);

#endif
