/*
 * job.c — reading `job` frames and writing `rcpt`/`done`/`bye` frames on
 * the job channel of both delivery workers, postern-deliver and
 * postern-maildir (fd 3; grammar in job.h).  The frame comes from
 * postern-queued, which is trusted more than the network but still
 * checked: every field goes through lib/netstring.h's capped getters, a
 * malformed frame is refused whole (fatal to the worker), the route is
 * left to each program to check, and an address that could break an SMTP
 * command line is flagged per recipient.
 */
#include <stddef.h>
#include <string.h>

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

/* Copy a domain/helo field into a C string: printable ASCII without
 * space, so no NUL or control byte can hide in it; empty allowed. */
static int word_field(struct frame_reader *r, char *out, size_t cap)
{
	const unsigned char *p;
	size_t n;

	if (fr_bytes(r, &p, &n, cap - 1) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return -1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* One byte field into a struct bytes. */
static int bytes_field(struct frame_reader *r, struct bytes *b, size_t max)
{
	return fr_bytes(r, &b->p, &b->n, max);
}

/* The recipients: nrcpt times rcpt notify orcpt. */
static int rcpt_fields(struct frame_reader *r, struct job *j)
{
	for (size_t i = 0; i < j->nrcpt; i++) {
		struct job_rcpt *c = &j->rcpt[i];

		if (bytes_field(r, &c->addr, JOB_ADDR_MAX) != 0 ||
		    bytes_field(r, &c->notify, 64) != 0 ||
		    bytes_field(r, &c->orcpt, JOB_ADDR_MAX) != 0)
			return -1;
		c->valid = c->addr.n > 0 && job_addr_ok(c->addr.p, c->addr.n) &&
		           job_param_ok(c->notify.p, c->notify.n) &&
		           job_param_ok(c->orcpt.p, c->orcpt.n);
	}
	return 0;
}

/* Parse a `job` frame payload (see job.h). */
int job_parse(struct job *j, const unsigned char *payload, size_t len)
{
	struct frame_reader r;
	uint64_t n;

	memset(j, 0, offsetof(struct job, rcpt));
	fr_init(&r, payload, len);
	if (fr_is(&r, "job") != 1 || fr_u64(&r, &j->id, UINT64_MAX - 1) != 0 ||
	    bytes_field(&r, &j->route, JOB_ROUTE_MAX) != 0 ||
	    word_field(&r, j->domain, sizeof(j->domain)) != 0 ||
	    word_field(&r, j->helo, sizeof(j->helo)) != 0 ||
	    bytes_field(&r, &j->sender, JOB_ADDR_MAX) != 0 ||
	    bytes_field(&r, &j->ret, 4) != 0 || bytes_field(&r, &j->envid, 100) != 0 ||
	    bytes_field(&r, &j->header, FRAME_MAX) != 0 ||
	    fr_u64(&r, &n, JOB_RCPT_MAX) != 0 || n == 0)
		return -1;
	if (!(j->ret.n == 0 || (j->ret.n == 4 && (memcmp(j->ret.p, "full", 4) == 0 ||
	                                          memcmp(j->ret.p, "hdrs", 4) == 0))))
		return -1;
	j->sender_valid = job_addr_ok(j->sender.p, j->sender.n) &&
	                  job_param_ok(j->envid.p, j->envid.n);
	j->nrcpt = (size_t)n;
	if (rcpt_fields(&r, j) != 0)
		return -1;
	return fr_end(&r);
}

/* 1 if the job's route is exactly the word route. */
int job_route_is(const struct job *j, const char *route)
{
	size_t n = strlen(route);

	return j->route.n == n && memcmp(j->route.p, route, n) == 0;
}

/* True if s is one of the three result classes. */
static int class_valid(const char *s)
{
	return strcmp(s, "ok") == 0 || strcmp(s, "temp") == 0 || strcmp(s, "perm") == 0;
}

/* `rcpt` result frame (see job.h). */
const unsigned char *frame_rcpt(unsigned char *buf, size_t cap, size_t *n, uint64_t id,
                                uint64_t index, const char *cls, uint64_t code,
                                const char *status, const char *text)
{
	struct frame_writer w;

	if (!class_valid(cls) || code < 200 || code > 599 ||
	    strnlen(text, JOB_TEXT_MAX + 1) > JOB_TEXT_MAX)
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "rcpt");
	fw_u64(&w, id);
	fw_u64(&w, index);
	fw_str(&w, cls);
	fw_u64(&w, code);
	fw_str(&w, status);
	fw_str(&w, text);
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
