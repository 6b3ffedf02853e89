/*
 * ctlchan.h — the control channel between the master and its long-running
 * daemons, postern-authd and postern-queued (each daemon's fd 3;
 * master/daemon.c, master/tlsd.c and master/workers.c write, auth/serve.c
 * and queue/server.c read; the daemons write `ready`, master/daemon.c
 * reads it): the whole grammar, written once and linked by all of them.
 * SOCK_SEQPACKET, one netstring frame per packet (lib/netstring.h),
 * descriptors by SCM_RIGHTS, at most CTLCHAN_FRAME_MAX bytes:
 *
 *   master -> daemon
 *     `key` bytes(32)                      the auth MAC key; no fd
 *     `table` name + 1 fd                  a table, read-only: name is
 *                                          `users` (authd) or `senders`,
 *                                          `quotas`, `routes` (queued)
 *     `session` id ip port listener mode   + 1 fd: a session's channel;
 *                                          id a session id (randid.h), ip
 *                                          1..63 bytes, port 0..65535,
 *                                          listener <= 95 bytes, mode
 *                                          `plain`|`starttls`|`tls`
 *     `tls` id version cipher              a session's TLS facts
 *                                          (lib/tlsfacts.h); no fd
 *     `worker` kind route + 1 fd           (queued only) a delivery
 *                                          worker's job channel; kind
 *                                          `smtp`|`maildir`, route <= 400
 *   daemon -> master
 *     `ready`                              once, after sandbox_enter
 *
 * Failure policy: a frame outside the grammar, or with the wrong number of
 * descriptors, parses as -1; a daemon then exits (the master restarts it),
 * the master kills a daemon that sends anything but one `ready`.  Which
 * verbs and table names a daemon takes is its own business on top of the
 * grammar.  Pure (fuzz, unit tests).
 */
#ifndef POSTERN_CTLCHAN_H
#define POSTERN_CTLCHAN_H

#include <stddef.h>
#include <stdint.h>

#include "randid.h"
#include "ticket.h"
#include "tlsfacts.h"

#define CTLCHAN_FRAME_MAX 1024
#define CTLCHAN_IP_MAX 63
#define CTLCHAN_LISTENER_MAX 95
#define CTLCHAN_TABLE_MAX 15
#define CTLCHAN_ROUTE_MAX 400

enum ctl_verb { CTL_KEY, CTL_TABLE, CTL_SESSION, CTL_TLS, CTL_WORKER, CTL_READY };

struct ctl_msg {
	enum ctl_verb verb;
	unsigned char key[TICKET_KEY_LEN];		/* key */
	char table[CTLCHAN_TABLE_MAX + 1];		/* table */
	char id[RANDID_LEN + 1];			/* session, tls */
	char ip[CTLCHAN_IP_MAX + 1];
	uint64_t port;
	char listener[CTLCHAN_LISTENER_MAX + 1];
	char mode[16];					/* "plain", "starttls", "tls" */
	int plain;					/* mode is "plain" */
	char tls_version[TLS_VERSION_MAX + 1];		/* tls */
	char tls_cipher[TLS_CIPHER_MAX + 1];
	char kind[8];					/* worker: "smtp", "maildir" */
	char route[CTLCHAN_ROUTE_MAX + 1];
};

/* Write m as one frame into buf[cap]: the frame and its length in *n, or
 * NULL if it does not fit or a field is outside the grammar. */
const unsigned char *ctlchan_write(unsigned char *buf, size_t cap, size_t *n,
                                   const struct ctl_msg *m);

/* Parse one packet pkt[0..n) that came with nfds descriptors.  0, or -1.
 * The key, if any, is in *m: the caller wipes it. */
int ctlchan_parse(const unsigned char *pkt, size_t n, size_t nfds, struct ctl_msg *m);

#endif
