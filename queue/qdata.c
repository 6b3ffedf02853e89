/*
 * qdata.c — the message of one queued session: `data` creates tmp/<id>,
 * each `chunk` is written to it at once (never the whole message in
 * memory) while hdrscan keeps a bounded copy of the header section and
 * crlfcheck follows the whole message's line ends, and `end` checks the
 * line ends and the header senders, builds the trusted header block and
 * the envelope, and runs commit_prepare (commit.c).  The group's
 * fdatasyncs, renames and directory fsync (commit_group) and the 250
 * follow in server.c through qsession_commit_done.  postern-queued, in the sandbox.
 *
 * Byte cap: a message over message_size_max is dropped at once (its file
 * removed) and answered 552 5.3.4 at `end`; smtpd enforces the same limit,
 * but queued does not trust it.
 *
 * Line ends: a message with a bare CR, a bare LF or a NUL anywhere (header
 * or body), or whose last line has no CRLF, is refused 550 5.6.0 at `end`
 * and nothing of it stays.  smtpd refuses the first three in DATA and can
 * produce none of them (its messages are empty or end in CRLF: the CRLF
 * before the final dot belongs to the message), but a compromised smtpd
 * could store `<CR>.<CR><LF>` and have it sent on to a reader that takes
 * it for the end of data (invariant 2).  The texts are smtpd's own, so a
 * client sees the same reply whichever process caught the message.
 */
#include <string.h>
#include <time.h>

#include "addrlist.h"
#include "crlfcheck.h"
#include "log.h"
#include "qdata.h"
#include "sched.h"
#include "senders.h"
#include "trusted.h"

/* `data`: open the message file. */
enum qs_result qdata_begin(struct queued *d, struct qsession *s, struct qreply *r)
{
	const char *text;
	int code;

	if (s->state != QS_MAIL)
		return QR_CLOSE;
	if (s->nrcpt == 0) {
		qreply_set(r, 554, "5.5.1 No valid recipients");
		return QR_REPLY;
	}
	if (!queued_space_ok(d, 0)) {
		qs_log_refused(s, "data", 452, "minfree");
		qreply_set(r, 452, "4.3.1 Insufficient system storage");
		return QR_REPLY;
	}
	if (hdrscan_begin(&s->h) < 0 || commit_begin(&s->c, &d->q) < 0) {
		code = commit_reply_code(s->c.err, &text);
		hdrscan_end(&s->h);
		commit_init(&s->c);
		qs_log_refused(s, "data", code, "create");
		qreply_set(r, code, text);
		return QR_REPLY;
	}
	s->too_big = 0;
	crlf_init(&s->crlf);
	s->state = QS_DATA;
	qreply_set(r, 354, "End data with <CR><LF>.<CR><LF>");
	return QR_REPLY;
}

/* `chunk`: write through, scan the header and the line ends. */
enum qs_result qdata_chunk(struct queued *d, struct qsession *s, const unsigned char *p,
                           size_t n)
{
	if (s->state != QS_DATA)
		return QR_CLOSE;
	if (s->too_big || s->c.err)
		return QR_NONE;
	if (n > d->conf.size_max - s->c.size) {
		s->too_big = 1;
		commit_undo(&s->c, &d->q);
		return QR_NONE;
	}
	hdrscan_feed(&s->h, p, n);
	crlf_feed(&s->crlf, p, n);
	(void)commit_write(&s->c, &d->q, p, n);
	return QR_NONE;
}

/* `abort`: smtpd gave up on the message; no reply. */
enum qs_result qdata_abort(struct queued *d, struct qsession *s)
{
	if (s->state != QS_DATA)
		return QR_CLOSE;
	qsession_reset(d, s);
	return QR_NONE;
}

struct hdr_check {
	struct queued *d;
	struct qsession *s;
	int refused;		/* an address the login may not use */
	int error;		/* table error */
};

