/*
 * sched_state.c — reading and writing queue/state/<id> (format in
 * sched_state.h).  postern-queued, in its sandbox: openat (O_NOFOLLOW)
 * in tmp/, write + lseek (cdb_make), fdatasync, renameat into state/,
 * fsync of state/; reading maps the file (cdb_init: fstat + mmap).
 * Failure policy: the writer leaves nothing half-written under state/
 * (tmp + fsync + rename); the reader fails closed.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netstring.h"
#include "jobchan.h"
#include "sched_state.h"

/* All pending. */
int sstate_alloc(struct sstate *st, size_t n)
{
	memset(st, 0, sizeof *st);
	st->r = calloc(n ? n : 1, sizeof *st->r);
	if (st->r == NULL)
		return -1;
	st->n = n;
	for (size_t i = 0; i < n; i++)
		st->r[i].st = RS_PENDING;
	return 0;
}

/* Free. */
void sstate_free(struct sstate *st)
{
	free(st->r);
	st->r = NULL;
	st->n = 0;
}

/* Decimal text of v into buf[24]; its length. */
static size_t dec(char buf[24], uint64_t v)
{
	char t[24];
	size_t n = 0, k = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		buf[k++] = t[--n];
	return k;
}

/* Add key -> decimal v. */
static int add_u64(struct cdb_make *m, const char *key, uint64_t v)
{
	char b[24];
	size_t n = dec(b, v);

	return cdb_make_add(m, key, (unsigned)strlen(key), b, (unsigned)n);
}

/* Add one recipient record. */
static int add_rcpt(struct cdb_make *m, const struct srstate *r)
{
	unsigned char buf[SSTATE_TEXT_MAX + 256];
	struct frame_writer w;
	const unsigned char *f;
	char st[2] = { r->st, '\0' };
	size_t n;

	fw_init(&w, buf, sizeof buf);
	fw_str(&w, st);
	fw_u64(&w, r->attempts);
	fw_u64(&w, r->code);
	fw_str(&w, r->status);
	fw_str(&w, r->text);
	fw_u64(&w, r->last);
	f = fw_finish(&w, &n);
	if (f == NULL)
		return -1;
	/* The record's value is the frame's payload (the fields). */
	{
		const unsigned char *p;
		size_t pn, used;

		if (netstring_parse(f, n, sizeof buf, &p, &pn, &used) != NS_OK)
			return -1;
		return cdb_make_add(m, "rcpt", 4, p, (unsigned)pn);
	}
}

