/*
 * fuzz_envelope.c — libFuzzer target for the envelope CDB reader
 * (queue/envelope.c): the input is the file's bytes (through a memfd, as
 * the reader maps a descriptor).  Whatever the bytes, envelope_load must
 * return -1 or an envelope whose promises hold: a valid queue id, at least
 * one recipient, a recipient walk that agrees with the count, fields that
 * lie inside the mapping.  A broken promise aborts (a finding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../queue/envelope.h"
#include "../queue/qdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless cond holds. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* Count the recipients and touch every byte of each field. */
static int walk(void *ctx, const struct env_field *a, const struct env_field *n,
                const struct env_field *o)
{
	volatile unsigned char sink = 0;

	for (size_t i = 0; i < a->n; i++)
		sink ^= a->p[i];
	for (size_t i = 0; i < n->n; i++)
		sink ^= n->p[i];
	for (size_t i = 0; i < o->n; i++)
		sink ^= o->p[i];
	(void)sink;
	check(a->n > 0 && a->n <= ENV_ADDR_MAX);
	(*(uint64_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct envelope e;
	uint64_t count = 0;

	if (fd < 0)
		fd = memfd_create("fuzz-envelope", 0);
	check(fd >= 0);
	check(ftruncate(fd, 0) == 0);
	if (size > 0)
		check(pwrite(fd, data, size, 0) == (ssize_t)size);
	if (envelope_load(&e, fd) != 0)
		return 0;
	check(qid_valid((const char *)e.id.p, e.id.n));
	check(e.nrcpt > 0);
	check(envelope_rcpts(&e, walk, &count) == 0 && count == e.nrcpt);
	check(e.header.n <= ENV_HEADER_MAX && e.user.n > 0);
	envelope_free(&e);
	return 0;
}