/* One header address. */
static int check_addr(void *ctx, const char *addr, size_t n)
{
	struct hdr_check *c = ctx;
	int ok = senders_allowed(&c->d->senders, c->s->login, addr, n);

	if (ok == 1)
		return 0;
	if (ok < 0)
		c->error = 1;
	else {
		struct logline l;

		ll_begin(&l, "sender-refused");
		ll_str(&l, "session", c->s->id);
		ll_str(&l, "user", c->s->login);
		ll_bytes(&l, "header-address", addr, n);
		ll_emit(&l);
		c->refused = 1;
	}
	return 1;
}

/* One From: or Sender: field. */
static int check_field(void *ctx, const char *name, const unsigned char *v, size_t n)
{
	struct hdr_check *c = ctx;

	(void)name;
	/* n == HDRSCAN_MAX could only be a field cut short: what was cut
	 * would go unchecked, so refuse (fail closed). */
	if (n >= HDRSCAN_MAX || addrlist_parse(v, n, check_addr, c) == -1)
		c->refused = 1;	/* unreadable: fail closed */
	return 0;
}

/* The header From:/Sender: check: 0 ok, else the reply is set. */
static int header_senders(struct queued *d, struct qsession *s, struct qreply *r)
{
	/* As large as the whole header section, so no field is ever given
	 * cut: a cut field could end at a clean point (after a long comment)
	 * and hide the addresses after it. */
	static unsigned char scratch[HDRSCAN_MAX];
	struct hdr_check c = { d, s, 0, 0 };
	int froms;

	if (!d->conf.header_check)
		return 0;
	froms = hdrscan_fields(&s->h, "From", check_field, &c, scratch, sizeof scratch);
	(void)hdrscan_fields(&s->h, "Sender", check_field, &c, scratch, sizeof scratch);
	if (c.error) {
		qreply_set(r, 451, "4.3.0 Temporary lookup failure");
		return -1;
	}
	if (froms <= 0) {
		qs_log_refused(s, "end", 550, "no-from");
		qreply_set(r, 550, "5.6.0 Message has no From: header field");
		return -1;
	}
	if (c.refused) {
		qs_log_refused(s, "end", 553, "header-sender");
		qreply_set(r, 553, "5.7.1 Header sender address not allowed for this login");
		return -1;
	}
	return 0;
}

/* Prepare the message for the group commit; QR_COMMIT, or QR_REPLY with
 * an error. */
static enum qs_result place(struct queued *d, struct qsession *s, struct qreply *r)
{
	static unsigned char scratch[4];
	static char header[ENV_HEADER_MAX];
	struct trusted_in t = { 0 };
	struct envelope_in e = { 0 };
	const char *text;
	int code;

	t.hostname = d->conf.hostname;
	t.qid = s->c.id;
	t.mode = s->mode;
	t.tls_version = s->tls_version[0] ? s->tls_version : NULL;
	t.tls_cipher = s->tls_cipher;
	t.ip = d->conf.received_ip ? s->ip : NULL;
	t.now = time(NULL);
	t.need_message_id = hdrscan_fields(&s->h, "Message-ID", NULL, NULL, scratch, 0) <= 0;
	t.need_date = hdrscan_fields(&s->h, "Date", NULL, NULL, scratch, 0) <= 0;
	e.header_len = trusted_block(header, sizeof header, &t);
	e.header = header;
	e.id = s->c.id;
	e.sender = s->sender;
	e.user = s->login;
	e.session = s->id;
	e.ip = s->ip;
	e.port = s->port;
	e.mode = s->mode;
	e.time = (uint64_t)t.now;
	e.size = s->c.size;
	e.body = s->body;
	e.ret = s->ret;
	e.envid = s->envid;
	e.smtputf8 = s->smtputf8;
	e.rcpts = s->rcpts;
	e.rcpt_len = s->rcpt_len;
	if (e.header_len == 0 || commit_prepare(&s->c, &d->q, &e) < 0) {
		code = commit_reply_code(s->c.err ? s->c.err : 0, &text);
		qs_log_refused(s, "end", code, "commit");
		qsession_reset(d, s);
		qreply_set(r, code, text);
		return QR_REPLY;
	}
	s->state = QS_COMMITTING;
	return QR_COMMIT;
}

