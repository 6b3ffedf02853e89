/*
 * logrelay.h — relaying a per-connection process's log pipe to the master's
 * stderr.  The child is untrusted: its bytes are split into lines of at most
 * LOG_LINE_MAX bytes (a longer line is cut, marked truncated=1, and its rest
 * dropped up to the next newline), every byte outside printable ASCII
 * (space included in it) is written as \xNN, and the trusted prefix
 * "postern: session=ID " is put in front, all in one write(2).  A daemon's
 * relay (master/daemon.c) passes "role=NAME" as the id, which is written
 * as is ("postern: role=authd ..."): session ids never contain '='.  Each session
 * may log at most a configured number of lines per second; the lines over
 * it are counted and the count is logged once per second
 * (event=log-dropped).
 *
 * Process: postern (master).  Descriptors: the read end of one session's
 * log pipe, non-blocking.  Failure policy: never block on the pipe, never
 * read more than a bounded amount per call; a read error is treated as EOF.
 */
#ifndef POSTERN_MASTER_LOGRELAY_H
#define POSTERN_MASTER_LOGRELAY_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct logrelay {
	char line[LOG_LINE_MAX];	/* the unfinished line */
	size_t len;
	int skipping;			/* dropping the rest of an over-long line */
	uint64_t window;		/* second of the current rate window */
	uint64_t count;			/* lines written in it */
	uint64_t dropped;		/* lines dropped in it */
};

void logrelay_init(struct logrelay *r);

/* Feed n bytes read from the child; writes each complete line. */
void logrelay_feed(struct logrelay *r, const char *sid, const char *data,
                   size_t n, uint64_t rate, uint64_t now_s);

/* Read fd (non-blocking) up to budget bytes and feed them.  Returns 1 if
 * the pipe is still open, 0 on EOF or error. */
int logrelay_read(struct logrelay *r, int fd, const char *sid, uint64_t rate,
                  uint64_t now_s, size_t budget);

/* At EOF: write the unfinished line, if any, and any dropped count. */
void logrelay_finish(struct logrelay *r, const char *sid, uint64_t rate,
                     uint64_t now_s);

/* Once a second: report the lines dropped in a finished window. */
void logrelay_tick(struct logrelay *r, const char *sid, uint64_t now_s);

/* Escape line[0..n) for the log as described above into out[cap];
 * returns the bytes written; *cut is set if it did not all fit. */
size_t logrelay_escape(char *out, size_t cap, const char *line, size_t n, int *cut);

#endif
