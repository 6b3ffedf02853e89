/*
 * queuechan.c — the smtpd <-> queued channel (queuechan.h), both
 * directions, for both ends.  Pure; every byte queued reads comes from a
 * process that parses the network and may be compromised.
 */
#include <string.h>

#include "netstring.h"
#include "queuechan.h"

static const char *const verbs[] = {
	[QC_MAIL] = "mail", [QC_RCPT] = "rcpt", [QC_DATA] = "data", [QC_CHUNK] = "chunk",
	[QC_END] = "end", [QC_ABORT] = "abort", [QC_RSET] = "rset",
};

/* A C string as bytes. */
static int str_ok(const char *s, size_t cap, int (*ok)(const unsigned char *, size_t))
{
	size_t n = strnlen(s, cap);

	return n < cap && ok((const unsigned char *)s, n);
}

/* 1 if s[0..n) is 1..max printable ASCII bytes (spaces allowed if sp). */
static int printable(const unsigned char *s, size_t n, size_t max, int sp)
{
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < (sp ? 0x20 : 0x21) || s[i] > 0x7e)
			return 0;
	return 1;
}

/* The `mail` fields' grammar. */
static int mail_ok(const struct qc_request *r)
{
	size_t sn = strnlen(r->sender, sizeof r->sender);

	return r->ticket_len <= TICKET_MAX && sn < sizeof r->sender &&
	       mailbox_sender_ok((const unsigned char *)r->sender, sn, r->smtputf8) &&
	       str_ok(r->ret, sizeof r->ret, dsn_stored_ret_ok) &&
	       str_ok(r->envid, sizeof r->envid, dsn_stored_envid_ok) && r->size <= UINT64_MAX / 2;
}

/* The `rcpt` fields' grammar (UTF-8 allowed; the session decides). */
static int rcpt_ok(const struct qc_request *r)
{
	size_t an = strnlen(r->addr, sizeof r->addr);

	return an < sizeof r->addr && mailbox_rcpt_ok((const unsigned char *)r->addr, an, 1) &&
	       str_ok(r->notify, sizeof r->notify, dsn_stored_notify_ok) &&
	       str_ok(r->orcpt, sizeof r->orcpt, dsn_stored_orcpt_ok);
}

/* 1 if r's fields are inside the grammar. */
static int request_ok(const struct qc_request *r)
{
	switch (r->verb) {
	case QC_MAIL:
		return mail_ok(r);
	case QC_RCPT:
		return rcpt_ok(r);
	case QC_CHUNK:
		return r->chunk_len > 0 && r->chunk_len <= QUEUECHAN_CHUNK_MAX;
	case QC_ABORT:
		return printable((const unsigned char *)r->reason,
		                 strnlen(r->reason, sizeof r->reason), QUEUECHAN_REASON_MAX, 0);
	default:
		return 1;
	}
}

/* smtpd's end (see queuechan.h). */
const unsigned char *queuechan_write(unsigned char *buf, size_t cap, size_t *n,
                                     const struct qc_request *r)
{
	struct frame_writer w;

	if ((unsigned)r->verb > QC_RSET || !request_ok(r))
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, verbs[r->verb]);
	switch (r->verb) {
	case QC_MAIL:
		fw_bytes(&w, r->ticket, r->ticket_len);
		fw_str(&w, r->sender);
		fw_u64(&w, r->size);
		fw_str(&w, r->eightbit ? "8bitmime" : "7bit");
		fw_str(&w, r->smtputf8 ? "1" : "0");
		fw_str(&w, r->ret);
		fw_str(&w, r->envid);
		break;
	case QC_RCPT:
		fw_str(&w, r->addr);
		fw_str(&w, r->notify);
		fw_str(&w, r->orcpt);
		break;
	case QC_CHUNK:
		fw_bytes(&w, r->chunk, r->chunk_len);
		break;
	case QC_ABORT:
		fw_str(&w, r->reason);
		break;
	default:
		break;
	}
	return fw_finish(&w, n);
}