/* Why a message's line ends refuse it, first match wins (as smtpd's
 * refusals: the smuggling signal first). */
static const struct crlf_refusal {
	unsigned flag;		/* enum crlf_flags */
	const char *why;	/* log reason */
	const char *text;
} crlf_refusals[] = {
	{ CRLF_BARE, "bare-cr-lf", "5.6.0 Bare CR or LF in message (RFC 5321 2.3.8)" },
	{ CRLF_NUL, "nul", "5.6.0 NUL byte in message (RFC 2045 2.8)" },
	{ CRLF_UNENDED, "no-final-crlf", "5.6.0 Message does not end with CRLF" },
};

/* 1 and r set if the whole message's line ends refuse it, else 0. */
static int line_ends_refused(const struct qsession *s, struct qreply *r)
{
	unsigned flags = crlf_finish(&s->crlf);

	for (size_t i = 0; i < sizeof crlf_refusals / sizeof crlf_refusals[0]; i++) {
		if (flags & crlf_refusals[i].flag) {
			qs_log_refused(s, "end", 550, crlf_refusals[i].why);
			qreply_set(r, 550, crlf_refusals[i].text);
			return 1;
		}
	}
	return 0;
}

/* `end`: decide, then place. */
enum qs_result qdata_end(struct queued *d, struct qsession *s, struct qreply *r)
{
	const char *text;
	int code;

	if (s->state != QS_DATA)
		return QR_CLOSE;
	if (s->too_big || s->h.overflow) {
		qs_log_refused(s, "end", 552, s->too_big ? "size" : "header-size");
		qsession_reset(d, s);
		qreply_set(r, 552, s->too_big ? "5.3.4 Message size exceeds fixed maximum message size"
		                              : "5.3.4 Message header section too large");
		return QR_REPLY;
	}
	if (s->c.err) {
		code = commit_reply_code(s->c.err, &text);
		qs_log_refused(s, "end", code, "write");
		qsession_reset(d, s);
		qreply_set(r, code, text);
		return QR_REPLY;
	}
	/* After the size and write checks: the chunks after either were
	 * not fed to crlf, so its verdict would be about a cut message. */
	if (line_ends_refused(s, r)) {
		qsession_reset(d, s);
		return QR_REPLY;
	}
	if (header_senders(d, s, r) < 0) {
		qsession_reset(d, s);
		return QR_REPLY;
	}
	return place(d, s, r);
}

/* After the group's commit_group (see qsession.h). */
void qsession_commit_done(struct queued *d, struct qsession *s, struct qreply *r)
{
	struct logline l;
	char text[QS_TEXT_MAX + 1];
	const char *etext;
	int code;

	if (!commit_ok(&s->c)) {
		code = commit_reply_code(s->c.err, &etext);
		qs_log_refused(s, "end", code, "commit");
		qsession_reset(d, s);
		qreply_set(r, code, etext);
		return;
	}
	quota_settle(&s->resv);	/* before qsession_reset, which would release it */
	d->committed++;
	if (d->sched != NULL)
		sched_add(d->sched, s->c.id);	/* the scheduler sees it at once */
	ll_begin(&l, "queued");
	ll_str(&l, "session", s->id);
	ll_str(&l, "id", s->c.id);
	ll_str(&l, "user", s->login);
	ll_str(&l, "sender", s->sender);
	ll_u64(&l, "rcpts", s->nrcpt);
	ll_u64(&l, "size", s->c.size);
	ll_emit(&l);
	memcpy(text, "2.0.0 Ok: queued as ", 20);
	memcpy(text + 20, s->c.id, RANDID_LEN + 1);
	qreply_set(r, 250, text);
	commit_done(&s->c);
	qsession_reset(d, s);
}
