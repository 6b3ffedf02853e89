/*
 * tlsd.h — the master's side of postern-tlsd (DESIGN §2 steps 2-3): the
 * descriptors and command line of the tlsd in front of one session's
 * postern-smtpd on a starttls or tls listener, the ticket keys it is
 * handed, and the one `tls` facts frame it sends back, forwarded to
 * postern-authd and postern-queued.
 *
 * Process: postern (master).  Descriptor layout: lib/fds.h (TLSD_FD_*,
 * SMTPD_FD_*); grammars: lib/tlsfacts.h (facts), smtpd/tlsctl.h (the
 * control pair between tlsd and smtpd, which the master only creates).
 */
#ifndef POSTERN_MASTER_TLSD_H
#define POSTERN_MASTER_TLSD_H

#include "fds.h"
#include "master.h"

#define TLSD_ARGV_MAX 32

/* tlsd's command line and the strings it points into. */
struct tlsd_argv {
	char cert[2][CONF_PATH_MAX], key[2][CONF_PATH_MAX];
	char hs[24], total[24], uid[24], gid[24];
	char *argv[TLSD_ARGV_MAX];
};

/* What session.c needs to start one tlsd. */
struct tlsd_spawn {
	int src[TLSD_FD_COUNT];		/* tlsd's descriptors, placed on 0..5 */
	int logread;			/* master's end of tlsd's log pipe */
	int facts;			/* master's end of the facts socket */
	int child_ends[8];		/* closed by the master after both forks */
	size_t nchild_ends;
	struct tlsd_argv args;
};

/* tlsd's command line for a listener of mode (enum listen_mode) from
 * the configuration in force; factory: `postern-tlsd -F ...`
 * (smtpd/tlsd_factory.h). */
void tlsd_build_argv(struct tlsd_argv *t, const struct master *m, int mode, int factory);

/* Prepare t for session s on listener l (mode starttls or tls): the
 * pre-TLS and post-TLS stream pairs, the control SEQPACKET pair, the
 * facts SEQPACKET pair with the `keys` frame already written into it,
 * tlsd's log pipe, and argv.  smtpd_src (SMTPD_FD_*) gets smtpd's ends
 * (fd 0 /dev/null on a tls listener).  client becomes tlsd's fd 0.
 * 0, or -1 with errno and nothing left open. */
int tlsd_prepare(struct master *m, const struct session *s, const struct listen_spec *l,
                 int client, int smtpd_src[SMTPD_FD_COUNT], struct tlsd_spawn *t);

/* After the forks (or a failed one): close the children's ends. */
void tlsd_close_child_ends(struct tlsd_spawn *t);

/* Undo tlsd_prepare completely (nothing was started). */
void tlsd_abandon(struct tlsd_spawn *t);

/* s's facts socket is readable: take the one `tls` frame, check it
 * (tlsfacts_parse), log it, forward `tls` id version cipher to the
 * daemons s is bound to, and answer `ack` once those frames are written
 * (now, or later from tlsd_acks_flush).  Anything else, and the
 * session's processes are killed. */
void tlsd_read_facts(struct master *m, struct session *s);

/* Every loop round: send the acks whose `tls` frames have meanwhile left
 * the daemons' control queues. */
void tlsd_acks_flush(struct master *m);

#endif
