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
 * `postern-tlsd -F` followed by the same arguments is the factory of one
 * listener mode instead (tlsd_factory.h): the same set-up once, then one
 * forked tlsd per connection.
 *
 * The checklist: parse the arguments, check the descriptors, ignore
 * SIGPIPE, read the ticket keys, do the whole OpenSSL set-up (tlsd_ctx.c:
 * nothing opens a file after it), make the sockets non-blocking, enter the
 * sandbox (user postern-tls, tlsd_sandbox_rules.c), serve the session
 * (tlsd_session.c).  Failure policy: any set-up failure logs one line and
 * exits 111.  Leaves through _exit(): exit() would run OpenSSL's cleanup.
 */
#include "fdlayout.h"
#include "fds.h"
#include "log.h"
#include "sandbox.h"
#include "tlsd_args.h"
#include "tlsd_ctx.h"
#include "tlsd_factory.h"
#include "tlsd_session.h"
#include "tlsd_start.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* One exec'd tlsd for the session on descriptors 0..5. */
static void __attribute__((noreturn)) serve_one(const struct tlsd_args *args)
{
	static struct tls_ticket_keys keys;
	struct sandbox_spec spec;
	SSL_CTX *ctx;
	SSL *ssl;

	fds_expect(TLSD_FD_COUNT, TLSD_FD_COUNT);
	tlsd_read_keys(&keys);
	ctx = tlsd_ctx_new(args);
	tlsd_ctx_set_keys(ctx, &keys);
	explicit_bzero(&keys, sizeof keys);
	ssl = tlsd_new_ssl(ctx);
	tlsd_set_nonblocking();

	tlsd_sandbox_spec(args, &spec);
	sandbox_enter(&spec);

	_exit(tlsd_session_run(args, ssl));
}

int main(int argc, char *argv[])
{
	static struct tlsd_args args;
	const char *why = "";
	int factory = argc > 1 && strcmp(argv[1], "-F") == 0;

	log_init(factory ? "postern-tlsd-factory" : "postern-tlsd");
	/* -F shifts the pairs by one: argpairs reads argv[1..). */
	if (tlsd_args_parse(argc - factory, argv + factory, &args, &why) < 0)
		log_fatal("bad arguments: %s", why);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("cannot ignore SIGPIPE");
	if (!factory)
		serve_one(&args);
	fds_expect(TLSD_FACTORY_FD_COUNT, TLSD_FACTORY_FD_COUNT);
	tlsd_factory_run(&args, tlsd_ctx_new(&args));
}
