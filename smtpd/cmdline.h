/*
 * cmdline.h — splitting buffered client input into SMTP command lines
 * (RFC 5321 §2.3.8, §4.5.3.1.4).  Pure functions over bytes: no I/O, so the
 * same code is unit-tested, fuzzed and run in postern-smtpd.
 *
 * A command line ends with CRLF.  A line longer than the limit is not
 * answered until its end has been read (so its tail can never be taken as
 * a new command); then it is reported once as CL_TOO_LONG.  A bare LF, a
 * bare CR or a NUL inside a line makes it CL_BAD.
 */
#ifndef POSTERN_SMTPD_CMDLINE_H
#define POSTERN_SMTPD_CMDLINE_H

#include <stddef.h>

enum cl_result {
	CL_MORE,	/* no complete line yet; *used bytes may be dropped */
	CL_LINE,	/* a good line: data[0..*linelen), *used includes CRLF */
	CL_TOO_LONG,	/* a line over the limit ended; *used consumes it all */
	CL_BAD,		/* a line with bare CR/LF or NUL ended; *used consumes it */
};

struct cmdline_reader {
	size_t max;	/* longest line accepted, CRLF included */
	int draining;	/* inside an over-long line, dropping bytes */
	int bad;	/* the line being drained also had bad bytes */
};

void cmdline_init(struct cmdline_reader *r, size_t max);
/* Look at data[0..len) (the unconsumed input); see enum cl_result. */
enum cl_result cmdline_next(struct cmdline_reader *r, const unsigned char *data,
                            size_t len, size_t *linelen, size_t *used);

#endif
