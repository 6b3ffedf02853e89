/*
 * fuzz_queue_worker.c — libFuzzer target for what postern-queued reads
 * from less-trusted or on-disk sources in its scheduler:
 *
 *   input[0] even: a result frame from a delivery worker (queue/
 *     lib/jobchan.c job_result_parse, the reader queued uses).  input[0]
 *     bit 1 says whether the worker has a job (id 42), input[1] is the
 *     job's recipient count, the rest is the frame payload;
 *   input[0] odd: a queue/state/<id> file (queue/sched_state.c
 *     sstate_read, format sched_state.h).  input[1] % 64 is the
 *     envelope's recipient count, the rest is the file, handed over in a
 *     memfd as queued hands it the opened file.
 *
 * Invariants checked (abort on violation): an accepted `rcpt` needs a
 * job, has the job's id, an index below its count, a class o/t/p, a code
 * below 1000, an RFC 3463 status and printable text of at most 512
 * bytes, and for a code 200..599 the frame postern-deliver would write
 * for the same answer (frame_rcpt) parses back to the same result; `done` needs a job; an
 * accepted state file has exactly the envelope's count of recipients,
 * each with a known state, a valid or empty status and printable text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jobchan.h"
#include "../queue/sched_int.h"
#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JOB_ID 42
#define STATE_ID "fuzzstate00000000000"	/* RANDID_LEN characters */

/* Abort unless cond holds. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* 1 if s is printable ASCII. */
static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* The class word of an accepted result. */
static const char *cls_word(char c)
{
	return c == 'o' ? "ok" : c == 't' ? "temp" : "perm";
}

/* A result frame payload p[0..n) against expectation x. */
static void fuzz_result(const unsigned char *p, size_t n, const struct job_expect *x)
{
	static struct job_result r, again;
	static unsigned char buf[FRAME_MAX];
	const unsigned char *f, *pl;
	size_t fn, pn, used;

	if (job_result_parse(p, n, x, &r) != 0)
		return;
	check(r.kind == JOB_R_RCPT || r.kind == JOB_R_DONE || r.kind == JOB_R_BYE);
	if (r.kind != JOB_R_RCPT) {
		check(r.kind == JOB_R_BYE || x->has_job);
		return;
	}
	check(x->has_job && r.index < x->n);
	check(r.cls == 'o' || r.cls == 't' || r.cls == 'p');
	check(r.code < 1000 && sstate_status_ok(r.status));
	check(strlen(r.text) <= SSTATE_TEXT_MAX && printable(r.text));
	/* What a worker writes for this answer reads back the same (the
	 * writer sends only codes 200..599; queued accepts any below 1000). */
	if (r.code < 200 || r.code > 599 || strlen(r.text) > JOB_TEXT_MAX)
		return;
	f = frame_rcpt(buf, sizeof buf, &fn, x->job_id, r.index, cls_word(r.cls), r.code,
	               r.status, r.text);
	check(f != NULL);
	check(netstring_parse(f, fn, FRAME_MAX, &pl, &pn, &used) == NS_OK && used == fn);
	check(job_result_parse(pl, pn, x, &again) == 0);
	check(again.kind == JOB_R_RCPT && again.index == r.index && again.cls == r.cls &&
	      again.code == r.code && strcmp(again.status, r.status) == 0 &&
	      strcmp(again.text, r.text) == 0);
}

/* A state file p[0..n) for an envelope of nrcpt recipients. */
static void fuzz_state(const unsigned char *p, size_t n, size_t nrcpt)
{
	static int fd = -1;
	struct sstate st;

	if (fd < 0)
		fd = memfd_create("fuzz-state", MFD_CLOEXEC);
	check(fd >= 0);
	check(ftruncate(fd, 0) == 0);
	check(n == 0 || pwrite(fd, p, n, 0) == (ssize_t)n);
	check(sstate_alloc(&st, nrcpt) == 0);
	if (sstate_read(fd, STATE_ID, &st) == 0) {
		check(st.n == nrcpt && (st.delay_sent == 0 || st.delay_sent == 1));
		for (size_t i = 0; i < st.n; i++) {
			const struct srstate *r = &st.r[i];

			check(r->st == RS_PENDING || r->st == RS_OK || r->st == RS_FAILED ||
			      r->st == RS_OWED);
			check(r->code < 1000);
			check(r->status[0] == '\0' || sstate_status_ok(r->status));
			check(strlen(r->text) <= SSTATE_TEXT_MAX && printable(r->text));
		}
	}
	sstate_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_expect x;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		fuzz_state(data + 2, size - 2, data[1] % 64);
		return 0;
	}
	x.has_job = (data[0] & 2) != 0;
	x.job_id = JOB_ID;
	x.n = data[1];
	fuzz_result(data + 2, size - 2, &x);
	return 0;
}
