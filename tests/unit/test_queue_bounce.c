/*
 * test_queue_bounce.c — queue/bounce.c and its helpers on a real queue
 * directory under /tmp: an original is committed with commit.h, then
 * bounce_queue reports on it, and the report is read back from new/ and
 * its envelope from env/: RFC 3464 structure, action, status, diagnostic,
 * ENVID/ORCPT, RET=FULL vs headers (and the size fallback), hostile reply
 * text made 7-bit and capped, sender <> -> nothing, the caller's file
 * offset untouched, a UTF-8 sender; dsn_notify_wants per RFC 3461.
 *
 * With POSTERN_BOUNCE_OUT=DIR set, it runs no cmocka test but writes one
 * report per scenario to DIR/<name>.eml with DIR/<name>.env (the report's
 * envelope as key=value lines) for tests/integration/test_queue_bounce.py,
 * which parses them with Python's email package.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../queue/bounce.h"
#include "../../queue/bounce_compose.h"
#include "../../queue/commit.h"
#include "../../queue/dsn_text.h"

static const char *const subs[] = { "tmp", "new", "cur", "env", "state", "hold" };
static char top[64];
static struct queued d;

/* Entries of sub (not . and ..), removing them when clean is set. */
static size_t entries(const char *sub, int clean)
{
	char p[128];
	DIR *dir;
	struct dirent *e;
	size_t n = 0;

	snprintf(p, sizeof p, "%s/%s", top, sub);
	dir = opendir(p);
	if (dir == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (clean)
			(void)unlinkat(dirfd(dir), e->d_name, 0);
	}
	closedir(dir);
	return n;
}

/* A fresh queue directory in top. */
static int qsetup(void)
{
	char p[128], err[256];

	if (sodium_init() < 0)
		return -1;
	snprintf(top, sizeof top, "/tmp/test-queue-bounce.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", top, subs[i]);
		if (mkdir(p, 0700) != 0)
			return -1;
	}
	memset(&d, 0, sizeof d);
	memcpy(d.conf.hostname, "mx.example.org", sizeof "mx.example.org");
	return qdir_open(&d.q, top, 0, 0, 0, err, sizeof err);
}

/* Remove the queue directory. */
static void qteardown(void)
{
	char p[128];

	qdir_close(&d.q);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		(void)entries(subs[i], 1);
		snprintf(p, sizeof p, "%s/%s", top, subs[i]);
		rmdir(p);
	}
	rmdir(top);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(qsetup(), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qteardown();
	return 0;
}

/* What an original looks like. */
struct orig {
	const char *sender, *ret, *envid, *rcpt, *orcpt;
	const char *msg;
	size_t msglen;	/* 0: strlen(msg) */
};

/* An original committed, its envelope loaded and its file open. */
struct loaded {
	char id[RANDID_LEN + 1];
	struct envelope e;
	int envfd, msgfd;
};

/* Commit o into the queue and load it. */
static int load_original(const struct orig *o, struct loaded *l)
{
	static unsigned char rcpts[1024];
	struct envelope_in in = { 0 };
	struct commit c, *g[1] = { &c };
	size_t rl = 0, n = o->msglen ? o->msglen : strlen(o->msg);

	if (commit_begin(&c, &d.q) != 0 || commit_write(&c, &d.q, o->msg, n) != 0 ||
	    envelope_rcpt_encode(rcpts, sizeof rcpts, &rl, o->rcpt, "", o->orcpt ? o->orcpt : "")
	    != 0)
		return -1;
	in.id = c.id;
	in.sender = o->sender;
	in.user = "alice";
	in.session = "zzzzzzzzzzzzzzzzzzzz";
	in.ip = "192.0.2.1";
	in.mode = "plain";
	in.port = 1;
	in.time = 1700000000;
	in.size = c.size;
	in.body = "7bit";
	in.ret = o->ret ? o->ret : "";
	in.envid = o->envid ? o->envid : "";
	in.rcpts = rcpts;
	in.rcpt_len = rl;
	in.header = "Received: by mx.example.org (postern) with ESMTPA id x;\r\n"
	            "\tSat, 28 Nov 2026 23:00:00 +0000\r\n";
	in.header_len = strlen(in.header);
	if (commit_prepare(&c, &d.q, &in) != 0)
		return -1;
	commit_group(g, 1, &d.q);
	if (!commit_ok(&c))
		return -1;
	memcpy(l->id, c.id, sizeof l->id);
	commit_done(&c);
	l->envfd = openat(d.q.d[QD_ENV], l->id, O_RDONLY | O_CLOEXEC);
	l->msgfd = openat(d.q.d[QD_NEW], l->id, O_RDONLY | O_CLOEXEC);
	if (l->envfd < 0 || l->msgfd < 0 || envelope_load(&l->e, l->envfd) != 0)
		return -1;
	return 0;
}

