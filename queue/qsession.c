/*
 * qsession.c — the per-session state machine of postern-queued: frame
 * dispatch, `mail`, `rcpt`, `rset` (the channel's grammar is
 * lib/queuechan.h, which smtpd links too; the replies are in qsession.h;
 * DATA, chunks and the commit are in qdata.c).  In the sandbox; every
 * frame comes from a postern-smtpd that may be compromised, so every
 * frame is read by lib/queuechan.c, which fails closed, and any violation
 * closes only this session.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "idna.h"
#include "log.h"
#include "mailbox.h"
#include "queuechan.h"
#include "qdata.h"
#include "qsession.h"
#include "senders.h"

/* Set a reply. */
void qreply_set(struct qreply *r, int code, const char *text)
{
	size_t n = strlen(text);

	if (n > QS_TEXT_MAX)
		n = QS_TEXT_MAX;
	r->code = code;
	memcpy(r->text, text, n);
	r->text[n] = '\0';
}

/* A fresh session. */
void qsession_init(struct qsession *s, int fd)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->state = QS_IDLE;
	commit_init(&s->c);
}

/* Drop the transaction (see qsession.h). */
void qsession_reset(struct queued *d, struct qsession *s)
{
	commit_undo(&s->c, &d->q);
	commit_init(&s->c);
	quota_release(&d->quota, s->login, &s->resv, (uint64_t)time(NULL));
	hdrscan_end(&s->h);
	free(s->rcpts);
	s->rcpts = NULL;
	s->rcpt_len = s->rcpt_cap = 0;
	s->nrcpt = 0;
	s->too_big = 0;
	s->login[0] = s->sender[0] = '\0';
	s->state = QS_IDLE;
}

/* Space check for queue_minfree (see queued.h). */
int queued_space_ok(const struct queued *d, uint64_t need)
{
	struct statvfs sv;
	uint64_t avail;

	if (d->conf.minfree == 0)
		return 1;
	if (fstatvfs(d->q.root, &sv) != 0)
		return 0;
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return avail >= d->conf.minfree && avail - d->conf.minfree >= need;
}

/* Log a refusal with the session's facts. */
void qs_log_refused(const struct qsession *s, const char *what, int code, const char *why)
{
	struct logline l;

	ll_begin(&l, "refused");
	ll_str(&l, "session", s->id);
	ll_str(&l, "command", what);
	ll_u64(&l, "code", (uint64_t)code);
	ll_str(&l, "reason", why);
	if (s->login[0])
		ll_str(&l, "user", s->login);
	ll_emit(&l);
}

/* Refuse with code/text and log why; the reply is set. */
static enum qs_result refuse(struct qsession *s, struct qreply *r, const char *what,
                             int code, const char *text, const char *why)
{
	qs_log_refused(s, what, code, why);
	qreply_set(r, code, text);
	return QR_REPLY;
}

/* The transaction's facts from a `mail` request, which lib/queuechan.c
 * checked with the envelope grammar smtpd accepted them by: whatever
 * passes it the delivery workers can send. */
static void keep_mail(struct qsession *s, const struct qc_request *q)
{
	_Static_assert(sizeof s->sender >= sizeof q->sender && sizeof s->envid >= sizeof q->envid &&
	               sizeof s->ret >= sizeof q->ret, "a mail request's fields fit");
	memcpy(s->sender, q->sender, sizeof q->sender);
	memcpy(s->ret, q->ret, sizeof q->ret);
	memcpy(s->envid, q->envid, sizeof q->envid);
	memcpy(s->body, q->eightbit ? "8bitmime" : "7bit", q->eightbit ? 9 : 5);
	s->smtputf8 = q->smtputf8;
}

/* `mail`: identity, space, size, sender, quota. */
static enum qs_result on_mail(struct queued *d, struct qsession *s, const struct qc_request *q,
                              struct qreply *r)
{
	const unsigned char *tk = q->ticket;
	size_t tklen = q->ticket_len;
	uint64_t size = q->size;
	int ok;

