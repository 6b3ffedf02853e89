/*
 * dsn_text.c — 7-bit safe text for delivery status notifications
 * (dsn_text.h).  postern-queued, in its sandbox; pure (unit-tested in
 * tests/unit/test_queue_bounce.c).  Every input is treated as hostile:
 * envelope fields came from a possibly compromised smtpd, reply text from
 * a remote server.  Failure policy: what cannot be made safe is replaced
 * ('?') or refused (0), never copied raw.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dsn_text.h"

/* A small bounded writer over dst[cap]. */
struct tw {
	char *p;
	size_t cap, len;
	int full;
};

/* Append one byte (keeps room for the NUL). */
static void tw_c(struct tw *w, char c)
{
	if (w->len + 1 >= w->cap) {
		w->full = 1;
		return;
	}
	w->p[w->len++] = c;
	w->p[w->len] = '\0';
}

/* Append a string. */
static void tw_s(struct tw *w, const char *s)
{
	while (*s)
		tw_c(w, *s++);
}

/* Start writing into dst. */
static void tw_init(struct tw *w, char *dst, size_t cap)
{
	w->p = dst;
	w->cap = cap;
	w->len = 0;
	w->full = cap == 0;
	if (cap > 0)
		dst[0] = '\0';
}

/* Printable-ASCII copy (see dsn_text.h). */
size_t dsn_safe(char *dst, size_t cap, const void *s, size_t n, size_t max)
{
	const unsigned char *b = s;
	struct tw w;

	tw_init(&w, dst, cap);
	for (size_t i = 0; i < n && i < max && !w.full; i++)
		tw_c(&w, (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '?');
	return w.len;
}

/* Decode one UTF-8 sequence at b[0..n): the code point and its length;
 * an invalid, over-long or surrogate sequence is U+FFFD of length 1. */
static uint32_t utf8_next(const unsigned char *b, size_t n, size_t *used)
{
	uint32_t cp;
	size_t k;

	*used = 1;
	if (b[0] < 0x80)
		return b[0];
	if (b[0] >= 0xc2 && b[0] <= 0xdf)
		k = 1, cp = b[0] & 0x1f;
	else if (b[0] >= 0xe0 && b[0] <= 0xef)
		k = 2, cp = b[0] & 0x0f;
	else if (b[0] >= 0xf0 && b[0] <= 0xf4)
		k = 3, cp = b[0] & 0x07;
	else
		return 0xfffd;
	if (n < k + 1)
		return 0xfffd;
	for (size_t i = 1; i <= k; i++) {
		if ((b[i] & 0xc0) != 0x80)
			return 0xfffd;
		cp = (cp << 6) | (b[i] & 0x3f);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0xfffd;
	*used = k + 1;
	return cp;
}

/* 1 if a[0..n) is printable ASCII without space. */
static int plain_ascii(const unsigned char *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] < 0x21 || a[i] > 0x7e)
			return 0;
	return 1;
}

/* An address for Final-Recipient and the text part (see dsn_text.h). */
size_t dsn_addr(char *dst, size_t cap, const void *a, size_t n)
{
	const unsigned char *b = a;
	struct tw w;

	tw_init(&w, dst, cap);
	if (n == 0)
		return 0;
	if (plain_ascii(b, n)) {
		tw_s(&w, "rfc822;");
		for (size_t i = 0; i < n; i++)
			tw_c(&w, (char)b[i]);
		return w.full ? 0 : w.len;
	}
	/* RFC 6533 §3: QCHAR = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e. */
	tw_s(&w, "utf-8;");
	for (size_t i = 0; i < n && !w.full;) {
		size_t used;
		uint32_t cp = utf8_next(b + i, n - i, &used);
		char hex[16];

		i += used;
		if (cp >= 0x21 && cp <= 0x7e && cp != '+' && cp != '=' && cp != '\\') {
			tw_c(&w, (char)cp);
			continue;
		}
		snprintf(hex, sizeof hex, "\\x{%02X}", (unsigned)cp);
		tw_s(&w, hex);
	}
	return w.full ? 0 : w.len;
}

/* Value of an uppercase hex digit, or -1 (RFC 3461 §4: "+" 2HEXCHAR). */
static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode xtext into w; 0, or -1 if malformed or not printable ASCII. */
static int xtext_decode(struct tw *w, const unsigned char *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = x[i];

		if (c == '+') {
			int h = i + 2 < n ? hexval(x[i + 1]) : -1;
			int l = i + 2 < n ? hexval(x[i + 2]) : -1;

			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		} else if (c < 0x21 || c > 0x7e || c == '=') {
			return -1;
		}
		if (c < 0x20 || c > 0x7e)
			return -1;
		tw_c(w, (char)c);
	}
	return w->full ? -1 : 0;
}

/* ENVID / ORCPT address for the report (see dsn_text.h). */
size_t dsn_xtext(char *dst, size_t cap, const void *x, size_t n)
{
	struct tw w;

	tw_init(&w, dst, cap);
	if (xtext_decode(&w, x, n) == 0)
		return w.len;
	tw_init(&w, dst, cap);
	for (size_t i = 0; i < n && !w.full; i++) {
		unsigned char c = ((const unsigned char *)x)[i];

		tw_c(&w, (c >= 0x21 && c <= 0x7e) ? (char)c : '?');
	}
	return w.len;
}

/* ORCPT for Original-Recipient (see dsn_text.h). */
size_t dsn_orcpt(char *dst, size_t cap, const void *o, size_t n)
{
	const unsigned char *b = o;
	const unsigned char *semi = memchr(b, ';', n);
	size_t t = semi ? (size_t)(semi - b) : 0;

	if (semi == NULL || t == 0 || t + 1 >= cap)
		return 0;
	for (size_t i = 0; i < t; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') ||
		      (b[i] >= '0' && b[i] <= '9') || b[i] == '-'))
			return 0;
	memcpy(dst, b, t + 1);
	return t + 1 + dsn_xtext(dst + t + 1, cap - t - 1, b + t + 1, n - t - 1);
}

/* 1..3 digits at *s, advancing it; 0 if none or too many. */
static int digits(const char **s)
{
	int k = 0;

	while (**s >= '0' && **s <= '9' && k < 4) {
		(*s)++;
		k++;
	}
	return k >= 1 && k <= 3;
}

/* RFC 3463 status (see dsn_text.h). */
int dsn_status_ok(const char *s)
{
	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	s += 2;
	if (!digits(&s) || *s++ != '.' || !digits(&s))
		return 0;
	return *s == '\0';
}

/* Host name for Remote-MTA / Reporting-MTA (see dsn_text.h). */
int dsn_host_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'))
			return 0;
	}
	return 1;
}

/* RFC 5322 date-time (see dsn_text.h). */
size_t dsn_date(char *dst, size_t cap, time_t t)
{
	struct tm tm;

	if (cap == 0 || localtime_r(&t, &tm) == NULL)
		return 0;
	return strftime(dst, cap, "%a, %d %b %Y %H:%M:%S %z", &tm);
}
