/*
 * netstring.h — the framing of every channel between postern processes.
 *
 * A frame is one netstring "<len>:<payload>," whose payload is a sequence
 * of fields, each itself a netstring; the first field is the verb.  Example:
 * the frame with verb "rcpt" and one field "a@b" is "13:4:rcpt,3:a@b,,".
 * On SOCK_SEQPACKET channels one packet carries exactly one frame; on
 * stream channels (log pipe, facts fd) frames follow one another.
 *
 * The receiver caps every length before reading (no leading zeros, at most
 * the digits the cap needs).  Fields are read by typed getters that fail
 * closed: a short frame, a bad digit, an over-long field or a leftover byte
 * makes the reader "failed" and every later getter fail too; callers check
 * fr_end() (or any getter's result) and close the channel on failure.
 */
#ifndef POSTERN_NETSTRING_H
#define POSTERN_NETSTRING_H

#include <stddef.h>
#include <stdint.h>

/* Largest frame any postern channel carries (a DATA chunk plus headroom). */
#define FRAME_MAX 65536

enum ns_result { NS_OK = 0, NS_MORE = 1, NS_BAD = -1 };

/* Parse one netstring at the start of buf[0..len).  On NS_OK sets *payload,
 * *plen and *used (bytes consumed including the trailing comma).  NS_MORE:
 * buf holds a valid prefix, read more.  NS_BAD: malformed or longer than
 * cap. */
enum ns_result netstring_parse(const unsigned char *buf, size_t len, size_t cap,
                               const unsigned char **payload, size_t *plen,
                               size_t *used);

/* Reading fields of one frame payload. */
struct frame_reader {
	const unsigned char *p;
	size_t len;
	size_t off;
	int failed;
};

void fr_init(struct frame_reader *r, const unsigned char *payload, size_t len);
/* Next field as bytes (no copy); fails if longer than max. */
int fr_bytes(struct frame_reader *r, const unsigned char **p, size_t *n, size_t max);
/* Next field copied into out[cap] NUL-terminated; fails on an embedded NUL
 * or if it does not fit. */
int fr_str(struct frame_reader *r, char *out, size_t cap);
/* Next field as a decimal number <= max (no sign, no leading zeros). */
int fr_u64(struct frame_reader *r, uint64_t *v, uint64_t max);
/* 1 if the next field equals the NUL-terminated word (consumed), 0 if not
 * (not consumed), -1 if the reader failed. */
int fr_is(struct frame_reader *r, const char *word);
/* A packet pkt[0..n) that must be exactly one frame of at most cap bytes
 * whose verb is one of verbs[0..nverbs): the verb's index, with *r set
 * to read the fields after it; -1 otherwise. */
int fr_packet(struct frame_reader *r, const unsigned char *pkt, size_t n, size_t cap,
              const char *const *verbs, int nverbs);
/* The next field as one of verbs[0..nverbs): its index (consumed), or -1. */
int fr_verb(struct frame_reader *r, const char *const *verbs, int nverbs);
/* 0 if every byte was consumed and nothing failed; -1 otherwise. */
int fr_end(struct frame_reader *r);

/* Building a frame in a caller's buffer. */
struct frame_writer {
	unsigned char *buf;
	size_t cap;
	size_t len;	/* bytes of payload so far, after the reserved header */
	int failed;	/* out of room */
};

void fw_init(struct frame_writer *w, unsigned char *buf, size_t cap);
void fw_bytes(struct frame_writer *w, const void *p, size_t n);
void fw_str(struct frame_writer *w, const char *s);
void fw_u64(struct frame_writer *w, uint64_t v);
/* Wrap the fields in the outer netstring; returns the frame's start and
 * sets *n, or NULL if the buffer was too small. */
const unsigned char *fw_finish(struct frame_writer *w, size_t *n);

#endif
