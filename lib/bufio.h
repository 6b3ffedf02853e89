/*
 * bufio.h — buffered reading and writing on one descriptor with absolute
 * deadlines, for every postern process (smtpd's client side above all).
 *
 * Deadlines are absolute times on the clock_ms() clock (CLOCK_MONOTONIC in
 * milliseconds); DEADLINE_NONE waits for ever.  The code uses only poll,
 * read, write and clock_gettime, so it runs inside the smtpd sandbox.  It
 * works with blocking and non-blocking descriptors, but a deadline is
 * strict only for non-blocking ones (a blocking write(2) of a large chunk
 * may outlast it).  Writers must have SIGPIPE ignored: write(2) has no
 * MSG_NOSIGNAL.
 *
 * Buffers are the caller's storage; nothing here allocates.
 */
#ifndef POSTERN_BUFIO_H
#define POSTERN_BUFIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DEADLINE_NONE INT64_MAX

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t clock_ms(void);

/* Wait until fd has one of events (POLLIN/POLLOUT) or deadline_ms passes.
 * 0 when ready (also for POLLHUP/POLLERR: the next read or write reports
 * it), -1 with errno ETIMEDOUT, EBADF (POLLNVAL) or poll's error. */
int fd_wait(int fd, short events, int64_t deadline_ms);

struct bufin {
	int fd;
	unsigned char *buf;
	size_t cap, start, end;	/* unread bytes are buf[start..end) */
	int eof, err;
};

void bufin_init(struct bufin *b, int fd, unsigned char *storage, size_t cap);
/* Move unread bytes to the front, wait for input until deadline_ms and
 * read what is there.  Returns the bytes read (>0), 0 at EOF (b->eof), or
 * -1: errno ETIMEDOUT, ENOBUFS (buffer full: the caller's line is too
 * long), or the read error (b->err). */
ssize_t bufin_fill(struct bufin *b, int64_t deadline_ms);
size_t bufin_avail(const struct bufin *b);
const unsigned char *bufin_data(const struct bufin *b);
/* Drop n unread bytes (n <= bufin_avail). */
void bufin_consume(struct bufin *b, size_t n);
/* The same, zeroing them first: for lines that may hold a password (AUTH),
 * so no copy outlives its use in the buffer.  bufin_fill never leaves a
 * stale copy behind when it moves unread bytes to the front. */
void bufin_consume_wipe(struct bufin *b, size_t n);

struct bufout {
	int fd;
	unsigned char *buf;
	size_t cap, len;
	int err;	/* sticky: once set, every call fails with EIO */
};

void bufout_init(struct bufout *b, int fd, unsigned char *storage, size_t cap);
/* Queue n bytes, flushing whenever the buffer fills.  0 or -1. */
int bufout_put(struct bufout *b, const void *p, size_t n, int64_t deadline_ms);
/* Write every queued byte.  0, or -1 (errno ETIMEDOUT, EPIPE, ...). */
int bufout_flush(struct bufout *b, int64_t deadline_ms);

/* Write all of p[0..n) to fd by deadline_ms: 0, or -1 with errno. */
int fd_write_all(int fd, const void *p, size_t n, int64_t deadline_ms);

#endif
