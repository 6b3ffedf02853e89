/*
 * jobchan.h — the job channel between postern-queued and a delivery worker,
 * shared by postern-deliver (SMTP) and postern-maildir: the one reader of
 * `job` frames and the one writer of `rcpt`/`done`/`bye` frames (fd 3,
 * SOCK_SEQPACKET, one lib/netstring.h frame per packet), and the writer
 * of `job` frames that postern-queued's end (queue/sched_worker.c) uses:
 *
 * queued -> worker
 *   `job` job_id(u64) route domain helo sender(bytes, "" for <>) ret envid
 *         header_block nrcpt(u64, 1..JOB_RCPT_MAX) then nrcpt times:
 *         rcpt notify orcpt
 *         + exactly 1 descriptor (SCM_RIGHTS): the message, O_RDONLY
 *     route: kept as bytes here; each program checks it after the parse
 *            (job_route_is, route.h): postern-deliver takes "mx" or
 *            "relay:HOST:PORT[ tls=...][ auth=NAME]", postern-maildir
 *            exactly "maildir" (it already sits in its maildir's chroot)
 *     domain: the recipients' domain as lib/mailbox.h reads it (a host
 *            name, a U-label domain or an address literal), <= 255 bytes
 *     helo: printable ASCII without space, <= 255 bytes (may be empty);
 *            postern-deliver further requires a host name
 *     ret: "full" | "hdrs" | ""; envid, notify, orcpt: the client's raw
 *            (xtext) values or "" (lib/dsnparam.h), each <= 512 bytes
 * worker -> queued
 *   `rcpt` job_id index(u64) class(`ok`|`temp`|`perm`) code(u64, 200..599)
 *          status text   one per recipient, any order; text sanitized,
 *          <= JOB_TEXT_MAX bytes
 *   `done` job_id      after the last `rcpt` of that job
 *   `bye`              the worker leaves (after its batch, or a peer that
 *                      misbehaved) and sends nothing more
 *
 * Failure policy: a `job` frame that breaks the framing (another verb, a
 * short frame, a field over its cap, a leftover byte, nrcpt 0 or too
 * large) can only come from a broken queued and is refused as a whole;
 * the caller closes the channel and exits 111, and queued treats the
 * job's recipients as temp.  Content is never fatal: a recipient, sender,
 * parameter or domain outside the shared envelope grammar (lib/mailbox.h,
 * lib/dsnparam.h: the one smtpd accepted it by) is parsed but marked
 * invalid, and the worker answers it per recipient (`perm 553 5.1.3`,
 * 5.1.7 for the sender, 5.1.2 for the domain).  The writers refuse (NULL)
 * a class, code or text outside the grammar rather than send it.  Pure
 * code: no allocation, no syscall (fuzz, unit tests).
 */
#ifndef POSTERN_JOBCHAN_H
#define POSTERN_JOBCHAN_H

#include <stddef.h>
#include <stdint.h>

#include "netstring.h"

#define JOB_RCPT_MAX 1000	/* well above queued's recipients_max */
#define JOB_ADDR_MAX 512	/* caps: the envelope's (queue/envelope.h) */
#define JOB_PARAM_MAX 512
#define JOB_HOST_MAX 255
#define JOB_ROUTE_MAX 512
#define JOB_TEXT_MAX 512	/* a result's text */
#define JOB_STATUS_MAX 15	/* "5.999.999" and room */

struct bytes {
	const unsigned char *p;
	size_t n;
};

struct job_rcpt {
	struct bytes addr, notify, orcpt;
	int valid;
};

/* Byte fields point into the frame buffer the job was parsed from. */
struct job {
	uint64_t id;
	struct bytes route;
	char domain[JOB_HOST_MAX + 1];	/* "" unless domain_valid */
	int domain_valid;
	char helo[JOB_HOST_MAX + 1];
	struct bytes sender, ret, envid, header;
	int sender_valid;
	size_t nrcpt;
	struct job_rcpt rcpt[JOB_RCPT_MAX];
};

/* queued's end: a `job` frame is job_write_head, then job_write_rcpt
 * once for each of the nrcpt recipients, then fw_finish (which returns
 * NULL if the frame did not fit).  Fields are written as given: queued
 * took them from envelopes it checked with the same grammar. */
struct job_head {
	uint64_t id;
	const char *route, *domain, *helo;
	struct bytes sender, ret, envid, header;
	size_t nrcpt;
};
void job_write_head(struct frame_writer *w, const struct job_head *h);
void job_write_rcpt(struct frame_writer *w, const struct bytes *addr,
                    const struct bytes *notify, const struct bytes *orcpt);

/* Parse a `job` frame payload.  0, or -1 (malformed: the caller exits). */
int job_parse(struct job *j, const unsigned char *payload, size_t len);

/* 1 if the job's route is exactly the word route. */
int job_route_is(const struct job *j, const char *route);

/* 1 if s is an RFC 3463 status code: class 2, 4 or 5, then two numbers
 * of 1..3 digits ("5.1.10"). */
int job_status_ok(const char *s);

/* Result frames into buf[cap]: return the frame and its length in *n, or
 * NULL if it does not fit or a field is outside the grammar. */
const unsigned char *frame_rcpt(unsigned char *buf, size_t cap, size_t *n, uint64_t id,
                                uint64_t index, const char *cls, uint64_t code,
                                const char *status, const char *text);
const unsigned char *frame_done(unsigned char *buf, size_t cap, size_t *n, uint64_t id);
const unsigned char *frame_bye(unsigned char *buf, size_t cap, size_t *n);

/* queued's end: reading a worker's result frames.  The job the worker has,
 * as far as checking its results needs it: */
struct job_expect {
	int has_job;
	uint64_t job_id;
	size_t n;		/* recipients in the job */
};
enum job_result_kind { JOB_R_RCPT, JOB_R_DONE, JOB_R_BYE };
/* One well-formed result frame. */
struct job_result {
	enum job_result_kind kind;
	size_t index;				/* rcpt: < the job's n */
	char cls;				/* rcpt: 'o', 't' or 'p' */
	unsigned code;				/* rcpt: 200..599 */
	char status[JOB_STATUS_MAX + 1];	/* rcpt: RFC 3463 */
	char text[JOB_TEXT_MAX + 1];		/* rcpt: printable */
};
/* Parse the payload p[0..n) a worker sent while it had x: 0 with *r, or
 * -1 (malformed: queued closes that worker).  Pure. */
int job_result_parse(const unsigned char *p, size_t n, const struct job_expect *x,
                     struct job_result *r);

#endif
