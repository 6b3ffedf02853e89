/*
 * bounce_orig.c — the original message's side of a report (bounce_orig.h).
 * postern-queued, in its sandbox: pread on the message descriptor, then
 * the sink.  The message bytes are the client's (dot-unstuffed, checked
 * for bare CR/LF by smtpd) but are still read as hostile: nothing from
 * them reaches the report unless it is 7-bit text in lines of at most
 * 998 octets (RFC 5322 §2.1.1, RFC 2045 §2.7), or was made so here.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bounce_orig.h"
#include "readfull.h"

#define CHUNK 65536

/* One read buffer for scan, search and copy (never active at once). */
static unsigned char buf[CHUNK];

/* Read the next chunk (at most CHUNK bytes) of a file that must hold len
 * bytes, from off < len, into buf: the bytes read, or -1 (errno EIO when
 * the file ended early: it shrank under us). */
static ssize_t read_chunk(int fd, uint64_t len, uint64_t off)
{
	uint64_t want = len - off < CHUNK ? len - off : CHUNK;
	ssize_t r = pread_full(fd, buf, (size_t)want, off);

	if (r >= 0 && (uint64_t)r < want) {
		errno = EIO;
		return -1;
	}
	return r;
}

/* The scan's per-byte state. */
struct scan {
	uint64_t off, line_start, last_lf, last_lf_hdrs, hdr_len;
	size_t line_len;
	int prev_cr, clean, hdr_found;
};

/* One byte of the scan (see orig_scan). */
static void scan_byte(struct scan *s, unsigned char c)
{
	if (s->prev_cr && c != '\n')
		s->clean = 0;		/* bare CR */
	if (c == '\n') {
		if (!s->prev_cr)
			s->clean = 0;	/* bare LF */
		if (s->line_len == 0 && !s->hdr_found) {
			s->hdr_found = 1;
			s->hdr_len = s->line_start;
		}
		s->line_start = s->off + 1;
		s->last_lf = s->off + 1;
		if (s->off + 1 <= BOUNCE_HDRS_MAX)
			s->last_lf_hdrs = s->off + 1;
		s->line_len = 0;
	} else if (c != '\r') {
		if (++s->line_len > BOUNCE_LINE_MAX || c == 0 || c >= 0x80)
			s->clean = 0;
	}
	s->prev_cr = c == '\r';
	s->off++;
}

/* Scan (see bounce_orig.h). */
int orig_scan(int fd, uint64_t limit, struct orig_info *o)
{
	struct scan s = { .clean = 1 };
	int eof = 0;

	while (s.off < limit) {
		uint64_t want = limit - s.off < CHUNK ? limit - s.off : CHUNK;
		ssize_t r = pread_full(fd, buf, (size_t)want, s.off);

		if (r < 0)
			return -1;
		for (ssize_t i = 0; i < r; i++)
			scan_byte(&s, buf[i]);
		if ((uint64_t)r < want) {
			eof = 1;
			break;
		}
	}
	if (!eof && s.off == limit) {
		unsigned char one;
		ssize_t r = pread_full(fd, &one, 1, s.off);

		if (r < 0)
			return -1;
		eof = r == 0;
	}
	o->size = s.off;
	o->hdr_take = s.hdr_found && s.hdr_len <= BOUNCE_HDRS_MAX ? s.hdr_len : s.last_lf_hdrs;
	o->full_ok = eof && s.clean && s.off > 0 && s.last_lf == s.off;
	return 0;
}

/* Search (see bounce_orig.h); chunks overlap by the needle's length. */
int orig_has(int fd, uint64_t len, const char *needle)
{
	size_t k = strlen(needle);
	uint64_t off = 0;

	if (k == 0 || k >= CHUNK / 2)
		return -1;
	while (off < len) {
		ssize_t r = read_chunk(fd, len, off);

		if (r < 0)
			return -1;
		if (memmem(buf, (size_t)r, needle, k) != NULL)
			return 1;
		if (off + (uint64_t)r >= len)
			break;
		off += (uint64_t)r - (k - 1);
	}
	return 0;
}

/* A buffered writer to the sink with the line fixer's state. */
struct fixer {
	const struct bounce_sink *s;
	unsigned char out[8192];
	size_t len, col;
	int cr, err;
};

/* Flush the buffer. */
static void fx_flush(struct fixer *f)
{
	if (f->len > 0 && !f->err && f->s->write(f->s->ctx, f->out, f->len) != 0)
		f->err = errno ? errno : EIO;
	f->len = 0;
}

/* Queue one output byte. */
static void fx_put(struct fixer *f, unsigned char c)
{
	if (f->len == sizeof f->out)
		fx_flush(f);
	f->out[f->len++] = c;
}

/* One input byte made safe: CR LF ends a line, anything else non-printable
 * (a lone CR, 8-bit, NUL) is '?', a line stops at BOUNCE_LINE_MAX. */
static void fx_byte(struct fixer *f, unsigned char c)
{
	if (c == '\n') {
		fx_put(f, '\r');
		fx_put(f, '\n');
		f->col = 0;
		f->cr = 0;
		return;
	}
	if (f->cr && f->col < BOUNCE_LINE_MAX) {
		fx_put(f, '?');
		f->col++;
	}
	f->cr = c == '\r';
	if (f->cr)
		return;
	if (f->col < BOUNCE_LINE_MAX) {
		fx_put(f, (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '?');
		f->col++;
	}
}

/* End of input: an unfinished line is ended. */
static int fx_end(struct fixer *f)
{
	if (f->cr && f->col < BOUNCE_LINE_MAX) {
		fx_put(f, '?');
		f->col++;
	}
	if (f->col > 0) {
		fx_put(f, '\r');
		fx_put(f, '\n');
	}
	fx_flush(f);
	if (f->err) {
		errno = f->err;
		return -1;
	}
	return 0;
}

/* Copy (see bounce_orig.h). */
int orig_copy(int fd, uint64_t len, int fix, const struct bounce_sink *s)
{
	struct fixer f = { .s = s };
	uint64_t off = 0;

	while (off < len) {
		ssize_t r = read_chunk(fd, len, off);

		if (r < 0)
			return -1;
		if (fix) {
			for (ssize_t i = 0; i < r; i++)
				fx_byte(&f, buf[i]);
			if (f.err)
				break;
		} else if (s->write(s->ctx, buf, (size_t)r) != 0) {
			return -1;
		}
		off += (uint64_t)r;
	}
	return fix ? fx_end(&f) : 0;
}

/* Copy a buffer made safe (see bounce_orig.h). */
int text_copy_safe(const void *p, size_t n, const struct bounce_sink *s)
{
	struct fixer f = { .s = s };
	const unsigned char *b = p;

	for (size_t i = 0; i < n && !f.err; i++)
		fx_byte(&f, b[i]);
	return fx_end(&f);
}
