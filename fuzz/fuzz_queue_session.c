/*
 * fuzz_queue_session.c — libFuzzer target for postern-queued's session
 * channel parser and state machine (queue/qsession.c, qdata.c): the input
 * is a stream of netstring frames, as a hostile postern-smtpd would send
 * them on one session socket; each goes to qsession_frame against a real
 * queue directory in a temporary folder.
 *
 * So that the fuzzer can get past `mail` (it cannot forge an HMAC), a
 * ticket field that starts with '+' is replaced by the harness with a
 * valid ticket for the login after the '+'; any other ticket goes through
 * as sent.  Promises checked: a reply code is 2xx..5xx with printable text
 * of at most 400 bytes; 354 only after `data`; a 250 to `end` only for a
 * message whose chunks, joined, have no bare CR, bare LF or NUL and are
 * empty or end in CRLF (checked here byte by byte, across chunks, not with
 * queued's own lib/crlfcheck); after QR_CLOSE or at the end the session is
 * reset and tmp/ is empty again (nothing partial stays).
 * The queue directory (/tmp/fuzz-queue.XXXXXX) is removed at exit; a
 * crash (abort) leaves it, next to the crash input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../queue/qsession.h"
#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct queued d;
static char qpath[64];

/* Abort unless cond holds. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* A queue directory under /tmp, made once. */
static void setup(void)
{
	static const char *subs[] = { "tmp", "new", "cur", "env", "state", "hold" };
	char err[256], p[128];

	snprintf(qpath, sizeof qpath, "/tmp/fuzz-queue.XXXXXX");
	check(mkdtemp(qpath) != NULL);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", qpath, subs[i]);
		check(mkdir(p, 0700) == 0);
	}
	check(qdir_open(&d.q, qpath, 0, 0, 0, err, sizeof err) == 0);
	check(sodium_init() >= 0);
	memset(d.key, 7, sizeof d.key);
	d.have_key = 1;
	snprintf(d.conf.hostname, sizeof d.conf.hostname, "fuzz.example");
	d.conf.size_max = 1 << 20;
	d.conf.rcpt_max = 20;
	d.conf.header_check = 1;
	cdbfd_init(&d.senders);
	cdbfd_init(&d.quotas);
	cdbfd_init(&d.routes);
	check(quota_init(&d.quota) == 0);
}

/* Entries of one subdirectory, removing them when clean is set. */
static size_t entries(const char *sub, int clean)
{
	char p[128];
	DIR *dir;
	struct dirent *e;
	size_t n = 0;

	snprintf(p, sizeof p, "%s/%s", qpath, sub);
	dir = opendir(p);
	check(dir != NULL);
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (clean)
			check(unlinkat(dirfd(dir), e->d_name, 0) == 0);
	}
	closedir(dir);
	return n;
}

/* Remove the queue directory (atexit: libFuzzer exits normally at the end
 * of a run). */
static void cleanup(void)
{
	static const char *subs[] = { "tmp", "new", "cur", "env", "state", "hold" };
	char p[128];

	qdir_close(&d.q);
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		(void)entries(subs[i], 1);
		snprintf(p, sizeof p, "%s/%s", qpath, subs[i]);
		(void)rmdir(p);
	}
	(void)rmdir(qpath);
}

/* Rewrite a `mail` payload whose ticket starts with '+' (see the header):
 * "4:mail," + the netstring of a valid ticket + the other fields as sent. */
