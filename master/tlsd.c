/*
 * tlsd.c — the master's side of postern-tlsd (see tlsd.h).
 *
 * Process: postern (master, root).  For one session it creates:
 *   pre-TLS pair   stream socketpair: smtpd fd 0 <-> tlsd fd 1 (starttls
 *                  listeners; on tls listeners both get /dev/null)
 *   post-TLS pair  stream socketpair: smtpd fd 1 <-> tlsd fd 3
 *   control pair   SOCK_SEQPACKET: smtpd fd 3 <-> tlsd fd 4 (tlsctl.h)
 *   facts pair     SOCK_SEQPACKET: master <-> tlsd fd 5 (tlsfacts.h); the
 *                  `keys` frame is written into it before fork, so the
 *                  TLS 1.3 ticket keys never pass through argv
 *   log pipe       tlsd fd 2 -> master, relayed as "session=ID role=tlsd"
 * and the command line (smtpd/tlsd_args.h)
 *   postern-tlsd -m starttls|tls -c CERT -k KEY [-c CERT2 -k KEY2]
 *                -V 1.2|1.3 -H HANDSHAKE_S -T SESSION_S -u UID -g GID
 *                -r EMPTY_DIR
 * tlsd runs as user_tls in empty_dir; it reads its certificates and keys
 * as root before its sandbox, so the key file may stay root:postern-tls
 * 0640 (postern-setup) or root 0600.
 *
 * The facts channel is the only thing the master reads from tlsd: one
 * packet of at most TLSFACTS_FRAME_MAX bytes, the `tls` frame, once.  A
 * second packet, an over-long or malformed one, or an invalid version or
 * cipher token kills tlsd and smtpd (event=tls-facts-refused): a tlsd that
 * lies about TLS is treated as compromised.  Only facts that came this way
 * reach authd (AUTH on starttls/tls listeners needs them) and queued (the
 * Received: line records them).
 *
 * Ordering (lib/tlsfacts.h): the master answers `ack` on the facts socket
 * only once its `tls` id version cipher frame has been written into the
 * control socket of every daemon the session is bound to (daemon.c keeps
 * frame numbers; a frame still queued because that socket was full defers
 * the ack to tlsd_acks_flush, called every loop round).  tlsd tells smtpd
 * `ok` only after the ack, so whatever smtpd sends authd or queued after
 * TLS is behind the facts; those daemons drain their control socket
 * before they refuse for missing facts.  An ack that cannot be sent ends
 * the session (tlsd would time out anyway).
 *
 * Failure policy: a failure before fork refuses the connection (the caller
 * logs it); nothing half-made stays open.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "ctlchan.h"
#include "log.h"
#include "netstring.h"
#include "tlsd.h"
#include "tlsfacts.h"

/* Close every descriptor in fds[0..n) that is open (>= 0). */
static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* Write the `keys` frame (current and previous ticket keys) into fd. */
static int send_keys(struct master *m, int fd)
{
	unsigned char buf[TLSFACTS_FRAME_MAX];
	struct tls_ticket_keys k;
	const unsigned char *f;
	size_t n;
	ssize_t w = -1;

	ticketkeys_get(&m->tickets, now_ms(), m->conf->tls_ticket_rotate, &k);
	f = tlskeys_build(buf, sizeof(buf), &k, &n);
	if (f != NULL)
		w = send(fd, f, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(buf, sizeof(buf));
	if (f == NULL || w != (ssize_t)n) {
		errno = f == NULL ? EOVERFLOW : (w < 0 ? errno : EMSGSIZE);
		return -1;
	}
	return 0;
}

/* Copy a path into dst[CONF_PATH_MAX] (it always fits: same size). */
static void copy_path(char *dst, const char *src)
{
	snprintf(dst, CONF_PATH_MAX, "%s", src);
}

/* tlsd's argv (see the header comment and tlsd.h). */
void tlsd_build_argv(struct tlsd_argv *t, const struct master *m, int mode, int factory)
{
	const struct master_conf *c = m->conf;
	size_t i = 0, ncert = c->tls_cert2[0] != '\0' ? 2 : 1;

	copy_path(t->cert[0], c->tls_cert);
	copy_path(t->key[0], c->tls_key);
	copy_path(t->cert[1], c->tls_cert2);
	copy_path(t->key[1], c->tls_key2);
	snprintf(t->hs, sizeof(t->hs), "%llu", (unsigned long long)c->tls_handshake_timeout);
	snprintf(t->total, sizeof(t->total), "%llu", (unsigned long long)c->session_timeout);
	snprintf(t->uid, sizeof(t->uid), "%u", (unsigned)m->ids.uid[ROLE_TLS]);
	snprintf(t->gid, sizeof(t->gid), "%u", (unsigned)m->ids.gid[ROLE_TLS]);
#define ARG(x) (t->argv[i++] = (char *)(x))
	ARG("postern-tlsd");
	if (factory)
		ARG("-F");
	ARG("-m"); ARG(listen_mode_name((enum listen_mode)mode));
	for (size_t k = 0; k < ncert; k++) {
		ARG("-c"); ARG(t->cert[k]);
		ARG("-k"); ARG(t->key[k]);
	}
	ARG("-V"); ARG(c->tls_min_version == 13 ? "1.3" : "1.2");
	ARG("-H"); ARG(t->hs);
	ARG("-T"); ARG(t->total);
	ARG("-u"); ARG(t->uid);
	ARG("-g"); ARG(t->gid);
	ARG("-r"); ARG(c->empty_dir);
	ARG(NULL);
#undef ARG
}

/* Prepare one tlsd (see tlsd.h). */
int tlsd_prepare(struct master *m, const struct session *s, const struct listen_spec *l,
                 int client, int smtpd_src[SMTPD_FD_COUNT], struct tlsd_spawn *t)
{
	int pre[2] = { -1, -1 }, post[2] = { -1, -1 }, ctl[2] = { -1, -1 };
	int facts[2] = { -1, -1 }, logp[2] = { -1, -1 };
	int implicit = l->mode == LISTEN_TLS, err;

	(void)s;
	if ((!implicit && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pre) != 0) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, post) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, facts) != 0 ||
	    pipe2(logp, O_CLOEXEC) != 0 ||
	    fcntl(logp[0], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(facts[0], F_SETFL, O_NONBLOCK) != 0 ||
	    send_keys(m, facts[0]) != 0)
		goto fail;
	t->src[TLSD_FD_CLIENT] = client;
	t->src[TLSD_FD_PRETLS] = implicit ? m->devnull : pre[1];
	t->src[TLSD_FD_LOG] = logp[1];
	t->src[TLSD_FD_POSTTLS] = post[1];
	t->src[TLSD_FD_CONTROL] = ctl[1];
	t->src[TLSD_FD_FACTS] = facts[1];
	smtpd_src[SMTPD_FD_CLIENT] = implicit ? m->devnull : pre[0];
	smtpd_src[SMTPD_FD_POSTTLS] = post[0];
	smtpd_src[SMTPD_FD_CONTROL] = ctl[0];
	t->logread = logp[0];
	t->facts = facts[0];
	t->nchild_ends = 0;
	{
		int ends[] = { pre[0], pre[1], post[0], post[1], ctl[0], ctl[1],
		               facts[1], logp[1] };

		for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
			if (ends[i] >= 0)
				t->child_ends[t->nchild_ends++] = ends[i];
		}
	}
	tlsd_build_argv(&t->args, m, l->mode, 0);
	return 0;
