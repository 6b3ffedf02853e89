/*
 * fuzz_factorychan.c — libFuzzer target for lib/factorychan.c, the packet
 * grammar between the master and a tlsd factory (the master parses what a
 * factory sends; a factory parses the master's requests).
 *
 * Input: one packet.  Aborts unless every packet that parses is written
 * back by factorychan_write to exactly the same bytes (one form per
 * message, so the two ends cannot drift), with a pid of 1..2^31-1 and an
 * error name of printable ASCII.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factorychan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[FACTORYCHAN_MAX];
	struct factorychan_msg m;
	const unsigned char *f;
	size_t n;

	if (factorychan_parse(data, size, &m) != 0)
		return 0;
	if (m.verb == FC_PID && m.pid <= 0)
		abort();
	f = factorychan_write(buf, sizeof buf, &n, &m);
	if (f == NULL || n != size || memcmp(f, data, n) != 0)
		abort();
	return 0;
}
