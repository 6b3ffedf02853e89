/*
 * netstring.c — parsing and building the netstring frames of every postern
 * channel (see netstring.h for the grammar).  Used by every process; it
 * touches no descriptor.
 *
 * Grammar: frame = len ":" payload "," with len = "0" / (%x31-39 *DIGIT),
 * payload = *field, field = netstring.  The length is capped as its digits
 * arrive, so a hostile peer cannot make a receiver wait for (or buffer) a
 * payload longer than it agreed to take.  Failure policy: the parser says
 * NS_BAD, the readers become "failed" for good; the caller closes the
 * channel.
 */
#include <string.h>

#include "decimal.h"
#include "netstring.h"

/* Number of decimal digits of v. */
static size_t dec_width(uint64_t v)
{
	char tmp[U64_DEC_MAX];

	return u64_to_dec(tmp, sizeof tmp, v);
}

/* Read the length prefix "<digits>:"; NS_OK sets *n and *hdr (bytes up to
 * and including ':'). */
static enum ns_result parse_len(const unsigned char *buf, size_t len, size_t cap,
                                size_t *n, size_t *hdr)
{
	size_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = buf[i];

		if (c == ':')
			break;
		if (c < '0' || c > '9')
			return NS_BAD;
		/* "0" is the only length that may start with a zero. */
		if (i == 1 && buf[0] == '0')
			return NS_BAD;
		/* Over the cap: decided now, before any payload arrives. */
		if (v > cap / 10 || (size_t)(c - '0') > cap - v * 10)
			return NS_BAD;
		v = v * 10 + (size_t)(c - '0');
	}
	if (i == len)
		return NS_MORE;
	if (i == 0)
		return NS_BAD;	/* empty length */
	*n = v;
	*hdr = i + 1;
	return NS_OK;
}

/* Parse one netstring at the start of buf (see netstring.h). */
enum ns_result netstring_parse(const unsigned char *buf, size_t len, size_t cap,
                               const unsigned char **payload, size_t *plen,
                               size_t *used)
{
	size_t n = 0, hdr = 0;
	enum ns_result r = parse_len(buf, len, cap, &n, &hdr);

	if (r != NS_OK)
		return r;
	/* hdr <= len, so the comparison cannot overflow. */
	if (len - hdr < n || len - hdr - n < 1)
		return NS_MORE;
	if (buf[hdr + n] != ',')
		return NS_BAD;
	*payload = buf + hdr;
	*plen = n;
	*used = hdr + n + 1;
	return NS_OK;
}

/* Start reading the fields of a frame payload. */
void fr_init(struct frame_reader *r, const unsigned char *payload, size_t len)
{
	r->p = payload;
	r->len = len;
	r->off = 0;
	r->failed = 0;
}

/* Look at the next field without consuming it; -1 marks the reader failed. */
static int fr_peek(struct frame_reader *r, const unsigned char **p, size_t *n,
                   size_t *used)
{
	size_t left;

	if (r->failed)
		return -1;
	left = r->len - r->off;
	/* Inside a complete frame a partial field is as bad as a broken one. */
	if (netstring_parse(r->p + r->off, left, left, p, n, used) != NS_OK) {
		r->failed = 1;
		return -1;
	}
	return 0;
}

/* Next field as bytes (no copy); fails if longer than max. */
int fr_bytes(struct frame_reader *r, const unsigned char **p, size_t *n, size_t max)
{
	const unsigned char *fp;
	size_t fn, used;

	*p = NULL;
	*n = 0;
	if (fr_peek(r, &fp, &fn, &used) < 0)
		return -1;
	if (fn > max) {
		r->failed = 1;
		return -1;
	}
	r->off += used;
	*p = fp;
	*n = fn;
	return 0;
}

/* Next field copied into out[cap], NUL-terminated; no embedded NUL. */
int fr_str(struct frame_reader *r, char *out, size_t cap)
{
	const unsigned char *p;
	size_t n;

	if (cap > 0)
		out[0] = '\0';
	if (cap == 0 || fr_bytes(r, &p, &n, cap - 1) < 0) {
		r->failed = 1;
		return -1;
	}
	if (n > 0 && memchr(p, '\0', n) != NULL) {
		r->failed = 1;
		return -1;
	}
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Next field as a decimal number <= max: digits only, no leading zero. */
int fr_u64(struct frame_reader *r, uint64_t *v, uint64_t max)
{
	const unsigned char *p;
	size_t n;
	uint64_t x = 0;

	*v = 0;
	if (fr_bytes(r, &p, &n, 20) < 0)
		return -1;
	if (n == 0 || (n > 1 && p[0] == '0'))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)p[i] - '0';

		if (d > 9 || x > max / 10 || d > max - x * 10)
			goto bad;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
bad:
	r->failed = 1;
	return -1;
}

