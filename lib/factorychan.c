/*
 * factorychan.c — the master <-> tlsd factory channel (factorychan.h),
 * both directions, for both ends.  Pure.
 */
#include <string.h>

#include "factorychan.h"
#include "netstring.h"

static const char *const verbs[] = {
	[FC_READY] = "ready", [FC_PID] = "pid", [FC_ERR] = "err", [FC_FORK] = "fork",
};

/* 1 if s[0..n) is an error name: printable ASCII without space. */
static int err_name_ok(const unsigned char *s, size_t n)
{
	if (n == 0 || n > FACTORYCHAN_ERR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

/* Write one frame (see factorychan.h). */
const unsigned char *factorychan_write(unsigned char *buf, size_t cap, size_t *n,
                                       const struct factorychan_msg *m)
{
	struct frame_writer w;

	if ((unsigned)m->verb > FC_FORK)
		return NULL;
	fw_init(&w, buf, cap < FACTORYCHAN_MAX ? cap : FACTORYCHAN_MAX);
	fw_str(&w, verbs[m->verb]);
	if (m->verb == FC_PID) {
		if (m->pid <= 0)
			return NULL;
		fw_u64(&w, (uint64_t)m->pid);
	} else if (m->verb == FC_ERR) {
		size_t k = strnlen(m->err, sizeof m->err);

		if (!err_name_ok((const unsigned char *)m->err, k))
			return NULL;
		fw_bytes(&w, m->err, k);
	}
	return fw_finish(&w, n);
}

/* Parse one packet (see factorychan.h). */
int factorychan_parse(const unsigned char *pkt, size_t n, struct factorychan_msg *m)
{
	const unsigned char *e;
	struct frame_reader r;
	size_t en;
	uint64_t pid;
	int k;

	memset(m, 0, sizeof *m);
	k = fr_packet(&r, pkt, n, FACTORYCHAN_MAX, verbs, FC_FORK + 1);
	if (k < 0)
		return -1;
	m->verb = (enum factorychan_verb)k;
	if (k == FC_PID) {
		if (fr_u64(&r, &pid, 0x7fffffff) < 0 || pid == 0)
			return -1;
		m->pid = (pid_t)pid;
	} else if (k == FC_ERR) {
		if (fr_bytes(&r, &e, &en, FACTORYCHAN_ERR_MAX) < 0 || !err_name_ok(e, en))
			return -1;
		memcpy(m->err, e, en);
	}
	return fr_end(&r);
}
