/*
 * readfull.c — read until a buffer is full or the file ends (see
 * readfull.h).  Any process; uses only the descriptor it is given.
 */
#include <errno.h>
#include <unistd.h>

#include "readfull.h"

/* The one loop: read (off NULL) or pread from *off onwards. */
static ssize_t fill(int fd, unsigned char *p, size_t n, const uint64_t *off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = off ? pread(fd, p + got, n - got, (off_t)(*off + got))
		                : read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Fill buf[0..n) from fd (see readfull.h). */
ssize_t read_full(int fd, void *buf, size_t n)
{
	return fill(fd, buf, n, NULL);
}

/* Fill buf[0..n) from fd at off (see readfull.h). */
ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	return fill(fd, buf, n, &off);
}
