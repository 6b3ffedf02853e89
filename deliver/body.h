/*
 * body.h — the message as postern-deliver sends it after DATA: the
 * trusted header block, then the message fd's bytes, dot-stuffed
 * (RFC 5321 §4.5.2), always ended by CRLF.CRLF (invariant 2: never a
 * lenient terminator).  Nothing else is changed: the queue holds the
 * client's bytes, already CRLF-clean.  A '.' after ANY LF is doubled, so
 * even a bare LF (which cannot be there) could not make a server see an
 * early end.
 *
 * The message fd is read with pread only (no seek position shared with
 * anyone), and fstat for its size; it must be a regular file.
 */
#ifndef POSTERN_DELIVER_BODY_H
#define POSTERN_DELIVER_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "jobchan.h"

struct dotstuff {
	int bol;		/* at the start of a line */
	unsigned char prev2[2];	/* the last two bytes written */
	uint64_t total;
};

void dot_init(struct dotstuff *d);
/* Stuff in[0..n) into out (cap >= 2n); returns the bytes written. */
size_t dot_stuff(struct dotstuff *d, const unsigned char *in, size_t n,
                 unsigned char *out, size_t cap);
/* The terminator to write after everything: ".\r\n" after a CRLF (or
 * nothing at all), else "\r\n.\r\n".  Sets *n. */
const char *dot_end(const struct dotstuff *d, size_t *n);

/* Size of the message file and whether header block or message hold a
 * byte >= 0x80 (then BODY=8BITMIME is needed).  0, or -1 (not a regular
 * file, read error). */
int body_scan(int fd, const struct bytes *header, uint64_t *size, int *eightbit);

/* Send header block and message, stuffed and terminated; each write
 * of a block gets block_ms (RFC 5321 §4.5.3.2 "data block"). */
enum conn_status body_send(struct conn *c, int fd, const struct bytes *header,
                           uint64_t size, int64_t block_ms);

#endif
