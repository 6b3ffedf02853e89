/*
 * jobchan.c — the job channel between postern-queued and both delivery
 * workers, postern-deliver and postern-maildir (the worker's fd 3;
 * grammar in jobchan.h): `job` frames written by queued and read by the
 * workers, `rcpt`/`done`/`bye` frames written by the workers.  The frame comes from
 * postern-queued, which is trusted more than the network but still
 * checked: every field goes through lib/netstring.h's capped getters, a
 * malformed frame is refused whole (fatal to the worker), the route is
 * left to each program to check, and the addresses, parameters and
 * destination are checked with the grammar smtpd and queued used
 * (lib/mailbox.h, lib/dsnparam.h): what fails it is flagged and answered
 * per recipient, never fatal.
 */
#include <stddef.h>
#include <string.h>

#include "dsnparam.h"
#include "jobchan.h"
#include "mailbox.h"
#include "netstring.h"

/* Copy the helo field into a C string: printable ASCII without space,
 * so no NUL or control byte can hide in it; empty allowed. */
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

/* The destination domain: bytes (UTF-8 for a U-label, "[...]" for an
 * address literal), checked by the shared grammar; one that fails it, or
 * holds a NUL, is kept empty and flagged, to be answered per recipient. */
static int domain_field(struct frame_reader *r, struct job *j)
{
	struct mailbox_domain d;
	const unsigned char *p;
	size_t n;

	if (fr_bytes(r, &p, &n, JOB_HOST_MAX) != 0)
		return -1;
	j->domain_valid = n == 0 || (memchr(p, '\0', n) == NULL &&
	                             mailbox_domain_parse(p, n, &d) == MAILBOX_OK);
	if (j->domain_valid)
		memcpy(j->domain, p, n);
	j->domain[j->domain_valid ? n : 0] = '\0';
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
		    bytes_field(r, &c->notify, JOB_PARAM_MAX) != 0 ||
		    bytes_field(r, &c->orcpt, JOB_PARAM_MAX) != 0)
			return -1;
		c->valid = mailbox_rcpt_ok(c->addr.p, c->addr.n, 1) &&
		           dsn_stored_notify_ok(c->notify.p, c->notify.n) &&
		           dsn_stored_orcpt_ok(c->orcpt.p, c->orcpt.n);
	}
	return 0;
}

/* The head of a `job` frame (see jobchan.h). */
void job_write_head(struct frame_writer *w, const struct job_head *h)
{
	fw_str(w, "job");
	fw_u64(w, h->id);
	fw_str(w, h->route);
	fw_str(w, h->domain);
	fw_str(w, h->helo);
	fw_bytes(w, h->sender.p, h->sender.n);
	fw_bytes(w, h->ret.p, h->ret.n);
	fw_bytes(w, h->envid.p, h->envid.n);
	fw_bytes(w, h->header.p, h->header.n);
	fw_u64(w, h->nrcpt);
}

/* One recipient of a `job` frame (see jobchan.h). */
void job_write_rcpt(struct frame_writer *w, const struct bytes *addr,
                    const struct bytes *notify, const struct bytes *orcpt)
{
	fw_bytes(w, addr->p, addr->n);
	fw_bytes(w, notify->p, notify->n);
	fw_bytes(w, orcpt->p, orcpt->n);
}

