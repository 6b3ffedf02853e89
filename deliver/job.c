/*
 * job.c — reading `job` frames and writing `rcpt`/`done`/`bye` frames on
 * postern-deliver's job channel (fd 3; grammar in job.h).  The frame comes
 * from postern-queued, which is trusted more than the network but still
 * checked: every field is capped, a malformed frame is fatal to the
 * worker, and an address that could break an SMTP command line is refused
 * per recipient.
 */
#include <stddef.h>
#include <string.h>

#include "decimal.h"
#include "hostname.h"
#include "job.h"
#include "netstring.h"

/* 1 if the address bytes may go into MAIL FROM/RCPT TO. */
int job_addr_ok(const unsigned char *p, size_t n)
{
	if (n > JOB_ADDR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		/* Controls, space, DEL and the brackets could end or split the
		 * command; bytes >= 0x80 are UTF-8 (SMTPUTF8, RFC 6531). */
		if (p[i] <= 0x20 || p[i] == 0x7f || p[i] == '<' || p[i] == '>')
			return 0;
	}
	return 1;
}

/* 1 if an xtext parameter may go on the wire (RFC 3461 §4: printable
 * ASCII without space or '='). */
int job_param_ok(const unsigned char *p, size_t n)
{
	if (n > JOB_ADDR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '=')
			return 0;
	}
	return 1;
}

