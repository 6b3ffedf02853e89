/*
 * fdlayout.c — checking and trimming a program's descriptors at start
 * (see fdlayout.h).  Runs before the sandbox; failure is fatal.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fdlayout.h"
#include "log.h"

/* Check 0..required-1, close keep and above. */
void fds_expect(int required, int keep)
{
	for (int fd = 0; fd < required; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			log_fatal("descriptor %d is not open", fd);
	}
	if (close_range((unsigned)keep, ~0U, 0) != 0)
		log_fatal("cannot close descriptors from %d up", keep);
}
