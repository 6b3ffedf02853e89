/*
 * qsession.c — the per-session state machine of postern-queued: frame
 * dispatch, `mail`, `rcpt`, `rset` (grammar and replies in qsession.h;
 * DATA, chunks and the commit are in qdata.c).  In the sandbox; every
 * frame comes from a postern-smtpd that may be compromised, so every
 * field is read by a typed getter that fails closed, and any violation
 * closes only this session.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "dsnparam.h"
#include "log.h"
#include "mailbox.h"
#include "netstring.h"
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

/* The fields of `mail`, checked for shape.  0 or -1. */
static int read_mail(struct frame_reader *fr, struct qsession *s, const unsigned char **tk,
                     size_t *tklen, uint64_t *size)
{
	char smtputf8[4];

	if (fr_bytes(fr, tk, tklen, TICKET_MAX) < 0 || fr_str(fr, s->sender, sizeof s->sender) < 0 ||
	    fr_u64(fr, size, UINT64_MAX / 2) < 0 || fr_str(fr, s->body, sizeof s->body) < 0 ||
	    fr_str(fr, smtputf8, sizeof smtputf8) < 0 || fr_str(fr, s->ret, sizeof s->ret) < 0 ||
	    fr_str(fr, s->envid, sizeof s->envid) < 0 || fr_end(fr) < 0)
		return -1;
	if (strcmp(s->body, "7bit") != 0 && strcmp(s->body, "8bitmime") != 0)
		return -1;
	if (strcmp(smtputf8, "0") != 0 && strcmp(smtputf8, "1") != 0)
		return -1;
	s->smtputf8 = smtputf8[0] == '1';
	/* The grammar smtpd accepted them by (lib/mailbox.h, dsnparam.h):
	 * whatever passes here the delivery workers can send. */
	if (!dsn_stored_ret_ok((const unsigned char *)s->ret, strlen(s->ret)) ||
	    !mailbox_sender_ok((const unsigned char *)s->sender, strlen(s->sender), s->smtputf8) ||
	    !dsn_stored_envid_ok((const unsigned char *)s->envid, strlen(s->envid)))
		return -1;
	return 0;
}

/* `mail`: identity, space, size, sender, quota. */
static enum qs_result on_mail(struct queued *d, struct qsession *s, struct frame_reader *fr,
                              struct qreply *r)
{
	const unsigned char *tk;
	size_t tklen;
	uint64_t size;
	int ok;

	if (s->state != QS_IDLE || read_mail(fr, s, &tk, &tklen, &size) < 0)
		return QR_CLOSE;
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
static enum qs_result on_rcpt(struct queued *d, struct qsession *s, struct frame_reader *fr,
                              struct qreply *r)
{
	static char addr[ENV_ADDR_MAX + 1], orcpt[ENV_XTEXT_MAX + 1];
	char notify[ENV_FIELD_MAX];
	int q;

	if (s->state != QS_MAIL || fr_str(fr, addr, sizeof addr) < 0 ||
	    fr_str(fr, notify, sizeof notify) < 0 || fr_str(fr, orcpt, sizeof orcpt) < 0 ||
	    fr_end(fr) < 0)
		return QR_CLOSE;
	if (!mailbox_rcpt_ok((const unsigned char *)addr, strlen(addr), s->smtputf8) ||
	    !dsn_stored_notify_ok((const unsigned char *)notify, strlen(notify)) ||
	    !dsn_stored_orcpt_ok((const unsigned char *)orcpt, strlen(orcpt)))
		return QR_CLOSE;
	if (s->nrcpt >= d->conf.rcpt_max)
		return refuse(s, r, "rcpt", 452, "4.5.3 Too many recipients", "recipients_max");
	/* Reserved before it is kept: if keep_rcpt fails, the unit stays
	 * reserved until the transaction ends (never counted short). */
	q = quota_reserve_rcpt(&d->quota, &d->quotas, s->login, &s->resv, (uint64_t)time(NULL));
	if (q != 0)
		return refuse(s, r, "rcpt", q < 0 ? 451 : 450,
		              q < 0 ? "4.3.0 Temporary lookup failure"
		                    : "4.7.1 Recipient quota exceeded, try again later", "quota");
	if (keep_rcpt(s, addr, notify, orcpt) < 0)
		return refuse(s, r, "rcpt", 451, "4.3.0 Local error in processing", "memory");
	s->nrcpt++;
	qreply_set(r, 250, "2.1.5 Ok");
	return QR_REPLY;
}

/* `rset`: forget the transaction. */
static enum qs_result on_rset(struct queued *d, struct qsession *s, struct frame_reader *fr,
                              struct qreply *r)
{
	if (fr_end(fr) < 0 || s->state == QS_DATA || s->state == QS_COMMITTING)
		return QR_CLOSE;
	qsession_reset(d, s);
	qreply_set(r, 250, "2.0.0 Ok");
	return QR_REPLY;
}

/* Dispatch one frame (see qsession.h). */
enum qs_result qsession_frame(struct queued *d, struct qsession *s,
                              const unsigned char *payload, size_t len, struct qreply *r)
{
	struct frame_reader fr;

	fr_init(&fr, payload, len);
	if (fr_is(&fr, "chunk") == 1)
		return qdata_chunk(d, s, &fr);
	if (fr_is(&fr, "mail") == 1)
		return on_mail(d, s, &fr, r);
	if (fr_is(&fr, "rcpt") == 1)
		return on_rcpt(d, s, &fr, r);
	if (fr_is(&fr, "data") == 1)
		return qdata_begin(d, s, &fr, r);
	if (fr_is(&fr, "end") == 1)
		return qdata_end(d, s, &fr, r);
	if (fr_is(&fr, "abort") == 1)
		return qdata_abort(d, s, &fr);
	if (fr_is(&fr, "rset") == 1)
		return on_rset(d, s, &fr, r);
	return QR_CLOSE;
}