/* Parse a `job` frame payload (see jobchan.h). */
int job_parse(struct job *j, const unsigned char *payload, size_t len)
{
	struct frame_reader r;
	uint64_t n;

	memset(j, 0, offsetof(struct job, rcpt));
	fr_init(&r, payload, len);
	if (fr_is(&r, "job") != 1 || fr_u64(&r, &j->id, UINT64_MAX - 1) != 0 ||
	    bytes_field(&r, &j->route, JOB_ROUTE_MAX) != 0 ||
	    domain_field(&r, j) != 0 || word_field(&r, j->helo, sizeof(j->helo)) != 0 ||
	    bytes_field(&r, &j->sender, JOB_ADDR_MAX) != 0 ||
	    bytes_field(&r, &j->ret, JOB_PARAM_MAX) != 0 ||
	    bytes_field(&r, &j->envid, JOB_PARAM_MAX) != 0 ||
	    bytes_field(&r, &j->header, FRAME_MAX) != 0 ||
	    fr_u64(&r, &n, JOB_RCPT_MAX) != 0 || n == 0)
		return -1;
	j->sender_valid = mailbox_sender_ok(j->sender.p, j->sender.n, 1) &&
	                  dsn_stored_ret_ok(j->ret.p, j->ret.n) &&
	                  dsn_stored_envid_ok(j->envid.p, j->envid.n);
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

/* RFC 3463 shape (see jobchan.h). */
int job_status_ok(const char *s)
{
	size_t part = 0, digits = 0;

	if (!(s[0] == '2' || s[0] == '4' || s[0] == '5') || s[1] != '.')
		return 0;
	for (const char *p = s + 2;; p++) {
		if (*p >= '0' && *p <= '9' && digits < 3) {
			digits++;
		} else if ((*p == '.' || *p == '\0') && digits > 0) {
			part++;
			digits = 0;
			if (*p == '\0')
				return part == 2;
			if (part == 2)
				return 0;
		} else {
			return 0;
		}
	}
}

/* 1 if t[0..n) is printable ASCII. */
static int printable(const unsigned char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			return 0;
	return 1;
}

/* `rcpt` result frame (see jobchan.h). */
const unsigned char *frame_rcpt(unsigned char *buf, size_t cap, size_t *n, uint64_t id,
                                uint64_t index, const char *cls, uint64_t code,
                                const char *status, const char *text)
{
	struct frame_writer w;

	size_t tn = strnlen(text, JOB_TEXT_MAX + 1);

	if (!class_valid(cls) || code < 200 || code > 599 || tn > JOB_TEXT_MAX ||
	    strnlen(status, JOB_STATUS_MAX + 1) > JOB_STATUS_MAX || !job_status_ok(status) ||
	    !printable((const unsigned char *)text, tn))
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

/* One result frame (see jobchan.h). */
int job_result_parse(const unsigned char *p, size_t n, const struct job_expect *x,
                     struct job_result *r)
{
	struct frame_reader fr;
	uint64_t id, index, code;
	char cls[8];
	const unsigned char *t;
	size_t tn;

	memset(r, 0, sizeof *r);
	fr_init(&fr, p, n);
	if (fr_is(&fr, "bye") == 1) {
		r->kind = JOB_R_BYE;
		return fr_end(&fr) == 0 ? 0 : -1;
	}
	if (fr_is(&fr, "done") == 1) {
		r->kind = JOB_R_DONE;
		return x->has_job && fr_u64(&fr, &id, UINT64_MAX) == 0 && fr_end(&fr) == 0 &&
		       id == x->job_id ? 0 : -1;
	}
	if (fr_is(&fr, "rcpt") != 1)
		return -1;
	r->kind = JOB_R_RCPT;
	if (!x->has_job || x->n == 0 || fr_u64(&fr, &id, UINT64_MAX) < 0 || id != x->job_id ||
	    fr_u64(&fr, &index, x->n - 1) < 0 || fr_str(&fr, cls, sizeof cls) < 0 ||
	    fr_u64(&fr, &code, 599) < 0 || code < 200 ||
	    fr_str(&fr, r->status, sizeof r->status) < 0 ||
	    fr_bytes(&fr, &t, &tn, JOB_TEXT_MAX) < 0 || fr_end(&fr) < 0 ||
	    !job_status_ok(r->status) || !printable(t, tn))
		return -1;
	if (strcmp(cls, "ok") == 0)
		r->cls = 'o';
	else if (strcmp(cls, "temp") == 0)
		r->cls = 't';
	else if (strcmp(cls, "perm") == 0)
		r->cls = 'p';
	else
		return -1;
	r->index = (size_t)index;
	r->code = (unsigned)code;
	memcpy(r->text, t, tn);
	r->text[tn] = '\0';
	return 0;
}
