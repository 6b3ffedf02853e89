/*
 * body.h — the message as postern-deliver sends it after DATA: the
 * trusted header block, then the message fd's bytes, dot-stuffed
 * (RFC 5321 §4.5.2), always ended by CRLF.CRLF (invariant 2: never a
 * lenient terminator).  Nothing else is changed: the queue holds the
 * client's bytes, which smtpd and queued both checked to be CRLF-clean.
 * A message that is not (a bare CR, a bare LF or a NUL) is never sent:
 * body_scan finds it before the connection, and dot_stuff refuses it
 * rather than write a bare CR or LF, so no `<CR>.<CR><LF>` can ever
 * leave postern.  A stuffed line may be 1001 octets on the wire with
 * CRLF: the limit of RFC 5321 §4.5.3.1.6 does not count the dot added
 * for transparency.
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
	int bol;		/* at the start of a line (nothing yet, or after CRLF) */
	int cr;			/* a CR read and held back */
	int bad;		/* a bare CR, bare LF or NUL was refused */
};

void dot_init(struct dotstuff *d);
/* Stuff in[0..n) into out (cap >= 2n): 0 and *outlen set, or -1 with
 * *outlen 0 (nothing to send) when in holds a NUL, an LF not after a CR,
 * or a CR not followed by LF (also across calls); after -1 every call
 * fails.  A CR at the end of in is held back for the next call. */
int dot_stuff(struct dotstuff *d, const unsigned char *in, size_t n, unsigned char *out,
              size_t cap, size_t *outlen);
/* The terminator to write after everything: ".\r\n" after a CRLF (or
 * nothing at all), else "\r\n.\r\n"; sets *n.  NULL after a refusal
 * or with a CR still held back (the message ended in a bare CR). */
const char *dot_end(const struct dotstuff *d, size_t *n);

#define BODY_BAD_LINE_ENDS 1

/* Size of the message file and whether header block or message hold a
 * byte >= 0x80 (then BODY=8BITMIME is needed); reads all of it.  0,
 * BODY_BAD_LINE_ENDS (a bare CR, a bare LF or a NUL in header block or
 * message: it must not be sent), or -1 (not a regular file, read error). */
int body_scan(int fd, const struct bytes *header, uint64_t *size, int *eightbit);

/* Send header block and message, stuffed and terminated; each write
 * of a block gets block_ms (RFC 5321 §4.5.3.2 "data block"). */
enum conn_status body_send(struct conn *c, int fd, const struct bytes *header,
                           uint64_t size, int64_t block_ms);

#endif
