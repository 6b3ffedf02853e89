/*
 * authd.c — postern-authd as a daemon role of the master (authd.h).
 *
 * postern-authd is exec'd as
 *   postern-authd -u UID -g GID -r EMPTY_DIR -w WORKERS -q QUEUE_MAX
 *                 -c CACHE_TTL_S -d IP_DELAY_AFTER -x IP_REFUSE_AFTER
 *                 -l LOGIN_DELAY_AFTER -m DELAY_MAX_S -W FAIL_WINDOW_S
 * with users.cdb at fd 4 (or /dev/null when DIR/users.cdb is absent: then
 * every AUTH is answered 454 until a users table arrives), and is sent
 * `key` first and `table users` whenever the master reopens users.cdb.
 * Every session gets a channel to it (`session` frame, daemon.c).
 *
 * Process: postern (master).
 */
#include <stdio.h>

#include "authd.h"
#include "daemon.h"
#include "tables.h"

/* authd's chroot: the empty directory (it never opens a file). */
static const char *authd_root(const struct master *m)
{
	return m->conf->empty_dir;
}

/* fd 4: users.cdb (the master keeps its own descriptor). */
static size_t authd_fds(struct master *m, int *fds, size_t cap)
{
	int fd = tables_fd(&m->tables, TABLE_USERS);

	if (cap < 1)
		return 0;
	fds[0] = fd >= 0 ? fd : m->devnull;
	return 1;
}

/* One numeric option. */
static void num_opt(struct daemon_args *a, const char *flag, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", v);
	daemon_arg(a, flag);
	daemon_arg(a, buf);
}

/* The auth_* keys of postern.conf as options. */
static void authd_args(const struct master *m, struct daemon_args *a)
{
	const struct auth_conf *c = &m->conf->auth;

	num_opt(a, "-w", c->workers);
	num_opt(a, "-q", c->queue_max);
	num_opt(a, "-c", c->cache_ttl);
	num_opt(a, "-d", c->ip_delay_after);
	num_opt(a, "-x", c->ip_refuse_after);
	num_opt(a, "-l", c->login_delay_after);
	num_opt(a, "-m", c->delay_max);
	num_opt(a, "-W", c->fail_window);
}

static const struct daemon_role authd_role = {
	.name = "authd",
	.program = "postern-authd",
	.user = ROLE_AUTH,
	.root = authd_root,
	.extra_fds = authd_fds,
	.args = authd_args,
	.tables = TABLE_BIT(TABLE_USERS),
	.tables_at_start = 0,		/* users.cdb is fd 4 */
	.session_channel = 1,
};

/* Register postern-authd in slot DAEMON_AUTHD. */
void authd_register(struct master *m)
{
	daemon_register(m, DAEMON_AUTHD, &authd_role);
}
