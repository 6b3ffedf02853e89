/*
 * queued.c — postern-queued as a daemon role of the master (queued.h).
 *
 * postern-queued is exec'd as
 *   postern-queued -u UID -g GID -r QUEUE_DIR -h HOSTNAME -z MESSAGE_SIZE_MAX
 *                  -n RECIPIENTS_MAX -f QUEUE_MINFREE -t IDLE_S
 *                  -c CONNECTIONS_MAX -H 0|1 -I 0|1 -S 0|1
 *                  -O HELO -R RETRY_MIN_S -X RETRY_MAX_S -L LIFETIME_S
 *                  -D DELAY_NOTICE_S -W CONCURRENCY -P PER_DESTINATION
 * (queue/args.h; the last line is the scheduler's, INSTALL.md "Delivery"
 * configuration keys) with no descriptor beyond 0..3: it is sent `key` first,
 * then `table senders|routes|quotas` for each table present, again
 * whenever the master reopens one, and a `session` frame with the
 * session's channel for every connection (daemon.c).  IDLE_S is the
 * session deadline plus a minute: postern-smtpd never outlives it, so a
 * channel silent that long is a stuck peer.
 *
 * Process: postern (master).
 */
#include <stdio.h>

#include "daemon.h"
#include "queued.h"
#include "tables.h"

/* queued's chroot: the queue directory it owns. */
static const char *queued_root(const struct master *m)
{
	return m->conf->queue_dir;
}

/* One numeric option. */
static void num_opt(struct daemon_args *a, const char *flag, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", v);
	daemon_arg(a, flag);
	daemon_arg(a, buf);
}

/* The queue_* keys and the limits queued enforces too. */
static void queued_args(const struct master *m, struct daemon_args *a)
{
	const struct master_conf *c = m->conf;

	daemon_arg(a, "-h");
	daemon_arg(a, c->hostname);
	num_opt(a, "-z", c->message_size_max);
	num_opt(a, "-n", c->recipients_max);
	num_opt(a, "-f", c->queue.minfree);
	num_opt(a, "-t", c->session_timeout + 60);
	num_opt(a, "-c", c->connections_max);
	num_opt(a, "-H", (unsigned long long)c->queue.header_check);
	num_opt(a, "-I", (unsigned long long)c->queue.received_ip);
	num_opt(a, "-S", (unsigned long long)c->queue.syncfs);
	daemon_arg(a, "-O");
	daemon_arg(a, c->deliver.helo[0] != '\0' ? c->deliver.helo : c->hostname);
	num_opt(a, "-R", c->queue.retry_min);
	num_opt(a, "-X", c->queue.retry_max);
	num_opt(a, "-L", c->queue.lifetime);
	num_opt(a, "-D", c->queue.delay_notice);
	num_opt(a, "-W", c->queue.concurrency);
	num_opt(a, "-P", c->queue.per_destination);
}

static const struct daemon_role queued_role = {
	.name = "queued",
	.program = "postern-queued",
	.user = ROLE_QUEUE,
	.root = queued_root,
	.extra_fds = NULL,
	.args = queued_args,
	.tables = TABLE_BIT(TABLE_SENDERS) | TABLE_BIT(TABLE_ROUTES) | TABLE_BIT(TABLE_QUOTAS),
	.tables_at_start = TABLE_BIT(TABLE_SENDERS) | TABLE_BIT(TABLE_ROUTES) |
	                   TABLE_BIT(TABLE_QUOTAS),
	.session_channel = 1,
};

/* Register postern-queued in slot DAEMON_QUEUED. */
void queued_register(struct master *m)
{
	daemon_register(m, DAEMON_QUEUED, &queued_role);
}