	if (s->state != QS_IDLE)
		return QR_CLOSE;
	keep_mail(s, q);
	if (!d->have_key)
		return refuse(s, r, "mail", 451, "4.3.0 Queue not ready, try again later", "no-key");
	if (ticket_verify(tk, tklen, d->key, s->id, s->login, sizeof s->login) < 0) {
		s->login[0] = '\0';
		return refuse(s, r, "mail", 530, "5.7.0 Authentication required", "bad-ticket");
	}
	if (!queued_space_ok(d, size))
		return refuse(s, r, "mail", 452, "4.3.1 Insufficient system storage", "minfree");
	if (size > d->conf.size_max)
		return refuse(s, r, "mail", 552, "5.3.4 Message size exceeds fixed maximum message size",
		              "size");
	ok = s->sender[0] == '\0' ? 1 :
	     senders_allowed(&d->senders, s->login, s->sender, strlen(s->sender));
	if (ok < 0)
		return refuse(s, r, "mail", 451, "4.3.0 Temporary lookup failure", "senders-table");
	if (ok == 0) {
		struct logline l;

		ll_begin(&l, "sender-refused");
		ll_str(&l, "session", s->id);
		ll_str(&l, "user", s->login);
		ll_str(&l, "sender", s->sender);
		ll_emit(&l);
		return refuse(s, r, "mail", 553, "5.7.1 Sender address not allowed for this login",
		              "sender");
	}
	ok = quota_reserve_message(&d->quota, &d->quotas, s->login, &s->resv, (uint64_t)time(NULL));
	if (ok != 0)
		return refuse(s, r, "mail", ok < 0 ? 451 : 450,
		              ok < 0 ? "4.3.0 Temporary lookup failure"
		                     : "4.7.1 Message quota exceeded, try again later", "quota");
	s->state = QS_MAIL;
	qreply_set(r, 250, "2.1.0 Ok");
	return QR_REPLY;
}

/* Keep one recipient record. */
static int keep_rcpt(struct qsession *s, const char *addr, const char *notify,
                     const char *orcpt)
{
	size_t need = strlen(addr) + strlen(notify) + strlen(orcpt) + 64;

	if (s->rcpt_cap - s->rcpt_len < need) {
		size_t cap = s->rcpt_cap * 2 + need;
		unsigned char *p = realloc(s->rcpts, cap);

		if (p == NULL)
			return -1;
		s->rcpts = p;
		s->rcpt_cap = cap;
	}
	return envelope_rcpt_encode(s->rcpts, s->rcpt_cap, &s->rcpt_len, addr, notify, orcpt);
}

/* `rcpt`: count and quota. */
static enum qs_result on_rcpt(struct queued *d, struct qsession *s, const struct qc_request *rq,
                              struct qreply *r)
{
	int q;

	/* UTF-8 only in a transaction whose MAIL had SMTPUTF8 (RFC 6531). */
	if (s->state != QS_MAIL ||
	    (!s->smtputf8 && mailbox_has_utf8((const unsigned char *)rq->addr, strlen(rq->addr))))
		return QR_CLOSE;
	/* U-labels IDNA2008 refuses: no route or DNS lookup could use them,
	 * so refused now, before a 250, rather than bounced later. */
	if (!idna_mailbox_ok(rq->addr))
		return refuse(s, r, "rcpt", 553, "5.1.2 Domain name not valid in IDNA2008", "idna");
	if (s->nrcpt >= d->conf.rcpt_max)
		return refuse(s, r, "rcpt", 452, "4.5.3 Too many recipients", "recipients_max");
	/* Reserved before it is kept: if keep_rcpt fails, the unit stays
	 * reserved until the transaction ends (never counted short). */
	q = quota_reserve_rcpt(&d->quota, &d->quotas, s->login, &s->resv, (uint64_t)time(NULL));
	if (q != 0)
		return refuse(s, r, "rcpt", q < 0 ? 451 : 450,
		              q < 0 ? "4.3.0 Temporary lookup failure"
		                    : "4.7.1 Recipient quota exceeded, try again later", "quota");
	if (keep_rcpt(s, rq->addr, rq->notify, rq->orcpt) < 0)
		return refuse(s, r, "rcpt", 451, "4.3.0 Local error in processing", "memory");
	s->nrcpt++;
	qreply_set(r, 250, "2.1.5 Ok");
	return QR_REPLY;
}

/* `rset`: forget the transaction. */
static enum qs_result on_rset(struct queued *d, struct qsession *s, struct qreply *r)
{
	if (s->state == QS_DATA || s->state == QS_COMMITTING)
		return QR_CLOSE;
	qsession_reset(d, s);
	qreply_set(r, 250, "2.0.0 Ok");
	return QR_REPLY;
}

/* Dispatch one frame (see qsession.h). */
enum qs_result qsession_frame(struct queued *d, struct qsession *s,
                              const unsigned char *payload, size_t len, struct qreply *r)
{
	static struct qc_request q;

	if (queuechan_read(payload, len, &q) != 0)
		return QR_CLOSE;
	switch (q.verb) {
	case QC_CHUNK:
		return qdata_chunk(d, s, q.chunk, q.chunk_len);
	case QC_MAIL:
		return on_mail(d, s, &q, r);
	case QC_RCPT:
		return on_rcpt(d, s, &q, r);
	case QC_DATA:
		return qdata_begin(d, s, r);
	case QC_END:
		return qdata_end(d, s, r);
	case QC_ABORT:
		return qdata_abort(d, s);
	case QC_RSET:
		return on_rset(d, s, r);
	}
	return QR_CLOSE;
}
