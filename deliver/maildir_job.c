/*
 * maildir_job.c — reading `job` frames and building result frames for
 * postern-maildir (grammar in maildir_job.h).  Every field goes through
 * lib/netstring.h's typed getters, which fail closed; the reader accepts a
 * job only if every byte of the frame was consumed.
 */
#include <string.h>

#include "maildir_job.h"
#include "netstring.h"

/* Skip one field of at most max bytes; 0 or -1. */
static int skip(struct frame_reader *r, size_t max)
{
	const unsigned char *p;
	size_t n;

	return fr_bytes(r, &p, &n, max);
}

/* The route field must be exactly "maildir": anything else was meant for
 * another kind of worker, and guessing would deliver to the wrong place. */
static int route_is_maildir(struct frame_reader *r)
{
	const unsigned char *p;
	size_t n;

	if (fr_bytes(r, &p, &n, MAILDIR_FIELD_MAX) != 0)
		return -1;
	return n == 7 && memcmp(p, "maildir", 7) == 0 ? 0 : -1;
}

/* Parse a job frame (see maildir_job.h). */
int maildir_job_parse(const unsigned char *payload, size_t len, struct maildir_job *job)
{
	struct frame_reader r;

	memset(job, 0, sizeof(*job));
	fr_init(&r, payload, len);
	if (fr_is(&r, "job") != 1 || fr_u64(&r, &job->id, UINT64_MAX) != 0 ||
	    route_is_maildir(&r) != 0)
		return -1;
	/* domain helo sender ret envid */
	for (int i = 0; i < 5; i++)
		if (skip(&r, MAILDIR_FIELD_MAX) != 0)
			return -1;
	if (fr_bytes(&r, &job->header, &job->header_len, FRAME_MAX) != 0 ||
	    fr_u64(&r, &job->nrcpt, MAILDIR_RCPT_MAX) != 0 || job->nrcpt == 0)
		return -1;
	/* rcpt notify orcpt, nrcpt times */
	for (uint64_t i = 0; i < job->nrcpt * 3; i++)
		if (skip(&r, MAILDIR_FIELD_MAX) != 0)
			return -1;
	return fr_end(&r);
}

/* True if s is one of the three result classes. */
static int class_valid(const char *s)
{
	return strcmp(s, "ok") == 0 || strcmp(s, "temp") == 0 || strcmp(s, "perm") == 0;
}

/* Build `rcpt` id index class code status text. */
const unsigned char *maildir_frame_rcpt(unsigned char *buf, size_t cap, uint64_t id,
                                        uint64_t index, const char *class, uint64_t code,
                                        const char *status, const char *text, size_t *n)
{
	struct frame_writer w;

	if (!class_valid(class) || code < 200 || code > 599 ||
	    strnlen(text, MAILDIR_TEXT_MAX + 1) > MAILDIR_TEXT_MAX)
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "rcpt");
	fw_u64(&w, id);
	fw_u64(&w, index);
	fw_str(&w, class);
	fw_u64(&w, code);
	fw_str(&w, status);
	fw_str(&w, text);
	return fw_finish(&w, n);
}

/* Build `done` id. */
const unsigned char *maildir_frame_done(unsigned char *buf, size_t cap, uint64_t id, size_t *n)
{
	struct frame_writer w;

	fw_init(&w, buf, cap);
	fw_str(&w, "done");
	fw_u64(&w, id);
	return fw_finish(&w, n);
}

/* Build `bye`. */
const unsigned char *maildir_frame_bye(unsigned char *buf, size_t cap, size_t *n)
{
	struct frame_writer w;

	fw_init(&w, buf, cap);
	fw_str(&w, "bye");
	return fw_finish(&w, n);
}
