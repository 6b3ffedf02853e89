/*
 * quota_state.c — the quota counters on disk (quota.h), so that a restart
 * of postern-queued, kill -9 included, does not hand every login a fresh
 * quota.  postern-queued: quota_load as root before the sandbox (openat
 * O_NOFOLLOW, fstat, read on the queue directory descriptor), the saves
 * in the sandbox (openat O_NOFOLLOW|O_CREAT, write, fsync, renameat,
 * fsync of the directory: calls its allow-list has for commit.c).
 *
 * The file: QUOTA_STATE_FILE in the queue directory, replaced whole
 * through QUOTA_STATE_TMP (written, fsync'd, renamed over it, directory
 * fsync'd), so after a crash it is the old file or the new one, never a
 * mix.  Little-endian:
 *   "PQUOTA1\n"   8 bytes
 *   checksum     16 bytes, BLAKE2b-128 of everything after it
 *   closed_day    u64, the UTC day a corrupt file closed (2^64-1: none)
 *   count         u64, records (<= QUOTA_USERS_MAX)
 *   count records: hour u64, day u64, msg_h msg_d rcpt_h rcpt_d u64,
 *                  login length u16 (1..QUOTA_LOGIN_MAX), the login
 * A counter's value on disk is its high-water mark (never below the
 * counter).  Records of windows other than the current ones count as
 * zero when read.
 *
 * Why a kill -9 never lets a login go over a limit.  For each limited
 * counter, c (committed + reserved) and hwm live in memory, F is what the
 * file on disk says.  (1) Every unit that is ever queued was reserved
 * (c + 1) before queued answered 250 to its MAIL or RCPT, and c only goes
 * down by the units of a transaction that ended without a queued message.
 * (2) A reservation that takes c above hwm raises hwm (by a block,
 * limit / QUOTA_BLOCK_DIV, at least 1, at most up to the limit) and
 * writes the file durably BEFORE the 250; if that write fails the
 * reservation is undone and the answer is 451.  (3) Every save writes
 * each counter's hwm, and hwm is only ever lowered to a value >= c just
 * before a save (by that save), so F >= hwm >= c whenever a reply goes
 * out; a save that fails leaves the old or the new file, both >= the
 * marks kept in memory.  So at a crash, F >= c >= the units queued in the
 * current window; the next queued starts with c = F and still refuses at
 * c = limit: across any number of crashes, queued units per window never
 * pass the limit.  The price: after a crash a login may find up to one
 * block plus its in-flight reservations already counted, for the rest of
 * that window.  A clean shutdown saves the exact counters.  Unlimited
 * counters are saved lazily (at most QUOTA_SAVE_INTERVAL_MS late): no
 * crash can take them over a limit they do not have.
 *
 * A corrupt file (bad magic, checksum, length, count, login, value, a
 * duplicate login, or one that cannot be read): the writes above never
 * leave one after a crash, so it means a disk error or a hand edit, and
 * the counters it held are unknown.  Failing closed as the rest of the
 * quota code does (a malformed quotas record refuses), every limited
 * counter of every login is treated as at its limit until the end of the
 * current UTC day (event=quota-state-corrupt, with the reason); that
 * mark is saved at once so that a restart keeps it.  To start at zero
 * instead, the operator stops postern and removes the file.  No file at
 * all (a new queue) starts at zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bufio.h"
#include "log.h"
#include "quota.h"
#include "readfull.h"

#define QUOTA_STATE_FILE "quota"
#define QUOTA_STATE_TMP "quota.tmp"
#define MAGIC "PQUOTA1\n"
#define MAGIC_LEN 8
#define SUM_LEN 16
#define HDR_LEN (MAGIC_LEN + SUM_LEN + 16)
#define REC_FIXED (6 * 8 + 2)
#define STATE_MAX (HDR_LEN + (size_t)QUOTA_USERS_MAX * (REC_FIXED + QUOTA_LOGIN_MAX))
/* No real counter gets near this; a larger value is corruption (and keeps
 * c + 1 and c + block far from overflow). */
#define VALUE_MAX ((uint64_t)1 << 48)

/* Little-endian helpers. */
static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The checksum of b[MAGIC_LEN + SUM_LEN .. n). */
static void checksum(unsigned char out[SUM_LEN], const unsigned char *b, size_t n)
{
	crypto_generichash(out, SUM_LEN, b + MAGIC_LEN + SUM_LEN, n - MAGIC_LEN - SUM_LEN,
	                   NULL, 0);
}

