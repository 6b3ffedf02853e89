/*
 * bounce.c — committing a delivery status notification as a new queue
 * message from <> (bounce.h).  postern-queued, in its
 * sandbox: the report is composed by bounce_compose.c straight into
 * tmp/<id> through commit.h, then committed synchronously as a group of
 * one (fdatasync of both files, env/ then new/ rename, directory fsync),
 * the same durable order as a client's message (commit.c).
 *
 * The report's envelope: sender "" (RFC 5321 §4.5.5: never answered),
 * one recipient, the original sender, with NOTIFY=NEVER (RFC 3461 §6.2:
 * no report about a report); user "MAILER-DAEMON", mode "local", session,
 * ip and the header block empty (a local generation, no client; the
 * report carries its own Date and Message-ID); body 7bit, or 8bitmime
 * with smtputf8 when the sender is a UTF-8 address.
 *
 * Failure policy: any failure removes what was written (commit_undo) and
 * returns -1 with errno; the caller keeps the original and tries again,
 * so a report may be duplicated by a crash but never lost.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "bounce.h"
#include "bounce_compose.h"
#include "commit.h"

/* queue_lifetime's default (INSTALL.md "Delivery") when -L was not given. */
#define BOUNCE_LIFETIME_DEFAULT 432000u

/* A buffered sink into the commit. */
struct csink {
	struct commit *c;
	const struct qdir *q;
	unsigned char buf[16384];
	size_t len;
};

/* Write out the buffer. */
static int cs_flush(struct csink *k)
{
	int rc = 0;

	if (k->len > 0 && commit_write(k->c, k->q, k->buf, k->len) != 0) {
		errno = k->c->err ? k->c->err : EIO;
		rc = -1;
	}
	k->len = 0;
	return rc;
}

/* bounce_sink write: buffer, flush when full. */
static int cs_write(void *ctx, const void *p, size_t n)
{
	struct csink *k = ctx;
	const unsigned char *b = p;

	while (n > 0) {
		size_t m = sizeof k->buf - k->len;

		if (m == 0) {
			if (cs_flush(k) != 0)
				return -1;
			continue;
		}
		if (m > n)
			m = n;
		memcpy(k->buf + k->len, b, m);
		k->len += m;
		b += m;
		n -= m;
	}
	return 0;
}

/* The report's envelope (see the header) and the commit's steps 2-5. */
static int commit_report(struct commit *c, const struct qdir *q, const char *to, int utf8,
                         time_t now)
{
	unsigned char rcpt[ENV_ADDR_MAX + 64];
	size_t rlen = 0;
	struct envelope_in in = { 0 };
	struct commit *group[1] = { c };

	if (envelope_rcpt_encode(rcpt, sizeof rcpt, &rlen, to, "NEVER", "") != 0) {
		errno = EINVAL;
		return -1;
	}
	in.id = c->id;
	in.sender = "";
	in.user = "MAILER-DAEMON";
	in.session = "";
	in.ip = "";
	in.port = 0;
	in.mode = "local";
	in.time = (uint64_t)now;
	in.size = c->size;
	in.body = utf8 ? "8bitmime" : "7bit";
	in.smtputf8 = utf8;
	in.ret = "";
	in.envid = "";
	in.rcpts = rcpt;
	in.rcpt_len = rlen;
	in.header = "";
	in.header_len = 0;
	if (commit_prepare(c, q, &in) != 0) {
		errno = c->err ? c->err : EIO;
		return -1;
	}
	commit_group(group, 1, q);
	if (!commit_ok(c)) {
		errno = c->err ? c->err : EIO;
		return -1;
	}
	return 0;
}

/* Compose and commit (see bounce.h). */
int bounce_queue(struct queued *d, const struct envelope *e, int msgfd,
                 enum dsn_action a, const struct dsn_rcpt *r, size_t n,
                 char id_out[RANDID_LEN + 1])
{
	static struct csink k;
	char to[ENV_ADDR_MAX + 1];
	struct bounce_job j = { 0 };
	struct commit c;
	int utf8 = 0, err;

	id_out[0] = '\0';
	if (e == NULL || !e->loaded) {
		errno = EINVAL;
		return -1;
	}
	/* RFC 3461 §6.2, RFC 5321 §4.5.5: nothing is ever sent to <>; and
	 * a report about no recipient is no report. */
	if (e->sender.n == 0 || n == 0)
		return 0;
	if (e->sender.n > ENV_ADDR_MAX || memchr(e->sender.p, '\0', e->sender.n) != NULL) {
		errno = EINVAL;
		return -1;
	}
	memcpy(to, e->sender.p, e->sender.n);
	to[e->sender.n] = '\0';
	j.hostname = d->conf.hostname;
	j.e = e;
	j.msgfd = msgfd;
	j.a = a;
	j.r = r;
	j.n = n;
	j.now = time(NULL);
	/* Will-Retry-Until: the scheduler gives up -L seconds after arrival. */
	j.retry_until = e->time_v +
	                (d->conf.lifetime_s ? d->conf.lifetime_s : BOUNCE_LIFETIME_DEFAULT);
	if (commit_begin(&c, &d->q) != 0) {
		errno = c.err ? c.err : EIO;
		return -1;
	}
	k.c = &c;
	k.q = &d->q;
	k.len = 0;
	if (bounce_compose(&j, &(struct bounce_sink){ cs_write, &k }, &utf8) != 0 ||
	    cs_flush(&k) != 0 || commit_report(&c, &d->q, to, utf8, j.now) != 0) {
		err = errno ? errno : EIO;
		commit_undo(&c, &d->q);
		errno = err;
		return -1;
	}
	memcpy(id_out, c.id, RANDID_LEN + 1);
	commit_done(&c);
	return 0;
}
