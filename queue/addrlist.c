/*
 * addrlist.c — splitting an address-list field body (addrlist.h).
 * postern-queued, in the sandbox, over untrusted header bytes.  A small
 * state machine over the bytes: quoted strings and backslash escapes
 * (RFC 5322 §3.2.4), nested comments (§3.2.2), angle brackets; only
 * top-level ',' ':' ';' '<' '>' have meaning.  Returns -1 for anything it
 * cannot read with certainty (fail closed), or -2 if fn refused an
 * address.
 */
#include <string.h>

#include "addrlist.h"

struct element {
	char text[ADDRLIST_ADDR_MAX + 1];	/* outside comments and brackets */
	size_t tlen;
	char angle[ADDRLIST_ADDR_MAX + 1];	/* inside <> */
	size_t alen;
	int had_angle, in_angle, closed_angle;
};

/* Append c to buf[cap+1] at *len; -1 when full. */
static int put(char *buf, size_t *len, char c)
{
	if (*len >= ADDRLIST_ADDR_MAX)
		return -1;
	buf[(*len)++] = c;
	buf[*len] = '\0';
	return 0;
}

/* Trim blanks at both ends of buf[*len] in place; returns the start. */
static const char *trim(char *buf, size_t *len)
{
	size_t s = 0, e = *len;

	while (s < e && (buf[s] == ' ' || buf[s] == '\t'))
		s++;
	while (e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\t'))
		e--;
	*len = e - s;
	return buf + s;
}

/* Finish one element: hand its address to fn.  0 empty, 1 given, <0 error. */
static int flush(struct element *el, addr_fn fn, void *ctx)
{
	const char *a;
	size_t n;
	int r;

	if (el->in_angle)
		return -1;
	if (el->had_angle) {
		n = el->alen;
		a = trim(el->angle, &n);
		if (n == 0)
			return -1;
	} else {
		n = el->tlen;
		a = trim(el->text, &n);
		if (n == 0) {
			memset(el, 0, sizeof *el);
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] == ' ' || a[i] == '\t')
			return -1;	/* "John Smith" with no address */
	r = fn(ctx, a, n);
	memset(el, 0, sizeof *el);
	return r != 0 ? -2 : 1;
}

/* The target buffer for a byte at top level or inside <>. */
static int put_el(struct element *el, char c)
{
	if (el->in_angle)
		return put(el->angle, &el->alen, c);
	if (el->closed_angle)
		return c == ' ' || c == '\t' ? 0 : -1;	/* text after <addr> */
	return put(el->text, &el->tlen, c);
}

/* Split and hand over every address (see addrlist.h). */
int addrlist_parse(const unsigned char *p, size_t n, addr_fn fn, void *ctx)
{
	static struct element el;
	int depth = 0, quoted = 0, count = 0, r;

	memset(&el, 0, sizeof el);
	for (size_t i = 0; i < n; i++) {
		char c = (char)p[i];

		if (c == '\\' && (quoted || depth > 0)) {
			if (++i >= n)
				return -1;
			if (depth == 0 && (put_el(&el, '\\') < 0 || put_el(&el, (char)p[i]) < 0))
				return -1;
			continue;
		}
		if (depth > 0) {
			depth += c == '(' ? 1 : c == ')' ? -1 : 0;
			continue;
		}
		if (quoted) {
			quoted = c != '"';
			if (put_el(&el, c) < 0)
				return -1;
			continue;
		}
		switch (c) {
		case '(':
			depth = 1;
			break;
		case '"':
			quoted = 1;
			if (put_el(&el, c) < 0)
				return -1;
			break;
		case '<':
			if (el.had_angle)
				return -1;
			el.had_angle = el.in_angle = 1;
			break;
		case '>':
			if (!el.in_angle)
				return -1;
			el.in_angle = 0;
			el.closed_angle = 1;
			break;
		case ':':
			if (el.in_angle || el.had_angle)
				return -1;
			el.tlen = 0;	/* a group's display name */
			break;
		case ',':
		case ';':
			if (el.in_angle)
				return -1;
			r = flush(&el, fn, ctx);
			if (r < 0)
				return r;
			count += r;
			break;
		default:
			if ((unsigned char)c < 0x20 && c != '\t')
				return -1;
			if (put_el(&el, c) < 0)
				return -1;
		}
		if (count > ADDRLIST_MAX)
			return -1;
	}
	if (depth > 0 || quoted)
		return -1;
	r = flush(&el, fn, ctx);
	if (r < 0)
		return r;
	count += r;
	return count > 0 && count <= ADDRLIST_MAX ? count : -1;
}