/* 1 if the next field is word (consumed), 0 if not, -1 if failed. */
int fr_is(struct frame_reader *r, const char *word)
{
	const unsigned char *p;
	size_t n, used;
	size_t wl = strlen(word);

	if (fr_peek(r, &p, &n, &used) < 0)
		return -1;
	if (n != wl || (n > 0 && memcmp(p, word, n) != 0))
		return 0;
	r->off += used;
	return 1;
}

/* One packet that is exactly one frame, with a verb of a list (see
 * netstring.h). */
int fr_packet(struct frame_reader *r, const unsigned char *pkt, size_t n, size_t cap,
              const char *const *verbs, int nverbs)
{
	const unsigned char *payload;
	size_t plen, used;

	if (netstring_parse(pkt, n, cap, &payload, &plen, &used) != NS_OK || used != n)
		return -1;
	fr_init(r, payload, plen);
	return fr_verb(r, verbs, nverbs);
}

/* The verb of a list (see netstring.h). */
int fr_verb(struct frame_reader *r, const char *const *verbs, int nverbs)
{
	for (int v = 0; v < nverbs; v++) {
		int is = fr_is(r, verbs[v]);

		if (is != 0)
			return is == 1 ? v : -1;
	}
	return -1;
}

/* 0 if the whole payload was read and nothing failed. */
int fr_end(struct frame_reader *r)
{
	if (r->failed || r->off != r->len) {
		r->failed = 1;
		return -1;
	}
	return 0;
}

/* Bytes kept free at the start of buf for the outer "<len>:". */
static size_t fw_reserve(const struct frame_writer *w)
{
	return dec_width(w->cap) + 1;
}

/* Start a frame in buf[cap]. */
void fw_init(struct frame_writer *w, unsigned char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->failed = 0;
	/* Room for the header, "0:" payload at least, and the final ','. */
	if (cap < fw_reserve(w) + 1)
		w->failed = 1;
}

/* Append one field "<n>:<bytes>,". */
void fw_bytes(struct frame_writer *w, const void *p, size_t n)
{
	char dig[U64_DEC_MAX];
	size_t dl, room, need;
	unsigned char *out;

	if (w->failed)
		return;
	dl = u64_to_dec(dig, sizeof dig, n);
	/* Free bytes after the payload so far, keeping one for the outer ','. */
	room = w->cap - fw_reserve(w) - 1 - w->len;
	if (n > room || dl + 2 > room - n) {
		w->failed = 1;
		return;
	}
	need = dl + 1 + n + 1;
	out = w->buf + fw_reserve(w) + w->len;
	memcpy(out, dig, dl);
	out[dl] = ':';
	if (n > 0)
		memcpy(out + dl + 1, p, n);
	out[dl + 1 + n] = ',';
	w->len += need;
}

/* Append a NUL-terminated string as one field. */
void fw_str(struct frame_writer *w, const char *s)
{
	fw_bytes(w, s, strlen(s));
}

/* Append a decimal number as one field. */
void fw_u64(struct frame_writer *w, uint64_t v)
{
	char dig[U64_DEC_MAX];
	size_t n = u64_to_dec(dig, sizeof dig, v);

	fw_bytes(w, dig, n);
}

/* Put the outer header right before the payload; returns the frame. */
const unsigned char *fw_finish(struct frame_writer *w, size_t *n)
{
	char dig[U64_DEC_MAX];
	size_t res, dl, start;

	*n = 0;
	if (w->failed)
		return NULL;
	res = fw_reserve(w);
	dl = u64_to_dec(dig, sizeof dig, w->len);
	/* dl < res because len < cap; the header ends exactly at the payload. */
	start = res - (dl + 1);
	memcpy(w->buf + start, dig, dl);
	w->buf[start + dl] = ':';
	w->buf[res + w->len] = ',';
	*n = dl + 1 + w->len + 1;
	return w->buf + start;
}