static const unsigned char *fix_mail(const unsigned char *p, size_t n, size_t *outn,
                                     const char *sid)
{
	static unsigned char payload[FRAME_MAX + 512];
	unsigned char ticket[TICKET_MAX];
	struct frame_reader fr;
	const unsigned char *tk;
	size_t tklen, tn, plen;
	char dig[24];
	int dl;

	fr_init(&fr, p, n);
	if (fr_is(&fr, "mail") != 1 || fr_bytes(&fr, &tk, &tklen, TICKET_MAX) < 0 ||
	    tklen < 2 || tk[0] != '+')
		return NULL;
	tn = ticket_make(ticket, sizeof ticket, d.key, sid, (const char *)tk + 1, tklen - 1);
	dl = snprintf(dig, sizeof dig, "%zu:", tn);
	if (tn == 0 || dl <= 0 || 7 + (size_t)dl + tn + 1 + (n - fr.off) > sizeof payload)
		return NULL;
	memcpy(payload, "4:mail,", 7);
	plen = 7;
	memcpy(payload + plen, dig, (size_t)dl);
	plen += (size_t)dl;
	memcpy(payload + plen, ticket, tn);
	plen += tn;
	payload[plen++] = ',';
	memcpy(payload + plen, p + fr.off, n - fr.off);
	*outn = plen + (n - fr.off);
	return payload;
}

/* The line ends of the message being sent, as the harness sees them. */
struct lines_seen {
	int prev;	/* the last byte, or -1 before the first */
	int bad;	/* a bare CR, a bare LF or a NUL */
};

/* Follow the bytes of a `chunk` payload (anything else is left alone). */
static void follow_chunk(struct lines_seen *l, const unsigned char *p, size_t n)
{
	struct frame_reader fr;
	const unsigned char *b;
	size_t bn;

	fr_init(&fr, p, n);
	if (fr_is(&fr, "chunk") != 1 || fr_bytes(&fr, &b, &bn, QS_CHUNK_MAX) < 0 ||
	    fr_end(&fr) < 0)
		return;
	for (size_t i = 0; i < bn; i++) {
		if (b[i] == '\0' || (b[i] == '\n') != (l->prev == '\r'))
			l->bad = 1;
		l->prev = b[i];
	}
}

/* 1 if the message followed so far may be queued. */
static int clean_message(const struct lines_seen *l)
{
	return !l->bad && (l->prev == -1 || l->prev == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qsession s;
	static const char sid[RANDID_LEN + 1] = "fuzzfuzzfuzzfuzzfuzz";
	size_t off = 0;
	int after_data = 0, is_end;
	struct lines_seen lines = { -1, 0 };

	if (qpath[0] == '\0') {
		setup();
		check(atexit(cleanup) == 0);
	}
	qsession_init(&s, -1);
	memcpy(s.id, sid, sizeof sid);
	snprintf(s.ip, sizeof s.ip, "192.0.2.7");
	snprintf(s.mode, sizeof s.mode, "plain");
	while (off < size) {
		const unsigned char *p, *q;
		size_t n, used, qn;
		struct qreply r;
		enum qs_result res;

		if (netstring_parse(data + off, size - off, FRAME_MAX, &p, &n, &used) != NS_OK)
			break;
		off += used;
		q = fix_mail(p, n, &qn, sid);
		if (q == NULL) {
			q = p;
			qn = n;
		}
		after_data = qn >= 7 && memcmp(q, "4:data,", 7) == 0;
		is_end = qn == 6 && memcmp(q, "3:end,", 6) == 0;
		if (after_data)
			lines = (struct lines_seen){ -1, 0 };
		else
			follow_chunk(&lines, q, qn);
		res = qsession_frame(&d, &s, q, qn, &r);
		if (res == QR_COMMIT) {
			struct commit *c = &s.c;

			commit_group(&c, 1, &d.q);
			qsession_commit_done(&d, &s, &r);
		}
		if (res == QR_CLOSE)
			break;
		if (res == QR_REPLY || res == QR_COMMIT) {
			size_t tl = strlen(r.text);

			check(r.code >= 200 && r.code <= 599 && tl <= QS_TEXT_MAX);
			for (size_t i = 0; i < tl; i++)
				check(r.text[i] >= 0x20 && r.text[i] < 0x7f);
			check(r.code != 354 || after_data);
			check(r.code != 250 || !is_end || clean_message(&lines));
		}
	}
	qsession_reset(&d, &s);
	check(entries("tmp", 0) == 0);
	entries("new", 1);
	entries("env", 1);
	return 0;
}
