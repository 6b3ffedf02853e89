/*
 * bounce_compose.c — one RFC 3464 report into a sink (bounce_compose.h).
 * postern-queued, in its sandbox.  The two generated parts are built in
 * memory first (small: a few lines per recipient) so the boundary can be
 * checked against them; the original is streamed from its descriptor.
 * Every envelope field and reply text passes through dsn_text.h before
 * it is written.  Failure policy: -1 with errno, nothing half-reported
 * (the caller throws away what reached the sink).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_compose.h"
#include "bounce_orig.h"
#include "dsn_text.h"

#define GBUF_MAX (16u * 1024u * 1024u)	/* generated parts, all recipients */
#define BOUNDARY_TRIES 8
/* A recipient as a report address, with its NUL: with a 253-octet host
 * name and the text around it, its text-part line stays under 998. */
#define ADDR_FIELD_CAP 700

/* A growing buffer for the generated parts. */
struct gbuf {
	char *p;
	size_t len, cap;
	int err;
};

/* Append n bytes. */
static void gb_add(struct gbuf *g, const void *p, size_t n)
{
	if (g->err)
		return;
	if (n > GBUF_MAX - g->len) {
		g->err = EFBIG;
		return;
	}
	if (g->cap - g->len < n) {
		size_t cap = g->cap ? g->cap : 4096;
		char *q;

		while (cap - g->len < n)
			cap *= 2;
		q = realloc(g->p, cap);
		if (q == NULL) {
			g->err = ENOMEM;
			return;
		}
		g->p = q;
		g->cap = cap;
	}
	memcpy(g->p + g->len, p, n);
	g->len += n;
}

/* Append a string. */
static void gb_s(struct gbuf *g, const char *s)
{
	gb_add(g, s, strlen(s));
}

/* Append "name: value" CRLF (value already safe). */
static void gb_field(struct gbuf *g, const char *name, const char *value)
{
	gb_s(g, name);
	gb_s(g, ": ");
	gb_s(g, value);
	gb_s(g, "\r\n");
}

/* The recipient address as a report address: dsn_addr, or its
 * printable-ASCII form if the RFC 6533 form would be too long. */
static void rcpt_addr(char *out, size_t cap, const char *addr)
{
	size_t n;

	if (addr == NULL)
		addr = "";
	n = strnlen(addr, ENV_ADDR_MAX);

	if (dsn_addr(out, cap, addr, n) > 0)
		return;
	memcpy(out, "rfc822;", 8);
	dsn_safe(out + 7, cap - 7, addr, n, ENV_ADDR_MAX);
}

/* The status to report: the caller's if well-formed, else by action. */
static const char *rcpt_status(const struct bounce_job *j, const struct dsn_rcpt *r)
{
	if (dsn_status_ok(r->status))
		return r->status;
	return j->a == DSN_FAILED ? "5.0.0" : j->a == DSN_DELAYED ? "4.0.0" : "2.0.0";
}

/* The reply text, made safe and capped. */
static void rcpt_text(char out[DSN_TEXT_MAX + 1], const struct dsn_rcpt *r)
{
	const char *t = r->text ? r->text : "";

	dsn_safe(out, DSN_TEXT_MAX + 1, t, strnlen(t, 65536), DSN_TEXT_MAX);
}

/* Append a date field (omitted if the date cannot be formatted). */
static void gb_date(struct gbuf *g, const char *name, uint64_t t)
{
	char d[DSN_DATE_MAX];

	if (dsn_date(d, sizeof d, (time_t)t) > 0)
		gb_field(g, name, d);
}

