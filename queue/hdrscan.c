/*
 * hdrscan.c — collecting and walking the header section (hdrscan.h).
 * postern-queued, in the sandbox; input is the message as smtpd streamed
 * it (untrusted).  Lines end in CRLF: smtpd refuses bare CR/LF, and so
 * does queued over the whole message (qdata.c, lib/crlfcheck.h); a field
 * is "name:" followed by continuation lines that start with SP or HT
 * (RFC 5322 §2.2.3).  A line without a colon ends nothing and is skipped:
 * we only look for the fields we need.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hdrscan.h"

/* Start collecting. */
int hdrscan_begin(struct hdrscan *h)
{
	memset(h, 0, sizeof *h);
	h->buf = malloc(HDRSCAN_MAX);
	return h->buf ? 0 : -1;
}

/* Release. */
void hdrscan_end(struct hdrscan *h)
{
	free(h->buf);
	memset(h, 0, sizeof *h);
}

/* Offset just after the first "\r\n\r\n" (or leading "\r\n") in buf, or 0. */
static size_t header_end(const unsigned char *b, size_t len, size_t from)
{
	if (len >= 2 && b[0] == '\r' && b[1] == '\n')
		return 2;	/* no header fields at all */
	for (size_t i = from; i + 4 <= len; i++)
		if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
			return i + 4;
	return 0;
}

/* Append bytes until the end of the header section. */
void hdrscan_feed(struct hdrscan *h, const unsigned char *p, size_t n)
{
	size_t room, take, from, end;

	if (h->done || h->buf == NULL)
		return;
	room = HDRSCAN_MAX - h->len;
	take = n < room ? n : room;
	from = h->len >= 3 ? h->len - 3 : 0;
	memcpy(h->buf + h->len, p, take);
	h->len += take;
	end = header_end(h->buf, h->len, from);
	if (end > 0) {
		h->len = end;
		h->done = 1;
	} else if (h->len == HDRSCAN_MAX) {
		h->overflow = 1;
		h->done = 1;
	}
}

/* Length of the line at b[0..len) including its CRLF (or to the end). */
static size_t line_len(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (b[i] == '\r' && b[i + 1] == '\n')
			return i + 2;
	return len;
}

/* Unfold the field starting at b (its first line included) into out. */
static size_t unfold(const unsigned char *b, size_t len, size_t start, size_t *used,
                     unsigned char *out, size_t cap)
{
	size_t off = 0, o = 0, first = 1;

	while (off < len && (first || b[off] == ' ' || b[off] == '\t')) {
		size_t l = line_len(b + off, len - off);
		size_t body = l >= 2 && b[off + l - 2] == '\r' ? l - 2 : l;
		size_t skip = first ? start : 0;

		for (size_t i = skip; i < body && o < cap; i++)
			out[o++] = b[off + i];
		off += l;
		first = 0;
	}
	*used = off;
	return o;
}

/* Walk the fields named name (see hdrscan.h). */
int hdrscan_fields(const struct hdrscan *h, const char *name, hdr_field_fn fn, void *ctx,
                   unsigned char *scratch, size_t cap)
{
	size_t off = 0, nlen = strlen(name);
	int count = 0;

	while (h->buf != NULL && off < h->len) {
		const unsigned char *b = h->buf + off;
		size_t rest = h->len - off, l = line_len(b, rest), k = 0, used;

		if (l <= 2)
			break;	/* the empty line: end of the header section */
		while (k < l && b[k] != ':' && b[k] != ' ' && b[k] != '\t' && b[k] != '\r')
			k++;
		size_t colon = k;
		while (colon < l && (b[colon] == ' ' || b[colon] == '\t'))
			colon++;	/* obs-optional WSP before ':' (RFC 5322 §4.5) */
		if (k == nlen && colon < l && b[colon] == ':' &&
		    strncasecmp((const char *)b, name, nlen) == 0) {
			size_t n = unfold(b, rest, colon + 1, &used, scratch, cap);

			count++;
			if (fn != NULL && fn(ctx, name, scratch, n) != 0)
				return -1;
			off += used;
			continue;
		}
		off += l;
	}
	return count;
}