/* Close what load_original opened. */
static void unload(struct loaded *l)
{
	envelope_free(&l->e);
	close(l->envfd);
	close(l->msgfd);
}

/* Read new/<id> whole (NUL-terminated, caller frees); its length in *n. */
static char *read_report(const char *id, size_t *n)
{
	struct stat st;
	int fd = openat(d.q.d[QD_NEW], id, O_RDONLY | O_CLOEXEC);
	char *p;

	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL || read(fd, p, (size_t)st.st_size) != st.st_size) {
		free(p);
		close(fd);
		return NULL;
	}
	p[st.st_size] = '\0';
	*n = (size_t)st.st_size;
	close(fd);
	return p;
}

/* The fields of the report's envelope. */
struct renv {
	char sender[64], rcpt[600], notify[32], orcpt[32], user[32], body[16], smtputf8[4];
};

/* Copy an envelope field. */
static void fcopy(char *dst, size_t cap, const struct env_field *f)
{
	size_t n = f->n < cap - 1 ? f->n : cap - 1;

	memcpy(dst, f->p, n);
	dst[n] = '\0';
}

/* Take the (only) recipient. */
static int take_rcpt(void *ctx, const struct env_field *a, const struct env_field *nt,
                     const struct env_field *o)
{
	struct renv *r = ctx;

	fcopy(r->rcpt, sizeof r->rcpt, a);
	fcopy(r->notify, sizeof r->notify, nt);
	fcopy(r->orcpt, sizeof r->orcpt, o);
	return 0;
}

/* Load env/<id> of a report; 0 or -1; *nrcpt set. */
static int read_renv(const char *id, struct renv *r, uint64_t *nrcpt)
{
	struct envelope e;
	int fd = openat(d.q.d[QD_ENV], id, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (envelope_load(&e, fd) != 0) {
		close(fd);
		return -1;
	}
	fcopy(r->sender, sizeof r->sender, &e.sender);
	fcopy(r->user, sizeof r->user, &e.user);
	fcopy(r->body, sizeof r->body, &e.body);
	fcopy(r->smtputf8, sizeof r->smtputf8, &e.smtputf8);
	*nrcpt = e.nrcpt;
	(void)envelope_rcpts(&e, take_rcpt, r);
	envelope_free(&e);
	close(fd);
	return 0;
}

/* A 550 for bad@dest.test. */
static const struct dsn_rcpt rcpt550 = {
	.addr = "bad@dest.test", .orcpt = "", .status = "5.1.1", .code = 550,
	.text = "5.1.1 no such user", .remote = "mx.dest.test", .last_attempt = 1700000100,
};

static const char plain_msg[] = "From: alice@example.org\r\nTo: bad@dest.test\r\n"
                                "Subject: hello original\r\n\r\nbody line one\r\n";

/* Report on o for r; the report's bytes (caller frees) and id. */
static char *report(const struct orig *o, enum dsn_action a, const struct dsn_rcpt *r, size_t n,
                    char id[RANDID_LEN + 1], size_t *len)
{
	struct loaded l;
	off_t before, after;
	char *p;

	assert_int_equal(load_original(o, &l), 0);
	before = lseek(l.msgfd, 0, SEEK_CUR);
	assert_int_equal(bounce_queue(&d, &l.e, l.msgfd, a, r, n, id), 0);
	after = lseek(l.msgfd, 0, SEEK_CUR);
	assert_int_equal(before, after);
	unload(&l);
	if (id[0] == '\0')
		return NULL;
	assert_int_equal(strlen(id), RANDID_LEN);
	p = read_report(id, len);
	assert_non_null(p);
	return p;
}

/* Every line CRLF-terminated, at most 998 octets, 7-bit, no NUL. */
static void assert_wire_safe(const char *p, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		assert_true(c != 0 && c < 0x80);
		if (c == '\r') {
			assert_true(i + 1 < n && p[i + 1] == '\n');
			col = 0;
			i++;
			continue;
		}
		assert_true(c != '\n');
		assert_true(++col <= 998);
	}
	assert_int_equal(col, 0);
}

