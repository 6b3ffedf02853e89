/*
 * body.c — scanning and sending the message after DATA (body.h).  Runs in
 * postern-deliver's sandbox: fstat and pread on the message descriptor
 * only.  A message that changes size or fails to read while being sent
 * ends the transaction without the terminator, so the server never
 * accepts a cut message (CONN_NET: the recipients stay temporary).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "body.h"
#include "bufio.h"

#define CHUNK 16384

/* Start at the beginning of a line. */
void dot_init(struct dotstuff *d)
{
	memset(d, 0, sizeof(*d));
	d->bol = 1;
}

/* Stuff a chunk (see body.h). */
size_t dot_stuff(struct dotstuff *d, const unsigned char *in, size_t n,
                 unsigned char *out, size_t cap)
{
	size_t o = 0;

	if (cap < 2 * n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (d->bol && in[i] == '.')
			out[o++] = '.';
		out[o++] = in[i];
		d->bol = in[i] == '\n';
		d->prev2[0] = d->prev2[1];
		d->prev2[1] = in[i];
	}
	d->total += n;
	return o;
}

/* The terminator (see body.h). */
const char *dot_end(const struct dotstuff *d, size_t *n)
{
	if (d->total == 0 || (d->prev2[0] == '\r' && d->prev2[1] == '\n')) {
		*n = 3;
		return ".\r\n";
	}
	*n = 5;
	return "\r\n.\r\n";
}

/* 1 if p[0..n) holds a byte >= 0x80. */
static int has_8bit(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] & 0x80)
			return 1;
	}
	return 0;
}

/* Size and 8-bit scan (see body.h). */
int body_scan(int fd, const struct bytes *header, uint64_t *size, int *eightbit)
{
	static unsigned char buf[CHUNK];
	struct stat st;
	uint64_t off = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0)
		return -1;
	*size = (uint64_t)st.st_size;
	*eightbit = has_8bit(header->p, header->n);
	while (off < *size && !*eightbit) {
		ssize_t r = pread(fd, buf, sizeof(buf), (off_t)off);

		if (r <= 0)
			return -1;
		*eightbit = has_8bit(buf, (size_t)r);
		off += (uint64_t)r;
	}
	return 0;
}

/* Stuff and send one piece. */
static enum conn_status put_piece(struct conn *c, struct dotstuff *d, const unsigned char *p,
                                  size_t n, int64_t block_ms)
{
	static unsigned char out[2 * CHUNK];

	while (n > 0) {
		size_t k = n < CHUNK ? n : CHUNK;
		size_t o = dot_stuff(d, p, k, out, sizeof(out));

		if (conn_put(c, out, o, clock_ms() + block_ms) != CONN_OK)
			return CONN_NET;
		p += k;
		n -= k;
	}
	return CONN_OK;
}

/* Send header block and message (see body.h). */
enum conn_status body_send(struct conn *c, int fd, const struct bytes *header,
                           uint64_t size, int64_t block_ms)
{
	static unsigned char buf[CHUNK];
	struct dotstuff d;
	uint64_t off = 0;
	const char *end;
	size_t en;

	dot_init(&d);
	if (put_piece(c, &d, header->p, header->n, block_ms) != CONN_OK)
		return CONN_NET;
	while (off < size) {
		size_t want = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		ssize_t r = pread(fd, buf, want, (off_t)off);

		if (r <= 0) {
			c->why = "message-read";
			return CONN_NET;
		}
		if (put_piece(c, &d, buf, (size_t)r, block_ms) != CONN_OK)
			return CONN_NET;
		off += (uint64_t)r;
	}
	end = dot_end(&d, &en);
	if (conn_put(c, end, en, clock_ms() + block_ms) != CONN_OK ||
	    conn_flush(c, clock_ms() + block_ms) != CONN_OK)
		return CONN_NET;
	return CONN_OK;
}
