/*
 * fuzz_envelope_chain.c — libFuzzer property target for the one envelope
 * grammar (lib/mailbox.h, lib/dsnparam.h): whatever postern-smtpd accepts
 * must travel unrefused through every later stage and come out as an SMTP
 * command the same grammar accepts again.
 *
 * Input: byte 0 bit 0 = the client gave SMTPUTF8 on MAIL (appended to the
 * MAIL argument); the rest is "MAIL-argument \n RCPT-argument" (what
 * follows "MAIL FROM:" and "RCPT TO:").  When smtpd's parser
 * (smtpd/mailarg.c) accepts both, the chain is:
 *   1. queued's re-check of the `mail` and `rcpt` fields (the stored-form
 *      checks of queue/qsession.c; a recipient whose U-labels IDNA2008
 *      refuses is answered 553 at RCPT there, so it ends the chain);
 *   2. the envelope: envelope_rcpt_encode, envelope_write to a memfd,
 *      envelope_load, envelope_rcpts (queue/envelope.c);
 *   3. the destination domain as the scheduler takes it (sroute_domain);
 *   4. the `job` frame written with lib/jobchan.h's writer, as
 *      queue/sched_worker.c does, and read back by job_parse;
 *   5. the MAIL FROM and RCPT TO lines postern-deliver writes
 *      (deliver/smtpclient.c: "<addr>" and the DSN parameters), parsed
 *      again by smtpd's parser.
 * Aborts if any stage refuses what the previous one accepted, if the job
 * marks the sender, the recipient or the domain invalid, if a command line
 * holds CR, LF or NUL, or if the re-parsed path or parameters differ.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dsnparam.h"
#include "idna.h"
#include "jobchan.h"
#include "mailbox.h"
#include "netstring.h"
#include "../queue/envelope.h"
#include "../queue/sched_route.h"
#include "../smtpd/mailarg.h"

/* Abort unless cond. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* Stage 1: queued's checks of the `mail` and `rcpt` fields. */
static void queued_checks(const struct mail_arg *m, const struct mail_arg *r)
{
	check(mailbox_sender_ok((const unsigned char *)m->path, strlen(m->path), m->smtputf8));
	check(dsn_stored_ret_ok((const unsigned char *)m->ret, strlen(m->ret)));
	check(dsn_stored_envid_ok((const unsigned char *)m->envid, strlen(m->envid)));
	check(mailbox_rcpt_ok((const unsigned char *)r->path, strlen(r->path), m->smtputf8));
	check(dsn_stored_notify_ok((const unsigned char *)r->notify, strlen(r->notify)));
	check(dsn_stored_orcpt_ok((const unsigned char *)r->orcpt, strlen(r->orcpt)));
}

/* The recipient read back from the envelope. */
struct got {
	struct env_field addr, notify, orcpt;
	int n;
};

static int take_rcpt(void *ctx, const struct env_field *a, const struct env_field *nt,
                     const struct env_field *o)
{
	struct got *g = ctx;

	g->addr = *a;
	g->notify = *nt;
	g->orcpt = *o;
	g->n++;
	return 0;
}

/* Stage 2: write and load the envelope; the loaded one stays mapped. */
static int envelope_round(const struct mail_arg *m, const struct mail_arg *r,
                          struct envelope *e, struct got *g)
{
	unsigned char rc[2048];
	size_t rl = 0;
	struct envelope_in in = {
		.id = "aaaaaaaaaaaaaaaaaaaa", .sender = m->path, .user = "u@x.y",
		.session = "s1", .ip = "192.0.2.9", .mode = "starttls", .port = 1,
		.time = 1, .size = 1, .body = m->body == BODY_8BITMIME ? "8bitmime" : "7bit",
		.ret = m->ret, .envid = m->envid, .smtputf8 = m->smtputf8, .header = "",
	};
	int fd = memfd_create("env", 0);

	check(fd >= 0);
	check(envelope_rcpt_encode(rc, sizeof rc, &rl, r->path, r->notify, r->orcpt) == 0);
	in.rcpts = rc;
	in.rcpt_len = rl;
	check(envelope_write(fd, &in) == 0);
	check(envelope_load(e, fd) == 0);
	check(envelope_rcpts(e, take_rcpt, g) == 0 && g->n == 1);
	return fd;
}

