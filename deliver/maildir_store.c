/*
 * maildir_store.c — one delivery into a maildir (maildir_store.h), inside
 * postern-maildir's sandbox.  Syscalls, all named in
 * maildir_sandbox_rules.c: clock_gettime, getrandom, openat (tmp/ only,
 * exact flags), write, pread64 (message), fsync, close, linkat (tmp/ ->
 * new/), unlinkat (tmp/).  No allocation.
 * Failure policy: every error is a temporary result with nothing left in
 * tmp/ (see the header); nothing is retried here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "maildir_store.h"

#define COPY_BUF 65536
#define NAME_TRIES 3	/* a collision needs the same second, usec, pid, count and 32 random bits */

/* Escape host as maildir names ask (see maildir_store.h). */
int maildir_host_escape(const char *host, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;
		const char *rep = c == '/' ? "\\057" : c == ':' ? "\\072" : NULL;
		size_t n = rep ? 4 : 1;

		if (c <= ' ' || c >= 0x7f || c == '\\')
			return -1;
		if (o + n >= cap)
			return -1;
		memcpy(out + o, rep ? rep : (const char *)p, n);
		o += n;
	}
	if (o == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/* Format the unique name (see maildir_store.h). */
int maildir_name_make(char *out, size_t cap, const struct timespec *now, long pid,
                      uint64_t count, uint32_t rnd, const char *host)
{
	int n = snprintf(out, cap, "%lld.M%06ldP%ldQ%lluR%08x.%s",
	                 (long long)now->tv_sec, now->tv_nsec / 1000, pid,
	                 (unsigned long long)count, (unsigned)rnd, host);

	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Mark res as a temporary failure chosen by errno e. */
static void fail(struct maildir_result *res, int e)
{
	res->ok = 0;
	if (e == ENOSPC || e == EDQUOT) {
		/* RFC 3463 X.3.1: mail system full */
		res->code = 452;
		res->status = "4.3.1";
		res->text = "4.3.1 Insufficient system storage in maildir";
	} else {
		res->code = 451;
		res->status = "4.3.0";
		res->text = "4.3.0 Local delivery failed, will retry";
	}
}

/* write(2) all of p[0..n); 0 or -1 with errno. */
static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy the whole message to fd with pread; 0 or -1 with errno. */
static int copy_message(int fd, int msg_fd, uint64_t *bytes)
{
	static unsigned char buf[COPY_BUF];
	off_t off = 0;

	for (;;) {
		ssize_t r = pread(msg_fd, buf, sizeof(buf), off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (write_all(fd, buf, (size_t)r) != 0)
			return -1;
		off += r;
		*bytes += (uint64_t)r;
	}
}

/* Create a fresh file in tmp/ under a new name; its fd, or -1 with errno. */
static int create_tmp(struct maildir_store *st, char *name, size_t cap)
{
	for (int i = 0; i < NAME_TRIES; i++) {
		struct timespec now;
		uint32_t rnd;
		int fd;

		if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
		    getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		st->count++;
		if (maildir_name_make(name, cap, &now, st->pid, st->count, rnd, st->host) != 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = openat(st->tmp_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Write, sync and close the tmp/ file; 0 or -1 with errno (fd closed). */
static int fill_tmp(int fd, int msg_fd, const unsigned char *header, size_t hlen,
                    uint64_t *bytes)
{
	int e;

	*bytes = hlen;
	if (write_all(fd, header, hlen) == 0 && copy_message(fd, msg_fd, bytes) == 0 &&
	    fsync(fd) == 0) {
		/* close can report a deferred write error (NFS); take it seriously */
		return close(fd);
	}
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Deliver one message (see maildir_store.h). */
void maildir_deliver(struct maildir_store *st, int msg_fd, const unsigned char *header,
                     size_t hlen, struct maildir_result *res)
{
	int fd, e;

	memset(res, 0, sizeof(*res));
	fd = create_tmp(st, res->name, sizeof(res->name));
	if (fd < 0) {
		fail(res, errno);
		return;
	}
	if (fill_tmp(fd, msg_fd, header, hlen, &res->bytes) != 0 ||
	    linkat(st->tmp_dir, res->name, st->new_dir, res->name, 0) != 0) {
		e = errno;
		unlinkat(st->tmp_dir, res->name, 0);
		fail(res, e);
		return;
	}
	/* Delivered once the link exists; a tmp/ name left behind by a failed
	 * unlink is harmless (maildir readers sweep old tmp/ files). */
	unlinkat(st->tmp_dir, res->name, 0);
	if (fsync(st->new_dir) != 0) {
		fail(res, errno);
		return;
	}
	res->ok = 1;
	res->code = 250;
	res->status = "2.0.0";
	res->text = "2.0.0 Delivered to maildir";
}
