/*
 * logrelay.c — relaying the log pipe of an untrusted per-connection process
 * (grammar and limits in logrelay.h).  Output lines look like
 *   postern: session=ID postern-smtpd: event=greeting ...
 * where everything after "session=ID " came from the child, escaped so it
 * can neither end the line nor hide control bytes from a terminal.
 *
 * Process: postern (master).  Descriptors: one session's log pipe (read
 * end, non-blocking) and fd 2.  Failure policy: bounded reads, no blocking,
 * a failed write to stderr drops the line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "logrelay.h"

static const char trunc_tail[] = " truncated=1";

/* Reset a relay for a new session. */
void logrelay_init(struct logrelay *r)
{
	memset(r, 0, sizeof(*r));
}

/* Escape line[0..n): printable ASCII and space are kept, the rest \xNN.
 * A backslash is kept too: children already escape their values with
 * lib/log.c, and escaping it again would turn every "\x20" into
 * "\x5cx20".  What matters is that a child cannot end the line or emit
 * control bytes; the text itself is the child's to choose anyway. */
size_t logrelay_escape(char *out, size_t cap, const char *line, size_t n, int *cut)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	*cut = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c >= 0x20 && c <= 0x7e) {
			if (cap - o < 1)
				goto full;
			out[o++] = (char)c;
		} else {
			if (cap - o < 4)
				goto full;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0x0f];
		}
	}
	return o;
full:
	*cut = 1;
	return o;
}

/* Write one relayed line (already cut to LOG_LINE_MAX input bytes). */
static void emit_line(const char *sid, const char *line, size_t n, int truncated)
{
	char out[LOG_LINE_MAX];
	size_t room = sizeof(out) - (sizeof(trunc_tail) - 1) - 1;
	int cut = 0, k;
	size_t o;

	/* A daemon's relay passes "role=NAME"; session ids never hold '='. */
	k = snprintf(out, room, "postern: %s%s ", strchr(sid, '=') ? "" : "session=", sid);
	if (k < 0 || (size_t)k >= room)
		return;
	o = (size_t)k;
	o += logrelay_escape(out + o, room - o, line, n, &cut);
	if (cut || truncated) {
		memcpy(out + o, trunc_tail, sizeof(trunc_tail) - 1);
		o += sizeof(trunc_tail) - 1;
	}
	out[o++] = '\n';
	while (write(STDERR_FILENO, out, o) < 0 && errno == EINTR)
		;
}

/* Report and reset the lines dropped in the window that ended. */
static void report_dropped(struct logrelay *r, const char *sid)
{
	if (r->dropped > 0)
		log_event("log-dropped", "%s%s lines=%llu",
		          strchr(sid, '=') ? "" : "session=", sid,
		          (unsigned long long)r->dropped);
	r->dropped = 0;
}

/* Start a new window if the second changed. */
static void roll_window(struct logrelay *r, const char *sid, uint64_t now_s)
{
	if (now_s == r->window)
		return;
	report_dropped(r, sid);
	r->window = now_s;
	r->count = 0;
}

/* Emit one finished line unless this second's budget is spent. */
static void line_done(struct logrelay *r, const char *sid, int truncated,
                      uint64_t rate, uint64_t now_s)
{
	roll_window(r, sid, now_s);
	if (r->count >= rate)
		r->dropped++;
	else {
		r->count++;
		emit_line(sid, r->line, r->len, truncated);
	}
	r->len = 0;
}

/* Feed bytes from the child (see logrelay.h). */
void logrelay_feed(struct logrelay *r, const char *sid, const char *data,
                   size_t n, uint64_t rate, uint64_t now_s)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl != NULL ? (size_t)(nl - data) : n;

		if (r->skipping) {
			/* the rest of an over-long line: drop up to its newline */
		} else if (take > sizeof(r->line) - r->len) {
			size_t fit = sizeof(r->line) - r->len;

			memcpy(r->line + r->len, data, fit);
			r->len += fit;
			line_done(r, sid, 1, rate, now_s);
			r->skipping = 1;
		} else {
			memcpy(r->line + r->len, data, take);
			r->len += take;
			if (nl != NULL)
				line_done(r, sid, 0, rate, now_s);
		}
		if (nl == NULL)
			return;
		r->skipping = 0;
		data += take + 1;
		n -= take + 1;
	}
}

/* Read the pipe without blocking, at most budget bytes. */
int logrelay_read(struct logrelay *r, int fd, const char *sid, uint64_t rate,
                  uint64_t now_s, size_t budget)
{
	char buf[4096];

	while (budget > 0) {
		size_t want = budget < sizeof(buf) ? budget : sizeof(buf);
		ssize_t got = read(fd, buf, want);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (got <= 0)
			return 0;
		logrelay_feed(r, sid, buf, (size_t)got, rate, now_s);
		budget -= (size_t)got;
	}
	return 1;
}

/* At EOF: the last unterminated line and the dropped count. */
void logrelay_finish(struct logrelay *r, const char *sid, uint64_t rate,
                     uint64_t now_s)
{
	if (r->len > 0 && !r->skipping)
		line_done(r, sid, 0, rate, now_s);
	r->len = 0;
	r->skipping = 0;
	report_dropped(r, sid);
}

/* Once a second: close a finished window and report its drops. */
void logrelay_tick(struct logrelay *r, const char *sid, uint64_t now_s)
{
	roll_window(r, sid, now_s);
}