/* Stage 5: a command line as postern-deliver writes it, parsed again. */
static void reparse(int rcpt, const char *addr, size_t an, const char *p1, const struct bytes *v1,
                    const char *p2, const struct bytes *v2, int utf8, struct mail_arg *out)
{
	char line[1200];
	struct mailarg_error err;
	size_t n = 0;

#define PUT(s, len) do { check(n + (len) < sizeof line); memcpy(line + n, s, len); n += (len); } while (0)
	PUT("<", 1);
	PUT(addr, an);
	PUT(">", 1);
	if (v1->n > 0) {
		PUT(p1, strlen(p1));
		PUT(v1->p, v1->n);
	}
	if (v2->n > 0) {
		PUT(p2, strlen(p2));
		PUT(v2->p, v2->n);
	}
	if (!rcpt && utf8)
		PUT(" SMTPUTF8", 9);
#undef PUT
	check(memchr(line, '\r', n) == NULL && memchr(line, '\n', n) == NULL &&
	      memchr(line, '\0', n) == NULL);
	if (rcpt)
		check(mailarg_parse_rcpt(line, n, utf8, out, &err) == 0);
	else
		check(mailarg_parse_mail(line, n, out, &err) == 0);
}

/* Stages 3 to 5 for an accepted transaction. */
static void chain(const struct mail_arg *m, const struct mail_arg *r)
{
	static unsigned char frame[FRAME_MAX];
	static struct job j;
	struct envelope e;
	struct got g = { 0 };
	char domain[SROUTE_DOMAIN_MAX + 1] = "";
	struct frame_writer w;
	struct job_head h;
	struct mail_arg again;
	struct bytes addr, notify, orcpt, none = { NULL, 0 };
	const unsigned char *f;
	size_t n;
	int fd;

	queued_checks(m, r);
	fd = envelope_round(m, r, &e, &g);
	if (!mailbox_is_postmaster((const unsigned char *)r->path, strlen(r->path)))
		check(sroute_domain(g.addr.p, g.addr.n, domain) == 0);
	h = (struct job_head){ .id = 7, .route = "mx", .domain = domain, .helo = "h.example",
	                       .sender = { e.sender.p, e.sender.n }, .ret = { e.ret.p, e.ret.n },
	                       .envid = { e.envid.p, e.envid.n }, .header = none, .nrcpt = 1 };
	addr = (struct bytes){ g.addr.p, g.addr.n };
	notify = (struct bytes){ g.notify.p, g.notify.n };
	orcpt = (struct bytes){ g.orcpt.p, g.orcpt.n };
	fw_init(&w, frame, sizeof frame);
	job_write_head(&w, &h);
	job_write_rcpt(&w, &addr, &notify, &orcpt);
	f = fw_finish(&w, &n);
	check(f != NULL);
	{
		const unsigned char *payload;
		size_t plen, used;

		check(netstring_parse(f, n, FRAME_MAX, &payload, &plen, &used) == NS_OK);
		check(job_parse(&j, payload, plen) == 0);
	}
	check(j.sender_valid && j.rcpt[0].valid && j.domain_valid);
	reparse(0, (const char *)j.sender.p, j.sender.n, " ENVID=", &j.envid, "", &none,
	        mailbox_has_utf8(j.sender.p, j.sender.n) || m->smtputf8, &again);
	check(strcmp(again.path, m->path) == 0 && strcmp(again.envid, m->envid) == 0);
	reparse(1, (const char *)j.rcpt[0].addr.p, j.rcpt[0].addr.n, " NOTIFY=", &j.rcpt[0].notify,
	        " ORCPT=", &j.rcpt[0].orcpt, m->smtputf8, &again);
	check(strcmp(again.path, r->path) == 0 && strcmp(again.notify, r->notify) == 0 &&
	      strcmp(again.orcpt, r->orcpt) == 0);
	envelope_free(&e);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mail_arg m, r;
	struct mailarg_error err;
	char marg[600];
	const char *s, *nl;
	size_t ml, rl;

	if (size < 2)
		return 0;
	s = (const char *)data + 1;
	nl = memchr(s, '\n', size - 1);
	if (nl == NULL)
		return 0;
	ml = (size_t)(nl - s);
	rl = size - 1 - ml - 1;
	if (ml + 9 >= sizeof marg)
		return 0;
	memcpy(marg, s, ml);
	if (data[0] & 1) {
		memcpy(marg + ml, " SMTPUTF8", 9);
		ml += 9;
	}
	if (mailarg_parse_mail(marg, ml, &m, &err) != 0 ||
	    mailarg_parse_rcpt(nl + 1, rl, m.smtputf8, &r, &err) != 0)
		return 0;
	/* queued answers 553 5.1.2 at RCPT for U-labels IDNA2008 refuses */
	if (!idna_mailbox_ok(r.path))
		return 0;
	chain(&m, &r);
	return 0;
}