static void test_notify_wants(void **state)
{
	static const struct {
		const char *v;
		int f, dl, s;
	} t[] = {
		{ "", 1, 1, 0 },		{ "NEVER", 0, 0, 0 },
		{ "never", 0, 0, 0 },		{ "SUCCESS", 0, 0, 1 },
		{ "FAILURE", 1, 0, 0 },		{ "delay", 0, 1, 0 },
		{ "Failure,Delay", 1, 1, 0 },	{ "SUCCESS,FAILURE,DELAY", 1, 1, 1 },
		{ "BOGUS", 1, 1, 0 },		{ "NEVER,SUCCESS", 1, 1, 0 },
		{ "SUCCESS,", 1, 1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const unsigned char *v = (const unsigned char *)t[i].v;
		size_t n = strlen(t[i].v);

		assert_int_equal(dsn_notify_wants(v, n, DSN_FAILED), t[i].f);
		assert_int_equal(dsn_notify_wants(v, n, DSN_DELAYED), t[i].dl);
		assert_int_equal(dsn_notify_wants(v, n, DSN_DELIVERED), t[i].s);
	}
}

static void test_failed_headers_only(void **state)
{
	struct orig o = { .sender = "alice@example.org", .rcpt = "bad@dest.test", .msg = plain_msg };
	char id[RANDID_LEN + 1];
	struct renv r;
	uint64_t nrcpt;
	size_t n;
	char *p;

	(void)state;
	p = report(&o, DSN_FAILED, &rcpt550, 1, id, &n);
	assert_wire_safe(p, n);
	assert_non_null(strstr(p, "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"));
	assert_non_null(strstr(p, "\r\nTo: <alice@example.org>\r\n"));
	assert_non_null(strstr(p, "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
	assert_non_null(strstr(p, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(p, "Content-Type: multipart/report; report-type=delivery-status;"));
	assert_non_null(strstr(p, "\r\nReporting-MTA: dns; mx.example.org\r\n"));
	assert_non_null(strstr(p, "\r\nFinal-Recipient: rfc822;bad@dest.test\r\nAction: failed\r\n"
	                          "Status: 5.1.1\r\nRemote-MTA: dns; mx.dest.test\r\n"
	                          "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"));
	assert_null(strstr(p, "Original-Envelope-Id"));
	assert_null(strstr(p, "Original-Recipient"));
	assert_null(strstr(p, "Will-Retry-Until"));
	assert_non_null(strstr(p, "Content-Type: text/rfc822-headers\r\n"));
	assert_non_null(strstr(p, "\r\nReceived: by mx.example.org (postern)"));
	assert_non_null(strstr(p, "\r\nSubject: hello original\r\n"));
	assert_null(strstr(p, "body line one"));
	free(p);
	assert_int_equal(read_renv(id, &r, &nrcpt), 0);
	assert_string_equal(r.sender, "");
	assert_int_equal(nrcpt, 1);
	assert_string_equal(r.rcpt, "alice@example.org");
	assert_string_equal(r.notify, "NEVER");
	assert_string_equal(r.user, "MAILER-DAEMON");
	assert_string_equal(r.body, "7bit");
	assert_int_equal(entries("tmp", 0), 0);
	assert_int_equal(entries("new", 0), 2);
}

static void test_full_and_fallback(void **state)
{
	struct orig o = { .sender = "alice@example.org", .rcpt = "bad@dest.test", .msg = plain_msg,
		          .ret = "full" };
	char id[RANDID_LEN + 1], *big, *p;
	size_t n, bl = BOUNCE_FULL_MAX + 4096;

	(void)state;
	p = report(&o, DSN_FAILED, &rcpt550, 1, id, &n);
	assert_wire_safe(p, n);
	assert_non_null(strstr(p, "Content-Type: message/rfc822\r\n"));
	assert_non_null(strstr(p, "\r\nbody line one\r\n"));
	free(p);
	/* Over the cap: only the headers come back. */
	big = malloc(bl);
	assert_non_null(big);
	memcpy(big, plain_msg, sizeof plain_msg - 1);
	for (size_t i = sizeof plain_msg - 1; i < bl; i++)
		big[i] = (i % 100 == 98) ? '\r' : (i % 100 == 99) ? '\n' : 'x';
	o.msg = big;
	o.msglen = bl;
	p = report(&o, DSN_FAILED, &rcpt550, 1, id, &n);
	free(big);
	assert_wire_safe(p, n);
	assert_null(strstr(p, "message/rfc822"));
	assert_non_null(strstr(p, "Content-Type: text/rfc822-headers\r\n"));
	assert_non_null(strstr(p, "\r\nSubject: hello original\r\n"));
	assert_null(strstr(p, "xxxxxxxx"));
	free(p);
	/* 8-bit body: not 7-bit text, headers only. */
	o.msg = "Subject: eight\r\n\r\ncaf\xc3\xa9\r\n";
	o.msglen = 0;
	p = report(&o, DSN_FAILED, &rcpt550, 1, id, &n);
	assert_wire_safe(p, n);
	assert_null(strstr(p, "message/rfc822"));
	assert_non_null(strstr(p, "\r\nSubject: eight\r\n"));
	free(p);
}

static void test_envid_orcpt(void **state)
{
	struct orig o = { .sender = "alice@example.org", .rcpt = "bad@dest.test", .msg = plain_msg,
		          .envid = "QQ+2B314159", .orcpt = "rfc822;b+2Bad@dest.test" };
	struct dsn_rcpt r = rcpt550;
	char id[RANDID_LEN + 1], *p;
	size_t n;

	(void)state;
	r.orcpt = "rfc822;b+2Bad@dest.test";
	p = report(&o, DSN_FAILED, &r, 1, id, &n);
	assert_wire_safe(p, n);
	assert_non_null(strstr(p, "\r\nOriginal-Envelope-Id: QQ+314159\r\n"));
	assert_non_null(strstr(p, "\r\nOriginal-Recipient: rfc822;b+ad@dest.test\r\n"
	                          "Final-Recipient: rfc822;bad@dest.test\r\n"));
	free(p);
	/* Decoding would yield CR LF: the xtext stays as it is. */
	o.envid = "a+0D+0AX-Evil:+201";
	r.orcpt = "rfc822;x+0Ay@z";
	p = report(&o, DSN_FAILED, &r, 1, id, &n);
	assert_wire_safe(p, n);
	assert_non_null(strstr(p, "\r\nOriginal-Envelope-Id: a+0D+0AX-Evil:+201\r\n"));
	assert_non_null(strstr(p, "\r\nOriginal-Recipient: rfc822;x+0Ay@z\r\n"));
	assert_null(strstr(p, "\r\nX-Evil"));
	free(p);
}

static void test_hostile_text(void **state)
{
	struct orig o = { .sender = "alice@example.org", .rcpt = "bad@dest.test", .msg = plain_msg };
	struct dsn_rcpt r = rcpt550;
	char id[RANDID_LEN + 1], *p, *text, *diag;
	size_t n, tl = 10240;

	(void)state;
	text = malloc(tl + 1);
	assert_non_null(text);
	memset(text, 'A', tl);
	static const char head[] = "5.1.1 evil\r\nX-Injected: yes\x01\x1b[31m\x80\xff";

	memcpy(text, head, sizeof head - 1);
	text[tl] = '\0';
	r.text = text;
	r.remote = "mx.dest.test\r\nX-Host-Injected: 1";
	r.status = "5.1.1\r\nX";
	p = report(&o, DSN_FAILED, &r, 1, id, &n);
	free(text);
	assert_wire_safe(p, n);
	assert_null(strstr(p, "\r\nX-Injected"));
	assert_null(strstr(p, "X-Host-Injected"));
	assert_null(strstr(p, "Remote-MTA"));
	assert_non_null(strstr(p, "\r\nStatus: 5.0.0\r\n"));
	diag = strstr(p, "\r\nDiagnostic-Code: smtp; 550 5.1.1 evil??X-Injected: yes??[31m??AAA");
	assert_non_null(diag);
	diag += 2;
	/* "Diagnostic-Code: smtp; 550 " + 512 characters of text. */
	assert_int_equal(strcspn(diag, "\r"), strlen("Diagnostic-Code: smtp; 550 ") + DSN_TEXT_MAX);
	free(p);
}

static void test_delayed_and_delivered(void **state)
{
	struct orig o = { .sender = "alice@example.org", .rcpt = "bad@dest.test", .msg = plain_msg };
	struct dsn_rcpt r = { .addr = "slow@dest.test", .status = "4.4.1", .code = 0,
		              .text = "connection refused", .remote = "", .last_attempt = 1700000200 };
	char id[RANDID_LEN + 1], *p;
	size_t n;

	(void)state;
	p = report(&o, DSN_DELAYED, &r, 1, id, &n);
	assert_wire_safe(p, n);
	assert_non_null(strstr(p, "\r\nSubject: Delayed Mail (still being retried)\r\n"));
	assert_non_null(strstr(p, "\r\nAction: delayed\r\nStatus: 4.4.1\r\n"));
	assert_non_null(strstr(p, "\r\nWill-Retry-Until: "));
	assert_non_null(strstr(p, "\r\nLast-Attempt-Date: "));
	assert_null(strstr(p, "Diagnostic-Code"));
	assert_non_null(strstr(p, "reason: connection refused"));
	free(p);
	r.status = "2.0.0";
	r.code = 250;
	r.text = "2.0.0 ok queued";
	p = report(&o, DSN_DELIVERED, &r, 1, id, &n);
	assert_wire_safe(p, n);
	assert_non_null(strstr(p, "\r\nSubject: Successful Mail Delivery Report\r\n"));
	assert_non_null(strstr(p, "\r\nAction: delivered\r\nStatus: 2.0.0\r\n"));
	assert_null(strstr(p, "Will-Retry-Until"));
	free(p);
}

static void test_null_sender_sends_nothing(void **state)
{
	struct orig o = { .sender = "", .rcpt = "bad@dest.test", .msg = plain_msg };
	char id[RANDID_LEN + 1] = "x";
	size_t n;

	(void)state;
	assert_null(report(&o, DSN_FAILED, &rcpt550, 1, id, &n));
	assert_string_equal(id, "");
	assert_int_equal(entries("new", 0), 1);
	assert_int_equal(entries("env", 0), 1);
	assert_int_equal(entries("tmp", 0), 0);
}

static void test_utf8(void **state)
{
	struct orig o = { .sender = "j\xc3\xb6rg@example.org", .rcpt = "bad@dest.test",
		          .msg = plain_msg };
	struct dsn_rcpt r = rcpt550;
	char id[RANDID_LEN + 1], *p, out[128];
	struct renv e;
	uint64_t nr;
	size_t n;

	(void)state;
	r.addr = "m\xc3\xbcller+x@dest.test";
	p = report(&o, DSN_FAILED, &r, 1, id, &n);
	assert_non_null(strstr(p, "\r\nTo: <j\xc3\xb6rg@example.org>\r\n"));
	assert_non_null(strstr(p, "\r\nFinal-Recipient: utf-8;m\\x{FC}ller\\x{2B}x@dest.test\r\n"));
	free(p);
	assert_int_equal(read_renv(id, &e, &nr), 0);
	assert_string_equal(e.smtputf8, "1");
	assert_string_equal(e.body, "8bitmime");
	assert_string_equal(e.rcpt, "j\xc3\xb6rg@example.org");
	/* Invalid UTF-8 becomes U+FFFD. */
	assert_true(dsn_addr(out, sizeof out, "a\xff@b", 4) > 0);
	assert_string_equal(out, "utf-8;a\\x{FFFD}@b");
}

static void test_long_address_line(void **state)
{
	struct orig o = { .sender = "alice@example.org", .rcpt = "bad@dest.test", .msg = plain_msg };
	struct dsn_rcpt r = rcpt550;
	char id[RANDID_LEN + 1], addr[ENV_ADDR_MAX + 1], host[254], *p;
	size_t n;

	(void)state;
	/* 8-bit bytes grow eightfold as \x{FFFD}: 122 of them make a 984-octet
	 * report address, which a field name would push over 998; and a
	 * 253-octet host name in the same text-part line. */
	memset(addr, 0xff, 124);
	memcpy(addr, "a@", 2);
	addr[124] = '\0';
	memset(host, 'h', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	r.addr = addr;
	r.remote = host;
	p = report(&o, DSN_FAILED, &r, 1, id, &n);
	assert_wire_safe(p, n);
	assert_non_null(strstr(p, "\r\nFinal-Recipient: rfc822;a@???"));
	free(p);
}

static void test_text_helpers(void **state)
{
	char out[64];

	(void)state;
	assert_true(dsn_status_ok("5.1.1"));
	assert_true(dsn_status_ok("4.123.456"));
	assert_false(dsn_status_ok("3.1.1"));
	assert_false(dsn_status_ok("5.1"));
	assert_false(dsn_status_ok("5.1.1234"));
	assert_false(dsn_status_ok("5.1.1 "));
	assert_true(dsn_host_ok("[192.0.2.1]"));
	assert_false(dsn_host_ok("a b"));
	assert_false(dsn_host_ok(""));
	assert_int_equal(dsn_safe(out, sizeof out, "a\r\nb\0c", 6, 5), 5);
	assert_string_equal(out, "a??b?");
	assert_int_equal(dsn_orcpt(out, sizeof out, "bad type;x", 10), 0);
	assert_true(dsn_xtext(out, sizeof out, "a+4", 3) > 0);
	assert_string_equal(out, "a+4");
}

/* ---- driver mode for tests/integration/test_queue_bounce.py ---- */

/* Write p[0..n) to dir/name. */
static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;
	size_t w;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

/* One scenario: report on o into dir/name.eml and dir/name.env. */
static int scenario(const char *dir, const char *name, const struct orig *o, enum dsn_action a,
                    const struct dsn_rcpt *r, size_t nr)
{
	struct loaded l;
	char id[RANDID_LEN + 1], fn[128], env[1024];
	struct renv e;
	uint64_t cnt;
	size_t n;
	char *p;
	int rc;

	if (qsetup() != 0 || load_original(o, &l) != 0)
		return -1;
	rc = bounce_queue(&d, &l.e, l.msgfd, a, r, nr, id);
	unload(&l);
	if (rc == 0 && id[0] == '\0') {
		snprintf(fn, sizeof fn, "%s.none", name);
		snprintf(env, sizeof env, "new=%zu\n", entries("new", 0));
		rc = write_file(dir, fn, env, strlen(env));
	} else if (rc == 0 && (p = read_report(id, &n)) != NULL) {
		snprintf(fn, sizeof fn, "%s.eml", name);
		rc = write_file(dir, fn, p, n);
		free(p);
		if (rc == 0 && read_renv(id, &e, &cnt) == 0) {
			snprintf(env, sizeof env, "sender=%s\nrcpt=%s\nnotify=%s\nnrcpt=%llu\n"
			         "smtputf8=%s\nbody=%s\nuser=%s\n", e.sender, e.rcpt, e.notify,
			         (unsigned long long)cnt, e.smtputf8, e.body, e.user);
			snprintf(fn, sizeof fn, "%s.env", name);
			rc = write_file(dir, fn, env, strlen(env));
		}
	} else
		rc = -1;
	qteardown();
	return rc;
}

/* The notify table for the integration test. */
static int notify_table(const char *dir)
{
	static const char *const v[] = { "", "NEVER", "never", "SUCCESS", "FAILURE,DELAY",
		                         "success,failure,delay", "DELAY" };
	char out[1024];
	size_t len = 0;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		const unsigned char *p = (const unsigned char *)v[i];
		size_t n = strlen(v[i]);
		int w = snprintf(out + len, sizeof out - len, "%s=%d%d%d\n", v[i],
		                 dsn_notify_wants(p, n, DSN_FAILED), dsn_notify_wants(p, n, DSN_DELAYED),
		                 dsn_notify_wants(p, n, DSN_DELIVERED));

		if (w < 0 || (size_t)w >= sizeof out - len)
			return -1;
		len += (size_t)w;
	}
	return write_file(dir, "notify.txt", out, len);
}

/* Every scenario the integration test parses. */
static int driver(const char *dir)
{
	static char hostile[10241];
	static const char hhead[] = "5.1.1 x\r\nX-Injected: 1\x01\x7f\x80\xfe";
	struct orig o = { .sender = "alice@example.org", .rcpt = "bad@dest.test", .msg = plain_msg };
	struct dsn_rcpt two[2] = { rcpt550, rcpt550 }, h = rcpt550, dl = rcpt550;
	int bad = 0;

	two[1].addr = "other@dest.test";
	two[1].orcpt = "rfc822;Other+2Bx@dest.test";
	two[1].status = "5.2.2";
	two[1].text = "5.2.2 mailbox full";
	bad |= scenario(dir, "failed_hdrs", &o, DSN_FAILED, two, 2);
	o.ret = "full";
	bad |= scenario(dir, "failed_full", &o, DSN_FAILED, &rcpt550, 1);
	o.ret = "hdrs";
	o.envid = "QQ+2B314159";
	bad |= scenario(dir, "envid_hdrs", &o, DSN_FAILED, two, 2);
	o.envid = NULL;
	o.ret = NULL;
	dl.status = "4.4.1";
	dl.code = 451;
	dl.text = "4.4.1 try later";
	bad |= scenario(dir, "delayed", &o, DSN_DELAYED, &dl, 1);
	dl.status = "2.0.0";
	dl.code = 250;
	dl.text = "2.0.0 ok";
	bad |= scenario(dir, "delivered", &o, DSN_DELIVERED, &dl, 1);
	memset(hostile, 'B', sizeof hostile - 1);
	memcpy(hostile, hhead, sizeof hhead - 1);
	h.text = hostile;
	bad |= scenario(dir, "hostile", &o, DSN_FAILED, &h, 1);
	o.sender = "";
	bad |= scenario(dir, "null_sender", &o, DSN_FAILED, &rcpt550, 1);
	bad |= notify_table(dir);
	return bad ? 1 : 0;
}

int main(void)
{
	const char *out = getenv("POSTERN_BOUNCE_OUT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_wants),
		cmocka_unit_test(test_text_helpers),
		cmocka_unit_test_setup_teardown(test_failed_headers_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_and_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_envid_orcpt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delayed_and_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sender_sends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_address_line, setup, teardown),
	};

	if (out != NULL)
		return driver(out);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