/* Encode q (see quota.h). */
unsigned char *quota_state_encode(const struct quota_table *q, size_t *len)
{
	unsigned char *b = malloc(HDR_LEN + q->n * (REC_FIXED + QUOTA_LOGIN_MAX));
	size_t off = HDR_LEN;

	if (b == NULL)
		return NULL;
	memcpy(b, MAGIC, MAGIC_LEN);
	put64(b + MAGIC_LEN + SUM_LEN, q->closed_day);
	put64(b + MAGIC_LEN + SUM_LEN + 8, q->n);
	for (size_t k = 0; k < q->n; k++) {
		const struct quota_entry *e = &q->v[k];
		size_t ln = strlen(e->login);

		put64(b + off, e->hour);
		put64(b + off + 8, e->day);
		for (int i = 0; i < QC_N; i++) {
			uint64_t v = e->hwm[i] > e->c[i] ? e->hwm[i] : e->c[i];

			put64(b + off + 16 + 8 * (size_t)i, v);
		}
		b[off + 48] = (unsigned char)(ln & 0xff);
		b[off + 49] = (unsigned char)(ln >> 8);
		memcpy(b + off + REC_FIXED, e->login, ln);
		off += REC_FIXED + ln;
	}
	checksum(b + MAGIC_LEN, b, off);
	*len = off;
	return b;
}

/* Parse one record at b[*off..n) into e; NULL, or the reason it is bad. */
static const char *parse_record(const unsigned char *b, size_t n, size_t *off,
                                struct quota_entry *e)
{
	const unsigned char *p = b + *off;
	size_t ln;

	if (n - *off < REC_FIXED)
		return "truncated";
	ln = (size_t)p[48] | (size_t)p[49] << 8;
	if (ln == 0 || ln > QUOTA_LOGIN_MAX)
		return "login-length";
	if (n - *off - REC_FIXED < ln)
		return "truncated";
	if (memchr(p + REC_FIXED, '\0', ln) != NULL)
		return "login";
	memset(e, 0, sizeof *e);
	e->hour = get64(p);
	e->day = get64(p + 8);
	for (int i = 0; i < QC_N; i++) {
		e->c[i] = e->hwm[i] = get64(p + 16 + 8 * (size_t)i);
		if (e->c[i] > VALUE_MAX)
			return "value";
	}
	memcpy(e->login, p + REC_FIXED, ln);
	*off += REC_FIXED + ln;
	return NULL;
}

/* Keep e in q if its day is today (its hour counters only in this hour). */
static const char *keep(struct quota_table *q, struct quota_entry *e, uint64_t now)
{
	for (size_t k = 0; k < q->n; k++)
		if (strcmp(q->v[k].login, e->login) == 0)
			return "duplicate";
	if (e->day != now / 86400)
		return NULL;	/* a day that is over: nothing to keep */
	if (e->hour != now / 3600) {
		e->hour = now / 3600;
		e->c[QC_MSG_H] = e->hwm[QC_MSG_H] = 0;
		e->c[QC_RCPT_H] = e->hwm[QC_RCPT_H] = 0;
	}
	q->v[q->n++] = *e;
	return NULL;
}

/* Parse a state image (see quota.h). */
int quota_state_parse(struct quota_table *q, const unsigned char *b, size_t n, uint64_t now,
                      const char **why)
{
	unsigned char sum[SUM_LEN];
	struct quota_entry e;
	uint64_t count;
	size_t off = HDR_LEN;

	q->n = 0;
	*why = NULL;
	if (n < HDR_LEN)
		*why = "truncated";
	else if (memcmp(b, MAGIC, MAGIC_LEN) != 0)
		*why = "magic";
	if (*why != NULL)
		return -1;
	checksum(sum, b, n);
	count = get64(b + MAGIC_LEN + SUM_LEN + 8);
	if (sodium_memcmp(sum, b + MAGIC_LEN, SUM_LEN) != 0)
		*why = "checksum";
	else if (count > QUOTA_USERS_MAX)
		*why = "count";
	for (uint64_t k = 0; *why == NULL && k < count; k++) {
		*why = parse_record(b, n, &off, &e);
		if (*why == NULL)
			*why = keep(q, &e, now);
	}
	if (*why == NULL && off != n)
		*why = "trailing-bytes";
	if (*why != NULL) {
		q->n = 0;
		return -1;
	}
	q->closed_day = get64(b + MAGIC_LEN + SUM_LEN);
	return 0;
}