/* Copy a field into a NUL-terminated host-name buffer; empty allowed. */
static int host_field(struct frame_reader *r, char *out, size_t cap)
{
	const unsigned char *p;
	size_t n;

	if (fr_bytes(r, &p, &n, cap - 1) != 0)
		return -1;
	if (n > 0 && !hostname_valid((const char *)p, n))
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* 1 if s[0..n) is exactly the word w. */
static int word_is(const unsigned char *s, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(s, w, n) == 0;
}

/* "tls=..." or "auth=..." option of a route. */
static int route_option(struct route *r, const unsigned char *s, size_t n)
{
	if (word_is(s, n, "tls=opportunistic"))
		r->tls = TLS_OPPORTUNISTIC;
	else if (word_is(s, n, "tls=required"))
		r->tls = TLS_REQUIRED;
	else if (word_is(s, n, "tls=verify"))
		r->tls = TLS_VERIFY;
	else if (n > 5 && n - 5 <= JOB_AUTHNAME_MAX && memcmp(s, "auth=", 5) == 0) {
		for (size_t i = 5; i < n; i++) {
			if (s[i] <= 0x20 || s[i] >= 0x7f)
				return -1;
		}
		memcpy(r->auth, s + 5, n - 5);
		r->auth[n - 5] = '\0';
	} else
		return -1;
	return 0;
}

/* "HOST:PORT" or "[v6]:PORT" of a relay route. */
static int route_hostport(struct route *r, const unsigned char *s, size_t n)
{
	const unsigned char *colon, *h = s;
	size_t hn;
	char port[8];
	uint64_t v;

	if (n > 0 && s[0] == '[') {
		const unsigned char *close = memchr(s, ']', n);

		if (close == NULL || (size_t)(close - s) + 1 >= n || close[1] != ':')
			return -1;
		h = s + 1;
		hn = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = memchr(s, ':', n);
		if (colon == NULL)
			return -1;
		hn = (size_t)(colon - s);
	}
	if (hn == 0 || hn > JOB_HOST_MAX)
		return -1;
	for (size_t i = 0; i < hn; i++) {
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' || h[i] == ':'))
			return -1;
	}
	memcpy(r->host, h, hn);
	r->host[hn] = '\0';
	n -= (size_t)(colon + 1 - s);
	if (n == 0 || n >= sizeof(port))
		return -1;
	memcpy(port, colon + 1, n);
	port[n] = '\0';
	if (u64_from_dec(port, 1, 65535, &v) != 0)
		return -1;
	r->port = (unsigned)v;
	return 0;
}

/* Parse a route string (see job.h). */
int route_parse(struct route *r, const unsigned char *s, size_t n)
{
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	r->port = 25;
	while (i < n && s[i] != ' ')
		i++;
	if (i == 2 && memcmp(s, "mx", 2) == 0)
		r->relay = 0;
	else if (i > 6 && memcmp(s, "relay:", 6) == 0) {
		r->relay = 1;
		if (route_hostport(r, s + 6, i - 6) != 0)
			return -1;
	} else
		return -1;
	while (i < n) {
		size_t j = ++i;

		while (j < n && s[j] != ' ')
			j++;
		if (j == i || route_option(r, s + i, j - i) != 0)
			return -1;
		i = j;
	}
	return 0;
}

/* One byte field into a struct bytes. */
static int bytes_field(struct frame_reader *r, struct bytes *b, size_t max)
{
	return fr_bytes(r, &b->p, &b->n, max);
}

/* Parse a `job` frame payload (see job.h). */
int job_parse(struct job *j, const unsigned char *payload, size_t len)
{
	struct frame_reader r;
	struct bytes route;
	uint64_t n;

	memset(j, 0, offsetof(struct job, rcpt));
	fr_init(&r, payload, len);
	if (fr_is(&r, "job") != 1 || fr_u64(&r, &j->id, UINT64_MAX - 1) != 0 ||
	    bytes_field(&r, &route, 512) != 0 ||
	    host_field(&r, j->domain, sizeof(j->domain)) != 0 ||
	    host_field(&r, j->helo, sizeof(j->helo)) != 0 ||
	    bytes_field(&r, &j->sender, JOB_ADDR_MAX) != 0 ||
	    bytes_field(&r, &j->ret, 4) != 0 || bytes_field(&r, &j->envid, 100) != 0 ||
	    bytes_field(&r, &j->header, FRAME_MAX) != 0 ||
	    fr_u64(&r, &n, JOB_RCPT_MAX) != 0 || n == 0)
		return -1;
	if (route_parse(&j->route, route.p, route.n) != 0)
		return -1;
	if (!j->route.relay && j->domain[0] == '\0')
		return -1;
	if (!(j->ret.n == 0 || (j->ret.n == 4 && (memcmp(j->ret.p, "full", 4) == 0 ||
	                                          memcmp(j->ret.p, "hdrs", 4) == 0))))
		return -1;
	j->sender_valid = job_addr_ok(j->sender.p, j->sender.n) &&
	                  job_param_ok(j->envid.p, j->envid.n);
	j->nrcpt = (size_t)n;
	for (size_t i = 0; i < j->nrcpt; i++) {
		struct job_rcpt *c = &j->rcpt[i];

		if (bytes_field(&r, &c->addr, JOB_ADDR_MAX) != 0 ||
		    bytes_field(&r, &c->notify, 64) != 0 ||
		    bytes_field(&r, &c->orcpt, JOB_ADDR_MAX) != 0)
			return -1;
		c->valid = c->addr.n > 0 && job_addr_ok(c->addr.p, c->addr.n) &&
		           job_param_ok(c->notify.p, c->notify.n) &&
		           job_param_ok(c->orcpt.p, c->orcpt.n);
	}
	return fr_end(&r);
}

/* `rcpt` result frame (see job.h). */
const unsigned char *frame_rcpt(unsigned char *buf, size_t cap, size_t *n, uint64_t id,
                                size_t index, const char *cls, int code,
                                const char *status, const char *text)
{
	struct frame_writer w;

	fw_init(&w, buf, cap);
	fw_str(&w, "rcpt");
	fw_u64(&w, id);
	fw_u64(&w, index);
	fw_str(&w, cls);
	fw_u64(&w, (uint64_t)code);
	fw_str(&w, status);
	fw_bytes(&w, text, strnlen(text, 512));
	return fw_finish(&w, n);
}

/* `done` frame. */
const unsigned char *frame_done(unsigned char *buf, size_t cap, size_t *n, uint64_t id)
{
	struct frame_writer w;

	fw_init(&w, buf, cap);
	fw_str(&w, "done");
	fw_u64(&w, id);
	return fw_finish(&w, n);
}

/* `bye` frame. */
const unsigned char *frame_bye(unsigned char *buf, size_t cap, size_t *n)
{
	struct frame_writer w;

	fw_init(&w, buf, cap);
	fw_str(&w, "bye");
	return fw_finish(&w, n);
}
