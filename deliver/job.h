/*
 * job.h — the channel between postern-queued and a postern-deliver worker
 * (fd 3, SOCK_SEQPACKET, one lib/netstring.h frame per packet; the contract
 * of /work/notes/delivery.md, DESIGN §2 step 7):
 *
 * queued -> worker
 *   `job` job_id(u64) route domain helo sender(bytes, "" for <>) ret envid
 *         header_block nrcpt(u64) then nrcpt times: rcpt notify orcpt
 *         + exactly 1 descriptor (SCM_RIGHTS): the message, O_RDONLY
 *     route: "mx" | "relay:HOST:PORT" (HOST a name, an IPv4 literal or
 *            "[IPv6]"), then optional " tls=opportunistic|required|verify"
 *            and " auth=NAME" (a key of relay-secrets.cdb)
 *     ret: "full" | "hdrs" | ""; envid, notify, orcpt: the client's raw
 *            (xtext) values or ""
 * worker -> queued
 *   `rcpt` job_id index(u64) class(`ok`|`temp`|`perm`) code(u64) status text
 *          one per recipient, any order; text sanitized, <= 512 bytes
 *   `done` job_id      after the last `rcpt` of that job
 *   `bye`              the worker leaves (after its batch, or a peer that
 *                      misbehaved) and sends nothing more
 *
 * A malformed `job` frame (or any other verb, or not exactly one fd) ends
 * the worker (exit 111): queued then treats the job's recipients as temp.
 * A recipient or sender whose bytes could not be written into an SMTP
 * command safely (control bytes, space, '<' '>', empty recipient) is
 * parsed but marked invalid and answered `perm 553 5.1.3` (5.1.7 for the
 * sender): it never reaches the wire.
 */
#ifndef POSTERN_DELIVER_JOB_H
#define POSTERN_DELIVER_JOB_H

#include <stddef.h>
#include <stdint.h>

#define JOB_RCPT_MAX 1000
#define JOB_ADDR_MAX 512
#define JOB_HOST_MAX 255
#define JOB_AUTHNAME_MAX 128

struct bytes {
	const unsigned char *p;
	size_t n;
};

enum tls_policy { TLS_OPPORTUNISTIC = 0, TLS_REQUIRED, TLS_VERIFY };

struct route {
	int relay;			/* 0: MX of the domain; 1: HOST:PORT */
	char host[JOB_HOST_MAX + 1];
	unsigned port;
	enum tls_policy tls;
	char auth[JOB_AUTHNAME_MAX + 1];	/* "" = no AUTH */
};

struct job_rcpt {
	struct bytes addr, notify, orcpt;
	int valid;
};

/* Fields point into the frame buffer the job was parsed from. */
struct job {
	uint64_t id;
	struct route route;
	char domain[JOB_HOST_MAX + 1];
	char helo[JOB_HOST_MAX + 1];
	struct bytes sender, ret, envid, header;
	int sender_valid;
	size_t nrcpt;
	struct job_rcpt rcpt[JOB_RCPT_MAX];
};

/* Parse a `job` frame payload.  0, or -1 (malformed: the caller exits). */
int job_parse(struct job *j, const unsigned char *payload, size_t len);

/* Parse a route string (see the grammar above).  0 or -1. */
int route_parse(struct route *r, const unsigned char *s, size_t n);

/* 1 if the address bytes may go into MAIL FROM/RCPT TO. */
int job_addr_ok(const unsigned char *p, size_t n);
/* 1 if an xtext parameter (ENVID, NOTIFY, ORCPT) may go on the wire. */
int job_param_ok(const unsigned char *p, size_t n);

/* Result frames into buf[cap]: return the frame and its length in *n, or
 * NULL if it does not fit (never for the caps used here). */
const unsigned char *frame_rcpt(unsigned char *buf, size_t cap, size_t *n, uint64_t id,
                                size_t index, const char *cls, int code,
                                const char *status, const char *text);
const unsigned char *frame_done(unsigned char *buf, size_t cap, size_t *n, uint64_t id);
const unsigned char *frame_bye(unsigned char *buf, size_t cap, size_t *n);

#endif
