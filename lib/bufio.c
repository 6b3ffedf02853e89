/*
 * bufio.c — buffered input and output with absolute deadlines (bufio.h).
 * Used by smtpd on its client descriptors and by anything that speaks a
 * stream.  Syscalls: poll, read, write, clock_gettime only (the smtpd
 * sandbox allows no more).  Failure policy: errors are returned with errno
 * and recorded in the buffer (err/eof); nothing is retried except EINTR and
 * EAGAIN, and nothing waits past the deadline.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bufio.h"

/* Milliseconds on CLOCK_MONOTONIC (immune to wall-clock changes). */
int64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, as a poll(2) timeout. */
static int time_left(int64_t deadline_ms)
{
	int64_t now = clock_ms();

	if (deadline_ms <= now)
		return 0;
	if (deadline_ms - now > INT_MAX)
		return INT_MAX;
	return (int)(deadline_ms - now);
}

/* Wait for events on fd until the deadline (see bufio.h). */
int fd_wait(int fd, short events, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int left = time_left(deadline_ms);
		int r = poll(&pfd, 1, left);

		if (r > 0) {
			if (pfd.revents & POLLNVAL) {
				errno = EBADF;
				return -1;
			}
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		/* A ready descriptor still wins over an expired deadline:
		 * the last poll had timeout 0. */
		if (r == 0 && left == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* Set up an input buffer over caller storage. */
void bufin_init(struct bufin *b, int fd, unsigned char *storage, size_t cap)
{
	b->fd = fd;
	b->buf = storage;
	b->cap = cap;
	b->start = b->end = 0;
	b->eof = b->err = 0;
}

/* Compact, wait for input and read it (see bufio.h). */
ssize_t bufin_fill(struct bufin *b, int64_t deadline_ms)
{
	if (b->start > 0) {
		size_t old_end = b->end;

		memmove(b->buf, b->buf + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
		/* What moved may be part of a password: leave no second copy. */
		explicit_bzero(b->buf + b->end, old_end - b->end);
	}
	if (b->end == b->cap) {
		errno = ENOBUFS;
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (fd_wait(b->fd, POLLIN, deadline_ms) < 0) {
			if (errno != ETIMEDOUT)
				b->err = 1;
			return -1;
		}
		r = read(b->fd, b->buf + b->end, b->cap - b->end);
		if (r > 0) {
			b->end += (size_t)r;
			return r;
		}
		if (r == 0) {
			b->eof = 1;
			return 0;
		}
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			b->err = 1;
			return -1;
		}
	}
}

/* Unread bytes in the buffer. */
size_t bufin_avail(const struct bufin *b)
{
	return b->end - b->start;
}

/* The first unread byte. */
const unsigned char *bufin_data(const struct bufin *b)
{
	return b->buf + b->start;
}

/* Drop n unread bytes (clamped to what is there). */
void bufin_consume(struct bufin *b, size_t n)
{
	if (n > b->end - b->start)
		n = b->end - b->start;
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

/* Zero n unread bytes (clamped), then drop them. */
void bufin_consume_wipe(struct bufin *b, size_t n)
{
	if (n > b->end - b->start)
		n = b->end - b->start;
	explicit_bzero(b->buf + b->start, n);
	bufin_consume(b, n);
}

/* Write all of p[0..n) by the deadline, waiting for POLLOUT as needed. */
int fd_write_all(int fd, const void *p, size_t n, int64_t deadline_ms)
{
	const unsigned char *c = p;

	while (n > 0) {
		ssize_t r;

		/* Poll first so a blocking fd does not block past the deadline
		 * when the peer stopped reading. */
		if (fd_wait(fd, POLLOUT, deadline_ms) < 0)
			return -1;
		r = write(fd, c, n);
		if (r > 0) {
			c += r;
			n -= (size_t)r;
		} else if (r < 0 && errno != EINTR && errno != EAGAIN &&
		           errno != EWOULDBLOCK) {
			return -1;
		}
	}
	return 0;
}

/* Set up an output buffer over caller storage. */
void bufout_init(struct bufout *b, int fd, unsigned char *storage, size_t cap)
{
	b->fd = fd;
	b->buf = storage;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
}

/* Write every queued byte (see bufio.h). */
int bufout_flush(struct bufout *b, int64_t deadline_ms)
{
	if (b->err) {
		errno = EIO;
		return -1;
	}
	if (b->len == 0)
		return 0;
	/* After a failure the stream is in an unknown state (part of a reply
	 * may be out), so the buffer stays failed. */
	if (fd_write_all(b->fd, b->buf, b->len, deadline_ms) < 0) {
		b->err = 1;
		return -1;
	}
	b->len = 0;
	return 0;
}

/* Queue bytes, flushing whenever the buffer is full. */
int bufout_put(struct bufout *b, const void *p, size_t n, int64_t deadline_ms)
{
	const unsigned char *c = p;

	if (b->err) {
		errno = EIO;
		return -1;
	}
	if (b->cap == 0 && n > 0) {
		errno = ENOBUFS;
		return -1;
	}
	while (n > 0) {
		size_t k;

		if (b->len == b->cap && bufout_flush(b, deadline_ms) < 0)
			return -1;
		k = b->cap - b->len < n ? b->cap - b->len : n;
		memcpy(b->buf + b->len, c, k);
		b->len += k;
		c += k;
		n -= k;
	}
	return 0;
}