fail:
	err = errno;
	close_all(pre, 2);
	close_all(post, 2);
	close_all(ctl, 2);
	close_all(facts, 2);
	close_all(logp, 2);
	errno = err;
	return -1;
}

/* Close the children's ends (see tlsd.h). */
void tlsd_close_child_ends(struct tlsd_spawn *t)
{
	close_all(t->child_ends, t->nchild_ends);
	t->nchild_ends = 0;
}

/* Undo tlsd_prepare (see tlsd.h). */
void tlsd_abandon(struct tlsd_spawn *t)
{
	tlsd_close_child_ends(t);
	close(t->logread);
	close(t->facts);
	t->logread = t->facts = -1;
}

/* tlsd broke the facts grammar: end the session. */
static void refuse(struct session *s, const char *why)
{
	log_event("tls-facts-refused", "session=%s reason=%s pid=%ld", s->id, why,
	          (long)s->tls_pid);
	sessions_kill(s, SIGKILL);
	s->killed = 1;
	close(s->tls_factsfd);
	s->tls_factsfd = -1;
}

/* Forward `tls` id version cipher to each daemon s is bound to, noting
 * each frame's number for the ack. */
static void forward(struct master *m, struct session *s, const struct tls_facts *f)
{
	unsigned char buf[DAEMON_FRAME_MAX];
	struct ctl_msg msg = { .verb = CTL_TLS };
	const unsigned char *fr;
	size_t n;

	snprintf(msg.id, sizeof(msg.id), "%s", s->id);
	snprintf(msg.tls_version, sizeof(msg.tls_version), "%s", f->version);
	snprintf(msg.tls_cipher, sizeof(msg.tls_cipher), "%s", f->cipher);
	fr = ctlchan_write(buf, sizeof(buf), &n, &msg);
	if (fr == NULL)
		return;
	for (int i = 0; i < DAEMON_COUNT; i++) {
		s->tls_ack_frame[i] = 0;
		if (s->daemon_gen[i] != 0 && s->daemon_gen[i] == m->daemons[i].gen &&
		    daemon_up(m, (enum daemon_slot)i) &&
		    daemon_send(m, (enum daemon_slot)i, fr, n, -1) == 0)
			s->tls_ack_frame[i] = daemon_last_frame(m, (enum daemon_slot)i);
	}
}

