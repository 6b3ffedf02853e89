/*
 * reply.c — formatting replies into the session's output buffer (see
 * reply.h).  postern-smtpd, fd 0.  Failure policy: a failed write ends the
 * session; nothing is retried.
 */
#include "reply.h"

#include "session.h"

#include <string.h>

#define REPLY_LINE_MAX 512

/* Append bytes to the output; the buffer flushes itself when full. */
static void put(struct session *s, const void *p, size_t n)
{
	if (s->out.err)
		return;
	if (bufout_put(&s->out, p, n, session_io_deadline(s)) < 0) {
		s->out.err = 1;
		session_end(s, END_WRITE_ERROR);
	}
}

void reply_line(struct session *s, int code, int more, const char *text, size_t n)
{
	char head[4];

	if (code < 200 || code > 599)
		code = 451;
	if (n > REPLY_LINE_MAX - 6)
		n = REPLY_LINE_MAX - 6;
	head[0] = (char)('0' + code / 100);
	head[1] = (char)('0' + code / 10 % 10);
	head[2] = (char)('0' + code % 10);
	head[3] = more ? '-' : ' ';
	put(s, head, sizeof head);
	put(s, text, n);
	put(s, "\r\n", 2);
}

void reply(struct session *s, int code, const char *text)
{
	reply_line(s, code, 0, text, strlen(text));
}

void reply_error(struct session *s, int code, const char *text)
{
	s->errors++;
	reply(s, code, text);
}

/* 1 if text starts with an enhanced status code "C.x.y " of class c
 * (RFC 3463 §2: class.subject.detail, subject and detail 1-3 digits). */
static int has_enhanced(const char *t, size_t n, char c)
{
	size_t i = 0, part, digits;

	if (n < 6 || t[0] != c || t[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			digits++;
		if (digits < 1 || digits > 3 || i >= n)
			return 0;
		if (t[i] != (part == 0 ? '.' : ' '))
			return 0;
		i++;
	}
	return 1;
}

void reply_peer(struct session *s, int code, const char *text, size_t n)
{
	char line[REPLY_LINE_MAX];
	char c = (char)('0' + code / 100);
	size_t len = 0;

	if ((c == '2' || c == '4' || c == '5') && !has_enhanced(text, n, c)) {
		line[0] = c;
		memcpy(line + 1, ".0.0 ", 5);
		len = 6;
	}
	if (n > sizeof line - len)
		n = sizeof line - len;
	memcpy(line + len, text, n);
	reply_line(s, code, 0, line, len + n);
}

int reply_text_ok(const unsigned char *text, size_t n)
{
	size_t i;

	if (n == 0 || n > 400)
		return 0;
	for (i = 0; i < n; i++)
		if (text[i] < ' ' || text[i] > '~')
			return 0;
	return 1;
}

void reply_flush(struct session *s)
{
	if (s->out.len == 0 || s->out.err)
		return;
	if (bufout_flush(&s->out, session_io_deadline(s)) < 0) {
		s->out.err = 1;
		session_end(s, END_WRITE_ERROR);
	}
}
