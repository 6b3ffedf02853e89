/*
 * fuzz_deliver_job.c — libFuzzer target for the job channel reader shared
 * by postern-deliver and postern-maildir (lib/jobchan.c) and the checks
 * each program applies afterwards (deliver/route.c for SMTP, the exact
 * "maildir" route for postern-maildir).  The input is one frame payload
 * as queued would send it.
 *
 * Invariants checked (abort on violation): an accepted job has 1..
 * JOB_RCPT_MAX recipients; every byte field lies inside the input; a
 * recipient marked valid has an address the shared grammar accepts
 * (lib/mailbox.h) with no byte that could end or split a command line
 * outside a quoted string; a domain marked valid parses as a domain or
 * address literal; a route accepted by route_of_job is never "maildir"
 * and one accepted as "maildir" never parses as an SMTP route; an
 * accepted SMTP route has a port 1..65535; the result frames written for
 * the job parse back as netstrings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobchan.h"
#include "mailbox.h"
#include "../deliver/route.h"
#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless b is empty or inside data[0..size). */
static void inside(const struct bytes *b, const uint8_t *data, size_t size)
{
	if (b->n > 0 && (b->p < data || b->p + b->n > data + size))
		abort();
}

/* Abort unless frame f[0..n) is one whole netstring. */
static void whole(const unsigned char *f, size_t n)
{
	const unsigned char *p;
	size_t pl, used;

	if (f == NULL || netstring_parse(f, n, FRAME_MAX, &p, &pl, &used) != NS_OK || used != n)
		abort();
}

/* No CR, LF, NUL, and no '>' or space outside a quoted string: the
 * address cannot end or split "RCPT TO:<...>". */
static int wire_safe(const struct bytes *b)
{
	int quoted = 0;

	for (size_t i = 0; i < b->n; i++) {
		unsigned char c = b->p[i];

		if (c == '\r' || c == '\n' || c == '\0')
			return 0;
		if (quoted && c == '\\')
			i++;
		else if (c == '"')
			quoted = !quoted;
		else if (!quoted && (c == '>' || c == ' ' || c == '<'))
			return 0;
	}
	return !quoted;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct job j;
	static unsigned char buf[2048];
	struct mailbox_domain d;
	struct route r;
	size_t n;
	int smtp;

	if (job_parse(&j, data, size) != 0)
		return 0;
	if (j.nrcpt == 0 || j.nrcpt > JOB_RCPT_MAX)
		abort();
	inside(&j.route, data, size);
	inside(&j.sender, data, size);
	inside(&j.header, data, size);
	for (size_t i = 0; i < j.nrcpt; i++) {
		inside(&j.rcpt[i].addr, data, size);
		if (j.rcpt[i].valid && (!mailbox_rcpt_ok(j.rcpt[i].addr.p, j.rcpt[i].addr.n, 1) ||
		                        !wire_safe(&j.rcpt[i].addr)))
			abort();
	}
	smtp = route_of_job(&r, &j) == 0;
	if (smtp && job_route_is(&j, "maildir"))
		abort();
	if (smtp && (r.port < 1 || r.port > 65535))
		abort();
	if (j.domain_valid && j.domain[0] != '\0' &&
	    mailbox_domain_parse((const unsigned char *)j.domain, strlen(j.domain), &d) != MAILBOX_OK)
		abort();
	whole(frame_rcpt(buf, sizeof(buf), &n, j.id, j.nrcpt - 1, "temp", 451, "4.3.0",
	                 "fuzz"), n);
	whole(frame_done(buf, sizeof(buf), &n, j.id), n);
	return 0;
}