/* Read the file on dirfd into a malloc'd buffer: 1 read, 0 no file,
 * -1 with *why. */
static int read_state(int dirfd, unsigned char **out, size_t *len, const char **why)
{
	int fd = openat(dirfd, QUOTA_STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	unsigned char *b = NULL;
	int rc = -1;

	if (fd < 0) {
		*why = errno == ELOOP ? "symlink" : "open";
		return errno == ENOENT ? 0 : -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		*why = "not-a-file";
	else if (st.st_size < 0 || (uint64_t)st.st_size > STATE_MAX)
		*why = "size";
	else if ((b = malloc((size_t)st.st_size + 1)) == NULL)
		*why = "memory";
	else if (read_full(fd, b, (size_t)st.st_size + 1) != st.st_size)
		*why = "read";		/* error, or the size changed under us */
	else
		rc = 1;
	close(fd);
	if (rc < 0) {
		free(b);
		return -1;
	}
	*out = b;
	*len = (size_t)st.st_size;
	return 1;
}

/* Read the state file (see quota.h). */
int quota_load(struct quota_table *q, int dirfd, uint64_t now)
{
	unsigned char *b = NULL;
	size_t n = 0;
	const char *why = NULL;
	int r = read_state(dirfd, &b, &n, &why);

	q->dirfd = dirfd;
	if (r > 0 && quota_state_parse(q, b, n, now, &why) == 0) {
		free(b);
		log_event("quota-state", "logins=%zu limits_closed=%d", q->n,
		          q->closed_day == now / 86400);
		return 0;
	}
	free(b);
	if (r == 0) {
		log_event("quota-state", "logins=0 file=none");
		return 0;
	}
	q->n = 0;
	q->closed_day = now / 86400;
	q->dirty = 1;	/* saved at the first tick, so a restart keeps it */
	log_event("quota-state-corrupt", "reason=%s action=limits-closed-until-day-end", why);
	return 1;
}

/* Write all of b to fd. */
static int write_all(int fd, const unsigned char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Lower each high-water mark to what it must keep (see the header). */
static void lower_marks(struct quota_table *q, int exact)
{
	for (size_t k = 0; k < q->n; k++) {
		struct quota_entry *e = &q->v[k];

		for (int i = 0; i < QC_N; i++) {
			uint64_t keep = e->c[i] + (exact || e->blk[i] == 0 ? 0 : e->blk[i] - 1);

			if (e->hwm[i] > keep)
				e->hwm[i] = keep;
		}
	}
}

/* Write the image durably; 0 or -1. */
static int write_state(int dirfd, const unsigned char *b, size_t n)
{
	int fd = openat(dirfd, QUOTA_STATE_TMP,
	                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int ok;

	if (fd < 0)
		return -1;
	ok = write_all(fd, b, n) == 0 && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || renameat(dirfd, QUOTA_STATE_TMP, dirfd, QUOTA_STATE_FILE) != 0)
		return -1;
	return fsync(dirfd);
}

/* Save now (see quota.h). */
int quota_save(struct quota_table *q, int exact)
{
	unsigned char *b;
	size_t n;
	int rc = -1, err = ENOMEM;

	if (q->dirfd < 0)
		return -1;
	q->saved_ms = clock_ms();
	lower_marks(q, exact);
	b = quota_state_encode(q, &n);
	if (b != NULL) {
		rc = write_state(q->dirfd, b, n);
		err = errno;
		free(b);
	}
	if (rc == 0) {
		q->dirty = 0;
		if (q->save_failed)
			log_event("quota-state-saved", "after=failure");
		q->save_failed = 0;
	} else if (!q->save_failed) {
		log_event("quota-state-save-failed", "errno=%d", err);
		q->save_failed = 1;
	}
	return rc;
}

/* Save when due (see quota.h). */
void quota_tick(struct quota_table *q, int64_t now_ms)
{
	if (q->dirty && q->dirfd >= 0 && now_ms - q->saved_ms >= QUOTA_SAVE_INTERVAL_MS)
		(void)quota_save(q, 0);
}
