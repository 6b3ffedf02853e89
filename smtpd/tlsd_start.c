/*
 * tlsd_start.c — the steps before a tlsd's session (see tlsd_start.h).
 * Runs in postern-tlsd, exec'd (before its sandbox) or forked from a
 * factory (descriptor work before the child's own filter, the rest
 * after).  Failure policy: every failure is fatal (log line, exit 111).
 */
#include "tlsd_start.h"

#include "bufio.h"
#include "chan.h"
#include "fds.h"
#include "log.h"
#include "tlsd_ctx.h"
#include "tlsd_sandbox_rules.h"

#include <fcntl.h>
#include <string.h>

/* How long the master's `keys` frame may take to be there. */
#define KEYS_TIMEOUT_MS 2000

/* Read the master's `keys` frame (see tlsd_start.h). */
void tlsd_read_keys(struct tls_ticket_keys *k)
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

/* One descriptor non-blocking. */
static void nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		log_fatal("cannot make descriptor %d non-blocking", fd);
}

/* The three stream descriptors (see tlsd_start.h). */
void tlsd_set_nonblocking(void)
{
	nonblocking(TLSD_FD_CLIENT);
	nonblocking(TLSD_FD_PRETLS);
	nonblocking(TLSD_FD_POSTTLS);
}

/* A session tlsd's sandbox (see tlsd_start.h). */
void tlsd_sandbox_spec(const struct tlsd_args *a, struct sandbox_spec *spec)
{
	memset(spec, 0, sizeof *spec);
	spec->role = "tlsd";
	spec->root = a->root;
	spec->uid = a->uid;
	spec->gid = a->gid;
	spec->rules = tlsd_sandbox_rules;
	spec->nrules = tlsd_sandbox_nrules;
}

/* The session's SSL object (see tlsd_start.h). */
SSL *tlsd_new_ssl(SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL || SSL_set_fd(ssl, TLSD_FD_CLIENT) != 1)
		log_fatal("SSL_new: %s", tlsd_ssl_error());
	return ssl;
}
