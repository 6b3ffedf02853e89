/*
 * maildir_job.h — the job channel as postern-maildir speaks it (fd 3,
 * SOCK_SEQPACKET, one lib/netstring.h frame per packet; the contract is
 * "postern-queued <-> delivery workers" in the delivery notes).  Only the
 * maildir subset is read here; postern-deliver (SMTP) has its own reader
 * of the same grammar — to be merged into one shared module later.
 *
 * queued -> worker
 *   `job` job_id(u64) route domain helo sender ret envid header_block
 *         nrcpt(u64, 1..MAILDIR_RCPT_MAX) then nrcpt times: rcpt notify orcpt
 *         + exactly 1 descriptor: the message, read-only
 *   route must be exactly "maildir" (the worker already sits in its
 *   maildir's chroot; the master chose the path and owner).  domain, helo,
 *   sender, ret, envid and each recipient's fields are checked for length
 *   only: a maildir delivery does not use them (the header block from
 *   queued is the only thing written in front of the message).
 * worker -> queued
 *   `rcpt` job_id index class(`ok`|`temp`|`perm`) code status text
 *   `done` job_id
 *   `bye`
 *
 * Failure policy: a frame that breaks the grammar (unknown verb, short
 * frame, over-long field, leftover byte, wrong route, nrcpt 0 or too
 * large) is refused as a whole; the caller closes the channel and exits
 * without writing anything.  Pure code: no allocation, no syscall.
 */
#ifndef POSTERN_DELIVER_MAILDIR_JOB_H
#define POSTERN_DELIVER_MAILDIR_JOB_H

#include <stddef.h>
#include <stdint.h>

#define MAILDIR_RCPT_MAX 1000	/* well above queued's recipients_max */
#define MAILDIR_FIELD_MAX 2048	/* one envelope field (RFC 5321 paths are <= 256) */
#define MAILDIR_TEXT_MAX 512	/* a result's text, as the contract caps it */

struct maildir_job {
	uint64_t id;
	const unsigned char *header;	/* inside the caller's frame buffer */
	size_t header_len;
	uint64_t nrcpt;
};

/* Read the payload of one frame as a `job`.  0, or -1 if it is anything
 * else or malformed. */
int maildir_job_parse(const unsigned char *payload, size_t len, struct maildir_job *job);

/* Build frames into buf[cap]; each returns the frame's start and sets *n,
 * or NULL if it does not fit (or a field is invalid). */
const unsigned char *maildir_frame_rcpt(unsigned char *buf, size_t cap, uint64_t id,
                                        uint64_t index, const char *class, uint64_t code,
                                        const char *status, const char *text, size_t *n);
const unsigned char *maildir_frame_done(unsigned char *buf, size_t cap, uint64_t id, size_t *n);
const unsigned char *maildir_frame_bye(unsigned char *buf, size_t cap, size_t *n);

#endif
