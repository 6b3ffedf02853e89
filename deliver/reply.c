/*
 * reply.c — the SMTP reply parser of postern-deliver (grammar and limits
 * in reply.h).  Runs inside the sandbox on bytes from the remote server;
 * pure, so it is fuzzed as is (fuzz/fuzz_deliver_reply.c).  Failure
 * policy: anything outside the grammar or the caps is REPLY_BAD, and the
 * caller treats the server as misbehaving.
 */
#include <string.h>
#include <strings.h>

#include "reply.h"

/* Start reading a reply. */
void reply_init(struct smtp_reply *r, struct ehlo_caps *caps)
{
	memset(r, 0, sizeof(*r));
	r->caps = caps;
	if (caps != NULL)
		memset(caps, 0, sizeof(*caps));
}

/* Cut the first line off buf (see reply.h). */
int reply_take_line(const unsigned char *buf, size_t len, size_t *linelen, size_t *used)
{
	size_t lim = len < REPLY_LINE_MAX ? len : REPLY_LINE_MAX;
	const unsigned char *lf = memchr(buf, '\n', lim);
	size_t n;

	if (lf == NULL)
		return len < REPLY_LINE_MAX ? 0 : -1;
	n = (size_t)(lf - buf);
	*used = n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*linelen = n;
	return 1;
}

/* Printable-ASCII copy (see reply.h). */
size_t reply_sanitize(char *dst, size_t cap, const void *src, size_t n)
{
	const unsigned char *s = src;
	size_t i;

	if (cap == 0)
		return 0;
	for (i = 0; i < n && i + 1 < cap; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = '\0';
	return i;
}

/* Append sanitized text to r->text, one space between lines. */
static void add_text(struct smtp_reply *r, const unsigned char *p, size_t n)
{
	size_t room = REPLY_TEXT_MAX - r->textlen;

	if (r->textlen > 0 && room > 0 && n > 0) {
		r->text[r->textlen++] = ' ';
		room--;
	}
	r->textlen += reply_sanitize(r->text + r->textlen, room + 1, p, n);
}

/* 1..3 digits at p[0..n): their count, else 0. */
static size_t digits(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n && i < 4 && p[i] >= '0' && p[i] <= '9')
		i++;
	return (i >= 1 && i <= 3) ? i : 0;
}

/* Enhanced status "c.ddd.ddd" (RFC 3463) at the start of p: its length
 * (followed by a space or the end), else 0. */
static size_t enhanced(const unsigned char *p, size_t n)
{
	size_t a, b, off;

	if (n < 5 || p[0] < '2' || p[0] > '5' || p[1] != '.')
		return 0;
	off = 2;
	a = digits(p + off, n - off);
	if (a == 0 || off + a >= n || p[off + a] != '.')
		return 0;
	off += a + 1;
	b = digits(p + off, n - off);
	if (b == 0)
		return 0;
	off += b;
	return (off == n || p[off] == ' ') ? off : 0;
}

/* Case-insensitive: does text start with the keyword kw, ending there or
 * at a space (or '=' for the pre-standard "AUTH=")? */
static int keyword(const unsigned char *t, size_t n, const char *kw)
{
	size_t k = strlen(kw);

	return n >= k && strncasecmp((const char *)t, kw, k) == 0 &&
	       (n == k || t[k] == ' ' || t[k] == '=');
}

/* SIZE's argument: decimal, at most 18 digits; 0 if absent or bad. */
static uint64_t size_arg(const unsigned char *t, size_t n)
{
	uint64_t v = 0;
	size_t i = 5, d = 0;

	for (; i < n && t[i] >= '0' && t[i] <= '9' && d < 18; i++, d++)
		v = v * 10 + (uint64_t)(t[i] - '0');
	return i == n ? v : 0;
}

/* Does the AUTH line's mechanism list name mech (a whole word)? */
static int has_mech(const unsigned char *t, size_t n, const char *mech)
{
	size_t m = strlen(mech), i = 5;

	while (i < n) {
		size_t j = i;

		while (j < n && t[j] != ' ')
			j++;
		if (j - i == m && strncasecmp((const char *)t + i, mech, m) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* One EHLO keyword line (line 2 and later of the EHLO reply). */
static void ehlo_line(struct ehlo_caps *c, const unsigned char *t, size_t n)
{
	if (keyword(t, n, "PIPELINING"))
		c->pipelining = 1;
	else if (keyword(t, n, "8BITMIME"))
		c->eightbit = 1;
	else if (keyword(t, n, "SMTPUTF8"))
		c->smtputf8 = 1;
	else if (keyword(t, n, "DSN"))
		c->dsn = 1;
	else if (keyword(t, n, "STARTTLS"))
		c->starttls = 1;
	else if (keyword(t, n, "SIZE")) {
		c->size_given = 1;
		c->size = n > 5 ? size_arg(t, n) : 0;
	} else if (keyword(t, n, "AUTH")) {
		c->auth_plain |= has_mech(t, n, "PLAIN");
		c->auth_login |= has_mech(t, n, "LOGIN");
	}
}

/* Feed one line of a reply (see reply.h). */
enum reply_state reply_feed_line(struct smtp_reply *r, const unsigned char *line, size_t n)
{
	int code, last;
	const unsigned char *t;
	size_t tn;

	if (r->done || n < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '5' || line[2] < '0' || line[2] > '9')
		return REPLY_BAD;
	if (n > 3 && line[3] != '-' && line[3] != ' ')
		return REPLY_BAD;
	r->total += n + 2;
	if (r->total > REPLY_TOTAL_MAX)
		return REPLY_BAD;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->lines > 0 && code != r->code)
		return REPLY_BAD;
	r->code = code;
	last = (n == 3 || line[3] == ' ');
	t = n > 4 ? line + 4 : line + n;
	tn = n > 4 ? n - 4 : 0;
	if (r->lines == 0) {
		size_t e = enhanced(t, tn);

		if (e > 0 && (size_t)(t[0] - '0') == (size_t)(code / 100) && e < REPLY_STATUS_MAX)
			reply_sanitize(r->status, e + 1, t, e);
	} else if (r->caps != NULL) {
		ehlo_line(r->caps, t, tn);
	}
	add_text(r, t, tn);
	r->lines++;
	if (last) {
		r->done = 1;
		return REPLY_DONE;
	}
	return REPLY_MORE;
}

/* The status to report (see reply.h). */
const char *reply_status(const struct smtp_reply *r, char out[REPLY_STATUS_MAX])
{
	if (r->status[0] != '\0') {
		memcpy(out, r->status, REPLY_STATUS_MAX);
		return out;
	}
	out[0] = (char)('0' + (r->code / 100 >= 2 && r->code / 100 <= 5 ? r->code / 100 : 4));
	memcpy(out + 1, ".0.0", 5);
	return out;
}