/* 1 once every `tls` frame forwarded for s is out of the master's queues. */
static int forwarded(const struct master *m, const struct session *s)
{
	for (int i = 0; i < DAEMON_COUNT; i++) {
		if (s->tls_ack_frame[i] != 0 &&
		    !daemon_frame_out(m, (enum daemon_slot)i, s->tls_ack_frame[i]))
			return 0;
	}
	return 1;
}

/* Send `ack` to s's tlsd; a failure ends the session. */
static void send_ack(struct session *s)
{
	unsigned char buf[16];
	const unsigned char *fr;
	size_t n;

	s->tls_ack_pending = 0;
	fr = tlsack_build(buf, sizeof(buf), &n);
	errno = EIO;
	if (s->tls_factsfd < 0 || fr == NULL ||
	    send(s->tls_factsfd, fr, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n) {
		/* EPIPE: tlsd has already ended; children.c ends smtpd. */
		if (errno == EPIPE || errno == ECONNRESET)
			return;
		log_event("tls-ack-failed", "session=%s error=%s", s->id,
		          strerrorname_np(errno) ? strerrorname_np(errno) : "unknown");
		sessions_kill(s, SIGKILL);
		s->killed = 1;
	}
}

/* Acks deferred by a full daemon queue (see tlsd.h). */
void tlsd_acks_flush(struct master *m)
{
	size_t left = 0;

	if (m->tls_acks_pending == 0)
		return;
	for (size_t i = 0; i < m->sessions.n; i++) {
		struct session *s = m->sessions.v[i];

		if (!s->tls_ack_pending)
			continue;
		if (forwarded(m, s))
			send_ack(s);
		else
			left++;
	}
	m->tls_acks_pending = left;
}

/* Read the facts frame (see tlsd.h). */
void tlsd_read_facts(struct master *m, struct session *s)
{
	unsigned char buf[TLSFACTS_FRAME_MAX];
	const unsigned char *payload;
	size_t plen, used;
	struct tls_facts f;
	/* MSG_TRUNC: the real length of the packet, so an over-long one is
	 * seen as such instead of silently cut. */
	ssize_t n = recv(s->tls_factsfd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF (tlsd is ending) or an error: nothing more to read. */
		close(s->tls_factsfd);
		s->tls_factsfd = -1;
		return;
	}
	if (s->tls_facts)
		return refuse(s, "second-frame");
	if ((size_t)n > sizeof(buf))
		return refuse(s, "too-long");
	if (netstring_parse(buf, (size_t)n, sizeof(buf), &payload, &plen, &used) != NS_OK ||
	    used != (size_t)n || tlsfacts_parse(payload, plen, &f) != 0)
		return refuse(s, "malformed");
	s->tls_facts = 1;
	log_event("tls", "session=%s version=%s cipher=%s", s->id, f.version, f.cipher);
	forward(m, s, &f);
	if (forwarded(m, s)) {
		send_ack(s);
	} else {
		s->tls_ack_pending = 1;
		m->tls_acks_pending++;
	}
}
