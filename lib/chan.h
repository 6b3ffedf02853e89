/*
 * chan.h — one netstring frame per SOCK_SEQPACKET packet, with deadlines.
 * Used on the auth and queue channels (fds 4 and 5 of postern-smtpd) and
 * their daemon ends.  Syscalls: send, recv (recvfrom), poll, clock_gettime.
 * Works on blocking and non-blocking sockets (MSG_DONTWAIT + poll).
 */
#ifndef POSTERN_CHAN_H
#define POSTERN_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Send one packet holding frame[0..n).  0, or -1 with errno (EPIPE when the
 * peer is gone, ETIMEDOUT at the deadline).  Never raises SIGPIPE. */
int chan_send(int fd, const unsigned char *frame, size_t n, int64_t deadline_ms);

/* Receive one packet into buf[cap]; it must be exactly one netstring with
 * nothing after it.  Sets *payload and *plen to the frame's payload (inside
 * buf) and returns the packet length; 0 at EOF (a zero-length packet also
 * reads as EOF: it is never a valid frame); -1 with errno ETIMEDOUT, EPROTO
 * (malformed, or larger than cap) or recv's error. */
ssize_t chan_recv(int fd, unsigned char *buf, size_t cap,
                  const unsigned char **payload, size_t *plen, int64_t deadline_ms);

#endif
