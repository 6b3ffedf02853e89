/*
 * control.h — postern-authd's reading of the master's control frames
 * (fd 3; grammar in master/daemon.h and notes/daemons.md):
 *
 *   `key` bytes(32)                      first frame, once
 *   `table` `users` + 1 fd               users.cdb, read-only
 *   `session` id ip port listener mode   + 1 fd: this session's channel
 *   `tls` id version cipher              TLS facts of a session
 *
 * The master is trusted, but a frame that does not match exactly (or
 * carries the wrong number of descriptors) means something is badly
 * wrong: the caller exits, and the master restarts authd.
 */
#ifndef POSTERN_AUTH_CONTROL_H
#define POSTERN_AUTH_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "randid.h"
#include "ticket.h"

enum ctl_verb { CTL_KEY, CTL_TABLE, CTL_SESSION, CTL_TLS };

struct ctl_msg {
	enum ctl_verb verb;
	unsigned char key[TICKET_KEY_LEN];
	char id[RANDID_LEN + 1];
	char ip[64];
	uint64_t port;
	char listener[96];
	int plain;			/* mode: 1 plain, 0 starttls/tls */
	char tls_version[32];
	char tls_cipher[128];
};

/* Parse payload p[0..n) that arrived with nfds descriptors.  0, or -1 if
 * malformed. */
int ctl_parse(const unsigned char *p, size_t n, size_t nfds, struct ctl_msg *m);

#endif