/* The human-readable part's body (RFC 6522 §3: first part). */
static void text_part(struct gbuf *g, const struct bounce_job *j)
{
	char addr[ADDR_FIELD_CAP], text[DSN_TEXT_MAX + 1], d[DSN_DATE_MAX], num[16];

	gb_s(g, "This is the mail system at host ");
	gb_s(g, j->hostname);
	gb_s(g, ".\r\n\r\n");
	if (j->a == DSN_FAILED)
		gb_s(g, "Your message could not be delivered to the recipients below.\r\n"
		        "The failure is permanent, or delivery was given up after\r\n"
		        "repeated attempts.\r\n");
	else if (j->a == DSN_DELAYED) {
		gb_s(g, "Your message has not been delivered yet to the recipients below.\r\n"
		        "It is still being retried");
		if (j->retry_until > 0 && dsn_date(d, sizeof d, (time_t)j->retry_until) > 0) {
			gb_s(g, " until ");
			gb_s(g, d);
		}
		gb_s(g, ";\r\nyou need not send it again.\r\n");
	} else
		gb_s(g, "Your message was delivered to the recipients below.\r\n");
	for (size_t i = 0; i < j->n; i++) {
		const struct dsn_rcpt *r = &j->r[i];
		const char *a;

		rcpt_addr(addr, sizeof addr, r->addr);
		a = strchr(addr, ';') + 1;
		rcpt_text(text, r);
		gb_s(g, "\r\n<");
		gb_s(g, a);
		gb_s(g, ">: status ");
		gb_s(g, rcpt_status(j, r));
		if (dsn_host_ok(r->remote)) {
			gb_s(g, ", host ");
			gb_s(g, r->remote);
		}
		gb_s(g, "\r\n");
		if (text[0] != '\0') {
			gb_s(g, r->code ? "    said: " : "    reason: ");
			if (r->code) {
				snprintf(num, sizeof num, "%u ", r->code % 1000);
				gb_s(g, num);
			}
			gb_s(g, text);
			gb_s(g, "\r\n");
		}
	}
	gb_s(g, "\r\n");
}

/* The per-message fields (RFC 3464 §2.2). */
static void ds_message(struct gbuf *g, const struct bounce_job *j)
{
	char v[1024];
	const struct envelope *e = j->e;

	gb_s(g, "Reporting-MTA: dns; ");
	gb_s(g, j->hostname);
	gb_s(g, "\r\n");
	if (e->envid.n > 0 && dsn_xtext(v, sizeof v, e->envid.p, e->envid.n) > 0)
		gb_field(g, "Original-Envelope-Id", v);
	dsn_safe(v, sizeof v, e->id.p, e->id.n, RANDID_LEN);
	gb_field(g, "X-Postern-Queue-ID", v);
	gb_date(g, "Arrival-Date", e->time_v);
}

/* The per-recipient fields of r (RFC 3464 §2.3). */
static void ds_rcpt(struct gbuf *g, const struct bounce_job *j, const struct dsn_rcpt *r)
{
	char v[1024], text[DSN_TEXT_MAX + 1], num[16];
	const char *o = r->orcpt ? r->orcpt : "";

	gb_s(g, "\r\n");
	if (o[0] != '\0' && dsn_orcpt(v, sizeof v, o, strnlen(o, ENV_XTEXT_MAX)) > 0)
		gb_field(g, "Original-Recipient", v);
	rcpt_addr(v, ADDR_FIELD_CAP, r->addr);
	gb_field(g, "Final-Recipient", v);
	gb_field(g, "Action", j->a == DSN_FAILED ? "failed" :
	                      j->a == DSN_DELAYED ? "delayed" : "delivered");
	gb_field(g, "Status", rcpt_status(j, r));
	if (dsn_host_ok(r->remote)) {
		gb_s(g, "Remote-MTA: dns; ");
		gb_s(g, r->remote);
		gb_s(g, "\r\n");
	}
	if (r->code >= 200 && r->code <= 599) {
		rcpt_text(text, r);
		snprintf(num, sizeof num, "%u", r->code);
		gb_s(g, "Diagnostic-Code: smtp; ");
		gb_s(g, num);
		if (text[0] != '\0') {
			gb_s(g, " ");
			gb_s(g, text);
		}
		gb_s(g, "\r\n");
	}
	if (r->last_attempt > 0)
		gb_date(g, "Last-Attempt-Date", r->last_attempt);
	if (j->a == DSN_DELAYED && j->retry_until > 0)
		gb_date(g, "Will-Retry-Until", j->retry_until);
}

