/*
 * main_tlsd.c — postern-tlsd, one per connection on starttls/tls
 * listeners, between the client and postern-smtpd (DESIGN §1-§3): the
 * only process that holds the TLS key.  Exec'd by the master as root with
 * the trusted facts in argv (tlsd_args.h: postern-tlsd -m starttls|tls
 * -c CERT -k KEY [-c CERT2 -k KEY2] -V 1.2|1.3 -H HANDSHAKE_S -T SESSION_S
 * -u UID -g GID -r CHROOT) and descriptors 0..5 as in lib/fds.h
 * (TLSD_FD_*).  The master has already written the `keys` frame (TLS 1.3
 * ticket keys, lib/tlsfacts.h) into the facts socket.
 *
 * The checklist: parse the arguments, check the descriptors, ignore
 * SIGPIPE, read the ticket keys, do the whole OpenSSL set-up (tlsd_ctx.c:
 * nothing opens a file after it), make the sockets non-blocking, enter the
 * sandbox (user postern-tls, tlsd_sandbox_rules.c), serve the session
 * (tlsd_session.c).  Failure policy: any set-up failure logs one line and
 * exits 111.  Leaves through _exit(): exit() would run OpenSSL's cleanup.
 */
#include "chan.h"
#include "bufio.h"
#include "fdlayout.h"
#include "fds.h"
#include "log.h"
#include "sandbox.h"
#include "tlsd_args.h"
#include "tlsd_ctx.h"
#include "tlsd_sandbox_rules.h"
#include "tlsd_session.h"
#include "tlsfacts.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

/* How long the master's `keys` frame may take to be there (it is written
 * before exec, so only a broken master makes this wait). */
#define KEYS_TIMEOUT_MS 2000

/* Every wait is a poll with a deadline. */
static void set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		log_fatal("cannot make descriptor %d non-blocking", fd);
}

/* The master's `keys` frame, first on the facts socket. */
static void read_keys(struct tls_ticket_keys *k)
{
	unsigned char buf[TLSFACTS_FRAME_MAX];
	const unsigned char *payload;
	size_t plen;

	if (chan_recv(TLSD_FD_FACTS, buf, sizeof buf, &payload, &plen,
	              clock_ms() + KEYS_TIMEOUT_MS) <= 0 ||
	    tlskeys_parse(payload, plen, k) < 0)
		log_fatal("no valid keys frame on the facts descriptor");
	explicit_bzero(buf, sizeof buf);
}

int main(int argc, char *argv[])
{
	static struct tlsd_args args;
	static struct tls_ticket_keys keys;
	struct sandbox_spec spec;
	const char *why = "";
	SSL_CTX *ctx;
	SSL *ssl;

	log_init("postern-tlsd");
	if (tlsd_args_parse(argc, argv, &args, &why) < 0)
		log_fatal("bad arguments: %s", why);
	fds_expect(TLSD_FD_COUNT, TLSD_FD_COUNT);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("cannot ignore SIGPIPE");
	read_keys(&keys);
	ctx = tlsd_ctx_new(&args, &keys);
	explicit_bzero(&keys, sizeof keys);
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, TLSD_FD_CLIENT) != 1)
		log_fatal("SSL_new: %s", tlsd_ssl_error());
	set_nonblocking(TLSD_FD_CLIENT);
	set_nonblocking(TLSD_FD_PRETLS);
	set_nonblocking(TLSD_FD_POSTTLS);

	spec.role = "tlsd";
	spec.root = args.root;
	spec.uid = args.uid;
	spec.gid = args.gid;
	spec.rules = tlsd_sandbox_rules;
	spec.nrules = tlsd_sandbox_nrules;
	sandbox_enter(&spec);

	_exit(tlsd_session_run(&args, ssl));
}
