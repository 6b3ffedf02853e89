/*
 * control.h — the admin socket queue/control of postern-queued (DESIGN
 * §5), spoken by postern-queue (queue/main_queue.c).  SOCK_SEQPACKET, one
 * netstring frame per packet.  Only root and the queue user may talk
 * (SO_PEERCRED); anyone else is closed without an answer.
 *
 *   client -> queued (one request per connection):
 *     `list` | `stats` | `show` id | `delete` id | `hold` id | `release` id
 *     | `flush` [id]   make every waiting message (or id) due now
 *   queued -> client:
 *     `out` bytes     zero or more: text to print (list and stats lines
 *                     with the delivery state when state/<id> exists,
 *                     the envelope and header block of show, escaped;
 *                     the raw message bytes of show, which the tool escapes)
 *     `ok` | `err` text    last frame
 *
 * The admin peer is trusted (root or the queue user), but queued still
 * bounds the time it spends on one request (CONTROL_DEADLINE_MS) so a
 * stuck tool cannot stall the sessions for long.
 */
#ifndef POSTERN_QUEUE_CONTROL_H
#define POSTERN_QUEUE_CONTROL_H

#include "queued.h"

#define CONTROL_DEADLINE_MS 5000
#define CONTROL_SOCKET "control"

/* Create, bind and listen on DIR/control (before the sandbox; as root the
 * socket file is given to uid:gid, mode 0600).  The fd, or -1 with err. */
int control_listen(const char *queue_dir, int own, uid_t uid, gid_t gid,
                   char *err, size_t errcap);

/* Accept one admin connection and serve its request. */
void control_admin_accept(struct queued *d, int lfd);

#endif
