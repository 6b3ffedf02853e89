/*
 * factorychan.h — the channel between the master (master/tlsfactory.c)
 * and a tlsd factory (smtpd/tlsd_factory.c): its whole grammar, written
 * once and linked by both ends.  SOCK_SEQPACKET, one netstring frame per
 * packet (lib/netstring.h), every frame at most FACTORYCHAN_MAX bytes:
 *
 *   factory -> master
 *     `ready`            once, when the factory is in its sandbox
 *     `pid` N            the child runs; N its pid (1..2^31-1)
 *     `err` ERRNAME      no child: clone failed with errno ERRNAME
 *                        (printable ASCII, 1..FACTORYCHAN_ERR_MAX bytes)
 *   master -> factory
 *     `fork`             with exactly TLSD_FD_COUNT descriptors
 *                        (SCM_RIGHTS): the new tlsd's fds 0..5
 *
 * Failure policy: a packet that is not exactly one frame of this grammar
 * parses as -1; the factory then exits 111 (a broken master), the master
 * kills and replaces the factory.  Pure: no I/O (fuzz, unit tests).
 */
#ifndef POSTERN_FACTORYCHAN_H
#define POSTERN_FACTORYCHAN_H

#include <stddef.h>
#include <sys/types.h>

#define FACTORYCHAN_MAX 64
#define FACTORYCHAN_ERR_MAX 24

enum factorychan_verb { FC_READY, FC_PID, FC_ERR, FC_FORK };

struct factorychan_msg {
	enum factorychan_verb verb;
	pid_t pid;				/* FC_PID */
	char err[FACTORYCHAN_ERR_MAX + 1];	/* FC_ERR */
};

/* Write one frame into buf[cap]: the frame and its length in *n, or NULL
 * (does not fit; a bad pid or error name). */
const unsigned char *factorychan_write(unsigned char *buf, size_t cap, size_t *n,
                                       const struct factorychan_msg *m);

/* Parse one packet pkt[0..n) into *m.  0, or -1 outside the grammar. */
int factorychan_parse(const unsigned char *pkt, size_t n, struct factorychan_msg *m);

#endif
