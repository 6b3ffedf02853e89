/*
 * fds.h — the descriptor layout of each per-connection process.  The master
 * (master/session.c) builds it with dup2 and close_range before exec; the
 * program checks it before entering the sandbox.  Trusted facts travel in
 * arguments (see smtpd/main.c for postern-smtpd's argument list).
 *
 * postern-smtpd:
 *   0  pre-TLS pair: on a plain listener the client's TCP socket itself;
 *      on starttls listeners a stream socketpair to postern-tlsd; on tls
 *      listeners /dev/null (the session runs on fd 1 from the start).
 *   1  post-TLS pair (stream socketpair to postern-tlsd), or /dev/null on a
 *      plain listener.
 *   2  log pipe to the master: one line per write, at most 4 KiB.
 *   3  control fd to postern-tlsd (SOCK_SEQPACKET), or /dev/null.
 *   4  auth channel to postern-authd (SOCK_SEQPACKET); a peer that is gone
 *      (EOF, EPIPE) means "authentication unavailable": 454 4.7.0.
 *   5  queue channel to postern-queued (SOCK_SEQPACKET); a peer that is gone
 *      means "queue unavailable": 451 4.3.0 / 421 4.3.0.
 *
 * The long-running daemons (postern-authd, postern-queued), started and
 * supervised by master/daemon.c:
 *   0, 1  /dev/null
 *   2     log pipe to the master (relayed with the prefix role=NAME)
 *   3     control socket to the master (SOCK_SEQPACKET; frames in
 *         master/daemon.h: key, table, session, tls; ready back)
 *   4..   role specific: postern-authd has users.cdb (read-only) at 4;
 *         postern-queued has none at start.
 *
 * postern-deliver (SMTP delivery worker, deliver/main.c):
 *   0, 1  /dev/null
 *   2     log pipe to the master
 *   3     job channel to postern-queued (SOCK_SEQPACKET; grammar in
 *         lib/jobchan.h; the message arrives as an fd with each job)
 *   4     optional: relay-secrets.cdb, read-only
 *
 * postern-tlsd (starttls/tls listeners, in front of postern-smtpd;
 * smtpd/main_tlsd.c):
 *   0  the client's TCP socket.
 *   1  pre-TLS pair: the other end of smtpd's fd 0 (stream socketpair); on
 *      a tls listener /dev/null (smtpd then has /dev/null on its fd 0).
 *   2  log pipe to the master.
 *   3  post-TLS pair: the other end of smtpd's fd 1 (stream socketpair).
 *   4  control fd: the other end of smtpd's fd 3 (SOCK_SEQPACKET; grammar
 *      in smtpd/tlsctl.h).
 *   5  facts fd to the master (SOCK_SEQPACKET; grammar in lib/tlsfacts.h).
 *
 * postern-tlsd -F, the factory of one listener mode (smtpd/tlsd_factory.h;
 * its children get the per-connection layout above):
 *   0, 1  /dev/null
 *   2     log pipe to the master (relayed as role=tlsd-factory)
 *   3     request socket to the master (SOCK_SEQPACKET)
 *
 * postern-maildir (local delivery, one per maildir route; deliver/main_maildir.c):
 *   0, 1  /dev/null
 *   2     log pipe to the master.
 *   3     job channel to postern-queued (SOCK_SEQPACKET; grammar in
 *         lib/jobchan.h, route "maildir").
 *   4     the maildir root, opened by the master O_DIRECTORY|O_NOFOLLOW.
 *   5, 6  tmp/ and new/ of that root, opened by postern-maildir itself
 *         before its sandbox (O_DIRECTORY|O_NOFOLLOW); its seccomp filter
 *         names these numbers.
 *   7     the message of the current job (arrives with each `job` frame).
 */
#ifndef POSTERN_FDS_H
#define POSTERN_FDS_H

enum {
	SMTPD_FD_CLIENT = 0,
	SMTPD_FD_POSTTLS = 1,
	SMTPD_FD_LOG = 2,
	SMTPD_FD_CONTROL = 3,
	SMTPD_FD_AUTH = 4,
	SMTPD_FD_QUEUE = 5,
	SMTPD_FD_COUNT = 6,
};

enum {
	DAEMON_FD_NULL_IN = 0,
	DAEMON_FD_NULL_OUT = 1,
	DAEMON_FD_LOG = 2,
	DAEMON_FD_CONTROL = 3,
	DAEMON_FD_EXTRA = 4,	/* first role-specific descriptor */
	DAEMON_FD_EXTRA_MAX = 4,	/* at most this many: 4..7 */
	AUTHD_FD_USERS = 4,	/* postern-authd: users.cdb */
};

enum {
	MAILDIR_FD_NULL_IN = 0,
	MAILDIR_FD_NULL_OUT = 1,
	MAILDIR_FD_LOG = 2,
	MAILDIR_FD_JOBS = 3,
	MAILDIR_FD_ROOT = 4,
	MAILDIR_FD_TMP = 5,	/* opened by postern-maildir itself */
	MAILDIR_FD_NEW = 6,	/* opened by postern-maildir itself */
	MAILDIR_FD_MESSAGE = 7,	/* the current job's message */
	MAILDIR_FD_FILE = 8,	/* the file being written in tmp/ */
};

enum {
	TLSD_FD_CLIENT = 0,
	TLSD_FD_PRETLS = 1,
	TLSD_FD_LOG = 2,
	TLSD_FD_POSTTLS = 3,
	TLSD_FD_CONTROL = 4,
	TLSD_FD_FACTS = 5,
	TLSD_FD_COUNT = 6,
};
enum {
	TLSD_FACTORY_FD_LOG = 2,
	TLSD_FACTORY_FD_REQUESTS = 3,
	TLSD_FACTORY_FD_COUNT = 4,
};

enum {
	DELIVER_FD_LOG = 2,
	DELIVER_FD_JOBS = 3,
	DELIVER_FD_SECRETS = 4,	/* optional */
};

#endif