/* Write the CDB to fd. */
static int write_cdb(int fd, const char *id, const struct sstate *st)
{
	struct cdb_make m;
	int bad;

	if (cdb_make_start(&m, fd) != 0)
		return -1;
	bad = cdb_make_add(&m, "version", 7, SSTATE_VERSION, 1) != 0 ||
	      cdb_make_add(&m, "id", 2, id, (unsigned)strlen(id)) != 0 ||
	      add_u64(&m, "attempts", st->attempts) != 0 || add_u64(&m, "next", st->next) != 0 ||
	      add_u64(&m, "delay", st->delay_sent ? 1 : 0) != 0;
	for (size_t i = 0; i < st->n && !bad; i++)
		bad = add_rcpt(&m, &st->r[i]) != 0;
	if (cdb_make_finish(&m) != 0 || bad) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Write (see sched_state.h). */
int sstate_write(const struct qdir *q, const char *id, const struct sstate *st)
{
	char name[QDIR_NAME_MAX];
	int fd, e;

	if (!qid_valid(id, strlen(id))) {
		errno = EINVAL;
		return -1;
	}
	memcpy(name, id, RANDID_LEN);
	memcpy(name + RANDID_LEN, SSTATE_TMP_SUFFIX, sizeof SSTATE_TMP_SUFFIX);
	fd = openat(q->d[QD_TMP], name, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	errno = 0;
	if (write_cdb(fd, id, st) != 0 || fdatasync(fd) != 0 || close(fd) != 0) {
		e = errno;
		close(fd);
		(void)unlinkat(q->d[QD_TMP], name, 0);
		errno = e;
		return -1;
	}
	if (renameat(q->d[QD_TMP], name, q->d[QD_STATE], id) != 0) {
		e = errno;
		(void)unlinkat(q->d[QD_TMP], name, 0);
		errno = e;
		return -1;
	}
	return qdir_sync(q, QD_STATE);
}

/* RFC 3463 shape (see sched_state.h): the job channel's check. */
int sstate_status_ok(const char *s)
{
	return job_status_ok(s);
}

/* Exactly one record for key, at most max bytes. */
static int get1(struct cdb *c, const char *key, const unsigned char **p, size_t *n, size_t max)
{
	struct cdb_find cf;
	int count = 0;

	if (cdb_findinit(&cf, c, key, (unsigned)strlen(key)) < 0)
		return -1;
	while (cdb_findnext(&cf) > 0) {
		unsigned len = cdb_datalen(c);

		if (++count > 1 || len > max)
			return -1;
		*p = cdb_get(c, len, cdb_datapos(c));
		*n = len;
		if (*p == NULL)
			return -1;
	}
	return count == 1 ? 0 : -1;
}

/* A decimal number field below 2^63. */
static int num(const unsigned char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 18 || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	*v = x;
	return 0;
}

/* Parse one recipient record into r. */
static int read_rcpt(const unsigned char *p, size_t n, struct srstate *r)
{
	struct frame_reader fr;
	char st[2];
	uint64_t code;

	fr_init(&fr, p, n);
	if (fr_str(&fr, st, sizeof st) < 0 || fr_u64(&fr, &r->attempts, 1000000000) < 0 ||
	    fr_u64(&fr, &code, 999) < 0 || fr_str(&fr, r->status, sizeof r->status) < 0 ||
	    fr_str(&fr, r->text, sizeof r->text) < 0 || fr_u64(&fr, &r->last, 1ULL << 62) < 0 ||
	    fr_end(&fr) < 0)
		return -1;
	if (st[0] != RS_PENDING && st[0] != RS_OK && st[0] != RS_FAILED && st[0] != RS_OWED)
		return -1;
	if (r->status[0] != '\0' && !sstate_status_ok(r->status))
		return -1;
	for (const char *t = r->text; *t; t++)
		if (*t < 0x20 || *t > 0x7e)
			return -1;
	r->st = st[0];
	r->code = (unsigned)code;
	return 0;
}

/* Every field of the mapped file into st. */
static int read_cdb(struct cdb *c, const char *id, struct sstate *st)
{
	const unsigned char *p;
	size_t n, i = 0;
	uint64_t delay;
	struct cdb_find cf;

	if (get1(c, "version", &p, &n, 8) < 0 || n != 1 || p[0] != SSTATE_VERSION[0] ||
	    get1(c, "id", &p, &n, RANDID_LEN) < 0 || n != strlen(id) || memcmp(p, id, n) != 0 ||
	    get1(c, "attempts", &p, &n, 24) < 0 || num(p, n, &st->attempts) < 0 ||
	    get1(c, "next", &p, &n, 24) < 0 || num(p, n, &st->next) < 0 ||
	    get1(c, "delay", &p, &n, 24) < 0 || num(p, n, &delay) < 0 || delay > 1)
		return -1;
	st->delay_sent = (int)delay;
	if (cdb_findinit(&cf, c, "rcpt", 4) < 0)
		return -1;
	for (;;) {
		int r = cdb_findnext(&cf);
		unsigned len;

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		len = cdb_datalen(c);
		p = cdb_get(c, len, cdb_datapos(c));
		if (p == NULL || i >= st->n || read_rcpt(p, len, &st->r[i]) < 0)
			return -1;
		i++;
	}
	return i == st->n ? 0 : -1;
}

/* Read (see sched_state.h). */
int sstate_read(int fd, const char *id, struct sstate *st)
{
	struct cdb c;
	int rc;

	if (cdb_init(&c, fd) != 0)
		return -1;
	rc = read_cdb(&c, id, st);
	cdb_free(&c);
	return rc;
}
