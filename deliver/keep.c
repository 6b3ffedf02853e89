/*
 * keep.c — the session postern-deliver keeps between jobs (keep.h).
 * Runs in the sandbox.  The key is built from job fields lib/jobchan.c and
 * route.c checked; it is compared as bytes, never parsed.  Failure
 * policy: anything unexpected on the kept session (bytes, EOF, error)
 * closes it; the job that would have used it opens a fresh one.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "bufio.h"
#include "keep.h"
#include "log.h"
#include "route.h"
#include "smtpclient.h"

/* The destination key of j: route NUL helo NUL (domain, for mx only). */
static size_t make_key(const struct job *j, unsigned char *key)
{
	size_t n = 0, hl = strlen(j->helo), dl = strlen(j->domain);

	if (j->route.n > JOB_ROUTE_MAX || hl > JOB_HOST_MAX || dl > JOB_HOST_MAX)
		return 0;
	memcpy(key, j->route.p, j->route.n);
	n = j->route.n;
	key[n++] = '\0';
	memcpy(key + n, j->helo, hl);
	n += hl;
	key[n++] = '\0';
	if (job_route_is(j, "mx")) {
		memcpy(key + n, j->domain, dl);
		n += dl;
	}
	return n;
}

/* 1 if k holds a session for j's destination. */
int keep_match(const struct keep *k, const struct job *j)
{
	unsigned char key[KEEP_KEY_MAX];
	size_t n;

	if (!k->open)
		return 0;
	n = make_key(j, key);
	return n > 0 && n == k->keylen && memcmp(key, k->key, n) == 0;
}

/* Close the kept session unless it matches j. */
void keep_drop_unless(struct keep *k, const struct job *j)
{
	if (k->open && !keep_match(k, j))
		keep_close(k, 1, "other-destination");
}

/* Keep k->c for j's destination (see keep.h). */
void keep_store(struct keep *k, const struct job *j, const char *host,
                const struct ehlo_caps *caps, int fresh)
{
	size_t hl = strlen(host);

	k->open = 1;
	k->ntx = fresh ? 1 : k->ntx + 1;
	k->keylen = make_key(j, k->key);
	if (k->keylen == 0 || hl > JOB_HOST_MAX) {
		keep_close(k, 1, "unkeyable");
		return;
	}
	if (fresh) {
		memcpy(k->host, host, hl + 1);
		k->caps = *caps;
	}
	if (k->ntx >= KEEP_MAX_TX) {
		keep_close(k, 1, "max-transactions");
		return;
	}
	k->idle_since = clock_ms();
}

/* QUIT (if quit) and close the kept session. */
void keep_close(struct keep *k, int quit, const char *why)
{
	if (!k->open)
		return;
	if (quit)
		smtp_quit(&k->c);
	conn_close(&k->c);
	k->open = 0;
	log_event("session-closed", "host=%s transactions=%u reason=%s", k->host, k->ntx, why);
}

/* Wait for the job channel while the session idles (see keep.h). */
int keep_wait_job(struct keep *k, int chan)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = chan, .events = POLLIN, .revents = 0 },
			{ .fd = k->open ? k->c.fd : -1, .events = POLLIN, .revents = 0 },
		};
		int64_t left = DEADLINE_NONE;
		int r;

		if (k->open) {
			left = k->idle_since + KEEP_IDLE_MS - clock_ms();
			if (left <= 0) {
				keep_close(k, 1, "idle");
				continue;
			}
		}
		r = poll(p, 2, k->open ? (int)left : -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k->open && p[1].revents != 0)
			keep_close(k, 0, "peer-closed-or-spoke");	/* a 421 or EOF while idle */
		if (p[0].revents != 0)
			return 0;
	}
}
