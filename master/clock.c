/*
 * clock.c — the master's one clock: CLOCK_MONOTONIC in milliseconds, for
 * deadlines and the per-second log rate windows (wall-clock jumps must not
 * end a shutdown early or unthrottle a chatty session).
 *
 * Process: postern (master).  Failure policy: clock_gettime on
 * CLOCK_MONOTONIC cannot fail on Linux; if it did, time would stand still.
 */
#include <time.h>

#include "master.h"

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t now_ms(void)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
