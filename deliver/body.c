/*
 * body.c — scanning and sending the message after DATA (body.h).  Runs in
 * postern-deliver's sandbox: fstat and pread on the message descriptor
 * only.  A message that changes size or fails to read while being sent
 * ends the transaction without the terminator, so the server never
 * accepts a cut message (CONN_NET: the recipients stay temporary).
 *
 * Line ends: body_scan refuses a message with a bare CR, a bare LF or a
 * NUL (lib/crlfcheck.h) before anything is sent, and the worker gives
 * every recipient a permanent result; queued refuses such messages when
 * they arrive, so only a queue file written some other way gets here.
 * dot_stuff refuses them too, as the last guard: it never writes a bare
 * CR or LF out (a CR is held back until its LF is seen), so postern
 * cannot emit `<CR>.<CR><LF>` or any other lenient terminator
 * (invariant 2).  A file that changed between scan and send is cut like
 * one that changed size.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "body.h"
#include "bufio.h"
#include "crlfcheck.h"

#define CHUNK 16384

/* Start at the beginning of a line. */
void dot_init(struct dotstuff *d)
{
	memset(d, 0, sizeof(*d));
	d->bol = 1;
}

/* Stuff a chunk (see body.h). */
int dot_stuff(struct dotstuff *d, const unsigned char *in, size_t n, unsigned char *out,
              size_t cap, size_t *outlen)
{
	size_t o = 0;

	*outlen = 0;
	if (d->bad || cap / 2 < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = in[i];

		if (b == '\0' || (d->cr ? b != '\n' : b == '\n')) {
			d->bad = 1;
			return -1;
		}
		if (b == '\r') {
			d->cr = 1;	/* held back until its LF */
			continue;
		}
		if (d->cr)
			out[o++] = '\r';
		d->cr = 0;
		if (d->bol && b == '.')
			out[o++] = '.';
		out[o++] = b;
		d->bol = b == '\n';
	}
	*outlen = o;
	return 0;
}

/* The terminator (see body.h). */
const char *dot_end(const struct dotstuff *d, size_t *n)
{
	if (d->bad || d->cr)
		return NULL;
	if (d->bol) {
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

/* Size, 8-bit and line-end scan (see body.h). */
int body_scan(int fd, const struct bytes *header, uint64_t *size, int *eightbit)
{
	static unsigned char buf[CHUNK];
	struct crlfcheck lc;
	struct stat st;
	uint64_t off = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0)
		return -1;
	*size = (uint64_t)st.st_size;
	*eightbit = has_8bit(header->p, header->n);
	crlf_init(&lc);
	crlf_feed(&lc, header->p, header->n);
	while (off < *size) {
		size_t want = *size - off < CHUNK ? (size_t)(*size - off) : CHUNK;
		ssize_t r = pread(fd, buf, want, (off_t)off);

		if (r <= 0)
			return -1;
		*eightbit = *eightbit || has_8bit(buf, (size_t)r);
		crlf_feed(&lc, buf, (size_t)r);
		off += (uint64_t)r;
	}
	/* No final CRLF is fine: dot_end adds one. */
	return crlf_finish(&lc) & (CRLF_BARE | CRLF_NUL) ? BODY_BAD_LINE_ENDS : 0;
}

/* Stuff and send one piece. */
static enum conn_status put_piece(struct conn *c, struct dotstuff *d, const unsigned char *p,
                                  size_t n, int64_t block_ms)
{
	static unsigned char out[2 * CHUNK];

	while (n > 0) {
		size_t k = n < CHUNK ? n : CHUNK;
		size_t o;

		if (dot_stuff(d, p, k, out, sizeof(out), &o) != 0) {
			c->why = "message-changed";	/* body_scan found it clean */
			return CONN_NET;
		}
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
	if (end == NULL) {
		c->why = "message-changed";
		return CONN_NET;
	}
	if (conn_put(c, end, en, clock_ms() + block_ms) != CONN_OK ||
	    conn_flush(c, clock_ms() + block_ms) != CONN_OK)
		return CONN_NET;
	return CONN_OK;
}