/* A field that must be one of two words: 0 or 1 (its index), -1. */
static int one_of(struct frame_reader *fr, const char *w0, const char *w1)
{
	if (fr_is(fr, w0) == 1)
		return 0;
	return fr_is(fr, w1) == 1 ? 1 : -1;
}

/* The fields after `mail`. */
static int read_mail(struct frame_reader *fr, struct qc_request *r)
{
	int body, utf8;

	if (fr_bytes(fr, &r->ticket, &r->ticket_len, TICKET_MAX) < 0 ||
	    fr_str(fr, r->sender, sizeof r->sender) < 0 || fr_u64(fr, &r->size, UINT64_MAX / 2) < 0)
		return -1;
	body = one_of(fr, "7bit", "8bitmime");
	utf8 = one_of(fr, "0", "1");
	if (body < 0 || utf8 < 0 || fr_str(fr, r->ret, sizeof r->ret) < 0 ||
	    fr_str(fr, r->envid, sizeof r->envid) < 0)
		return -1;
	r->eightbit = body;
	r->smtputf8 = utf8;
	return 0;
}

/* The fields after the verb. */
static int read_fields(struct frame_reader *fr, struct qc_request *r)
{
	switch (r->verb) {
	case QC_MAIL:
		return read_mail(fr, r);
	case QC_RCPT:
		return fr_str(fr, r->addr, sizeof r->addr) | fr_str(fr, r->notify, sizeof r->notify) |
		       fr_str(fr, r->orcpt, sizeof r->orcpt);
	case QC_CHUNK:
		return fr_bytes(fr, &r->chunk, &r->chunk_len, QUEUECHAN_CHUNK_MAX);
	case QC_ABORT:
		return fr_str(fr, r->reason, sizeof r->reason);
	default:
		return 0;
	}
}

/* queued's end (see queuechan.h). */
int queuechan_read(const unsigned char *p, size_t n, struct qc_request *r)
{
	struct frame_reader fr;
	int k;

	memset(r, 0, sizeof *r);
	fr_init(&fr, p, n);
	k = fr_verb(&fr, verbs, QC_RSET + 1);
	if (k < 0)
		return -1;
	r->verb = (enum qc_verb)k;
	if (read_fields(&fr, r) != 0 || fr_end(&fr) != 0 || !request_ok(r)) {
		memset(r, 0, sizeof *r);
		return -1;
	}
	return 0;
}

/* `reply` (see queuechan.h). */
const unsigned char *queuechan_write_reply(unsigned char *buf, size_t cap, size_t *n,
                                           unsigned code, const char *text)
{
	struct frame_writer w;
	size_t tn = strnlen(text, QUEUECHAN_TEXT_MAX + 1);

	if (code < 200 || code > 599 ||
	    !printable((const unsigned char *)text, tn, QUEUECHAN_TEXT_MAX, 1))
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "reply");
	fw_u64(&w, code);
	fw_bytes(&w, text, tn);
	return fw_finish(&w, n);
}

/* Read a `reply` (see queuechan.h). */
int queuechan_read_reply(const unsigned char *p, size_t n, unsigned *code, char *text,
                         size_t *tlen)
{
	struct frame_reader fr;
	const unsigned char *t;
	uint64_t c;
	size_t tn;

	fr_init(&fr, p, n);
	if (fr_is(&fr, "reply") != 1 || fr_u64(&fr, &c, 599) < 0 || c < 200 ||
	    fr_bytes(&fr, &t, &tn, QUEUECHAN_TEXT_MAX) < 0 || fr_end(&fr) < 0 ||
	    !printable(t, tn, QUEUECHAN_TEXT_MAX, 1))
		return -1;
	*code = (unsigned)c;
	memcpy(text, t, tn);
	text[tn] = '\0';
	*tlen = tn;
	return 0;
}
