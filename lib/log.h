/*
 * log.h — one line per event, key=value pairs, one write(2) of at most
 * LOG_LINE_MAX bytes to fd 2 (stderr, or the log pipe to the master for
 * per-connection processes).  Values from the network or from a less
 * trusted process go through ll_str/ll_bytes, which escape every byte that
 * is not printable ASCII (and space, '"', '\\', '=') as \xNN, so a line can
 * never be split or forged.  A line that would be longer is cut and ends
 * with "truncated=1".  Never log a password, ticket or key.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 4096

/* Program name put at the start of each line ("postern-smtpd:"). */
void log_init(const char *progname);

struct logline {
	char buf[LOG_LINE_MAX];
	size_t len;
	int truncated;
};

/* Begin a line "prog: event=EVENT". */
void ll_begin(struct logline *l, const char *event);
/* Append " key=value" with value escaped. */
void ll_str(struct logline *l, const char *key, const char *value);
void ll_bytes(struct logline *l, const char *key, const void *p, size_t n);
void ll_u64(struct logline *l, const char *key, uint64_t v);
void ll_i64(struct logline *l, const char *key, int64_t v);
/* Write the line with one write(2) (retrying on EINTR). */
void ll_emit(struct logline *l);

/* Shorthand for lines whose values are trusted constants:
 * log_event("start", "listeners=%d", n) -> "prog: event=start listeners=2".
 * The formatted text is not escaped: never pass untrusted bytes here. */
void log_event(const char *event, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Log "event=fatal reason=..." and _exit(111). */
void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Escape src[0..n) into dst[cap] as ll_str does; returns the length
 * written (always NUL-terminated, cut at cap-1). */
size_t log_escape(char *dst, size_t cap, const void *src, size_t n);

#endif