/* The message/delivery-status body. */
static void ds_part(struct gbuf *g, const struct bounce_job *j)
{
	ds_message(g, j);
	for (size_t i = 0; i < j->n; i++)
		ds_rcpt(g, j, &j->r[i]);
}

/* 1 if b[0..n) is valid UTF-8 without control bytes (RFC 3629). */
static int utf8_ok(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = b[i] < 0x80 ? 0 : b[i] >= 0xc2 && b[i] <= 0xdf ? 1 :
		           b[i] >= 0xe0 && b[i] <= 0xef ? 2 : b[i] >= 0xf0 && b[i] <= 0xf4 ? 3 : 9;

		if (k == 9 || n - i <= k || (k == 0 && (b[i] < 0x21 || b[i] == 0x7f)))
			return 0;
		for (size_t m = 1; m <= k; m++)
			if ((b[i + m] & 0xc0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

/* The top-level header section into g (the boundary is chosen). */
static void top_headers(struct gbuf *g, const struct bounce_job *j, const char *boundary,
                        int *utf8)
{
	const struct envelope *e = j->e;
	char d[DSN_DATE_MAX], id[RANDID_LEN + 1], num[24];

	gb_s(g, "From: Mail Delivery System <MAILER-DAEMON@");
	gb_s(g, j->hostname);
	gb_s(g, ">\r\n");
	/* RFC 6532: a UTF-8 sender may only appear raw, with SMTPUTF8. */
	*utf8 = 0;
	if (utf8_ok(e->sender.p, e->sender.n)) {
		for (size_t i = 0; i < e->sender.n; i++)
			*utf8 |= e->sender.p[i] >= 0x80;
		gb_s(g, "To: <");
		gb_add(g, e->sender.p, e->sender.n);
		gb_s(g, ">\r\n");
	} else
		gb_s(g, "To: undisclosed-recipients:;\r\n");
	gb_field(g, "Subject", j->a == DSN_FAILED ? "Undelivered Mail Returned to Sender" :
	                       j->a == DSN_DELAYED ? "Delayed Mail (still being retried)" :
	                       "Successful Mail Delivery Report");
	if (dsn_date(d, sizeof d, j->now) > 0)
		gb_field(g, "Date", d);
	randid_make(id);
	snprintf(num, sizeof num, "%lld", (long long)j->now);
	gb_s(g, "Message-ID: <");
	gb_s(g, id);
	gb_s(g, ".");
	gb_s(g, num);
	gb_s(g, "@");
	gb_s(g, j->hostname);
	gb_s(g, ">\r\n");
	gb_s(g, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	        "\tboundary=\"");
	gb_s(g, boundary);
	gb_s(g, "\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
	        "This is a MIME-encapsulated delivery status notification.\r\n");
}

/* Pick a boundary found in no part: 0, or -1 (errno). */
static int pick_boundary(char *b, size_t cap, const struct bounce_job *j,
                         const struct gbuf *text, const struct gbuf *ds, uint64_t orig_len)
{
	for (int t = 0; t < BOUNDARY_TRIES; t++) {
		char id[RANDID_LEN + 1];
		int r;

		randid_make(id);
		snprintf(b, cap, "=_postern_%s", id);
		if (memmem(text->p, text->len, b, strlen(b)) != NULL ||
		    memmem(ds->p, ds->len, b, strlen(b)) != NULL ||
		    (j->e->header.n > 0 &&
		     memmem(j->e->header.p, j->e->header.n, b, strlen(b)) != NULL))
			continue;
		r = orig_has(j->msgfd, orig_len, b);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
	errno = EIO;
	return -1;
}

/* Write a string to the sink. */
static int put(const struct bounce_sink *s, const char *str)
{
	return s->write(s->ctx, str, strlen(str));
}

/* Write "\r\n--B\r\n" (or the closing delimiter when last). */
static int delim(const struct bounce_sink *s, const char *b, int last)
{
	if (put(s, "\r\n--") != 0 || put(s, b) != 0)
		return -1;
	return put(s, last ? "--\r\n" : "\r\n");
}

/* The third part: returned headers or message (RFC 6522 §3). */
static int third_part(const struct bounce_sink *s, const struct bounce_job *j,
                      const struct orig_info *o, int full)
{
	const struct envelope *e = j->e;

	if (put(s, full ? "Content-Type: message/rfc822\r\n"
	                  "Content-Description: Undelivered message\r\n\r\n"
	                : "Content-Type: text/rfc822-headers\r\n"
	                  "Content-Description: Undelivered message headers\r\n\r\n") != 0)
		return -1;
	if (text_copy_safe(e->header.p, e->header.n, s) != 0)
		return -1;
	return full ? orig_copy(j->msgfd, o->size, 0, s) : orig_copy(j->msgfd, o->hdr_take, 1, s);
}

/* Emit everything once the parts and the boundary are known. */
static int emit(const struct bounce_sink *s, const struct bounce_job *j, const struct gbuf *top,
                const struct gbuf *text, const struct gbuf *ds, const char *b,
                const struct orig_info *o, int full)
{
	if (s->write(s->ctx, top->p, top->len) != 0 || delim(s, b, 0) != 0 ||
	    put(s, "Content-Type: text/plain; charset=us-ascii\r\n"
	           "Content-Transfer-Encoding: 7bit\r\n"
	           "Content-Description: Notification\r\n\r\n") != 0 ||
	    s->write(s->ctx, text->p, text->len) != 0 || delim(s, b, 0) != 0 ||
	    put(s, "Content-Type: message/delivery-status\r\n"
	           "Content-Description: Delivery report\r\n\r\n") != 0 ||
	    s->write(s->ctx, ds->p, ds->len) != 0 || delim(s, b, 0) != 0 ||
	    third_part(s, j, o, full) != 0)
		return -1;
	return delim(s, b, 1);
}

/* 1 if the job is usable. */
static int job_ok(const struct bounce_job *j)
{
	return j->e != NULL && j->e->loaded && j->e->sender.n > 0 && j->n > 0 && j->r != NULL &&
	       dsn_host_ok(j->hostname) && strchr(j->hostname, ':') == NULL &&
	       j->msgfd >= 0;
}

/* Compose (see bounce_compose.h). */
int bounce_compose(const struct bounce_job *j, const struct bounce_sink *s, int *utf8)
{
	struct gbuf top = { 0 }, text = { 0 }, ds = { 0 };
	struct orig_info o;
	char b[64];
	int full, want_full, rc = -1, err = 0;

	if (!job_ok(j)) {
		errno = EINVAL;
		return -1;
	}
	want_full = j->e->ret.n == 4 && memcmp(j->e->ret.p, "full", 4) == 0;
	if (orig_scan(j->msgfd, want_full ? BOUNCE_FULL_MAX : BOUNCE_HDRS_MAX + 1, &o) != 0)
		return -1;
	full = want_full && o.full_ok;
	text_part(&text, j);
	if (want_full && !full)
		gb_s(&text, "The message was too large or not 7-bit text; only its\r\n"
		            "header section is returned.\r\n");
	ds_part(&ds, j);
	if (text.err || ds.err)
		err = text.err ? text.err : ds.err;
	else if (pick_boundary(b, sizeof b, j, &text, &ds, full ? o.size : o.hdr_take) != 0)
		err = errno;
	else {
		top_headers(&top, j, b, utf8);
		if (top.err)
			err = top.err;
		else if (emit(s, j, &top, &text, &ds, b, &o, full) != 0)
			err = errno ? errno : EIO;
		else
			rc = 0;
	}
	free(top.p);
	free(text.p);
	free(ds.p);
	if (rc != 0)
		errno = err ? err : EIO;
	return rc;
}
