/*
 * reload.c — SIGHUP re-reads postern.conf (see reload.h).
 *
 * Reloadable (applied to sessions started after the reload): hostname,
 * message_size_max, recipients_max, connections_max,
 * connections_per_ip_max, idle_timeout, session_timeout,
 * smtpd_command_timeout, smtpd_preauth_timeout, shutdown_timeout,
 * log_lines_per_second, and the tls_* keys (tls_cert, tls_key, tls_cert2,
 * tls_key2, tls_min_version, tls_handshake_timeout, tls_ticket_rotate):
 * postern-tlsd is exec'd per connection and loads the certificates then,
 * so a renewed certificate takes effect without dropping any session.  Not reloadable — the listeners are bound, the
 * users resolved and the directories checked at start: listen, queue_dir,
 * empty_dir, libexec_dir, the user_* keys, the auth_* keys (postern-authd
 * gets them in its argv), the queue_* and deliver_* keys and their
 * friends (helo_name, outbound_bind, dns_resolver, tls_ca_file,
 * maildir_uid_min: argv of queued and of the delivery workers).  A change to one of those is
 * logged as restart-required=KEY and otherwise ignored.
 *
 * Process: postern (master).  Failure policy: a new file that does not
 * parse changes nothing; the error is logged with FILE:LINE.
 */
#include <string.h>

#include "config.h"
#include "log.h"
#include "reload.h"

#define LIST_MAX 512

/* Append name to the comma-separated list in buf[LIST_MAX]. */
static void list_add(char *buf, const char *name)
{
	size_t n = strlen(buf), k = strlen(name);

	if (n + k + 2 > LIST_MAX)
		return;
	if (n > 0)
		buf[n++] = ',';
	memcpy(buf + n, name, k + 1);
}

/* 1 if the listener lists differ in any address, port or mode. */
static int listen_differs(const struct master_conf *a, const struct master_conf *b)
{
	if (a->nlisten != b->nlisten)
		return 1;
	for (unsigned i = 0; i < a->nlisten; i++) {
		if (a->listen[i].addrlen != b->listen[i].addrlen ||
		    memcmp(&a->listen[i].addr, &b->listen[i].addr, a->listen[i].addrlen) != 0 ||
		    a->listen[i].mode != b->listen[i].mode)
			return 1;
	}
	return 0;
}

/* Collect the changed keys that need a restart. */
static void restart_keys(const struct master_conf *old, const struct master_conf *new,
                         char *list)
{
	if (listen_differs(old, new))
		list_add(list, "listen");
	if (strcmp(old->queue_dir, new->queue_dir) != 0)
		list_add(list, "queue_dir");
	if (strcmp(old->empty_dir, new->empty_dir) != 0)
		list_add(list, "empty_dir");
	if (strcmp(old->libexec_dir, new->libexec_dir) != 0)
		list_add(list, "libexec_dir");
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (strcmp(old->user[r], new->user[r]) != 0)
			list_add(list, role_key((enum role)r));
	}
	if (memcmp(&old->auth, &new->auth, sizeof(old->auth)) != 0)
		list_add(list, "auth_*");
	if (memcmp(&old->queue, &new->queue, sizeof(old->queue)) != 0)
		list_add(list, "queue_*");
	/* Both zeroed by set_defaults before parsing: a byte compare is a
	 * value compare. */
	if (memcmp(&old->deliver, &new->deliver, sizeof(old->deliver)) != 0)
		list_add(list, "deliver_*");
}

/* Copy one reloadable number, noting it in list if it changed. */
static void apply_u64(uint64_t *cur, uint64_t v, const char *name, char *list)
{
	if (*cur != v) {
		*cur = v;
		list_add(list, name);
	}
}

/* Copy one reloadable string (same size buffers), noting a change. */
static void apply_str(char *cur, const char *v, size_t cap, const char *name, char *list)
{
	if (strcmp(cur, v) != 0) {
		memcpy(cur, v, cap);
		list_add(list, name);
	}
}

/* Apply the reloadable keys of new to cur. */
static void apply(struct master_conf *cur, const struct master_conf *new, char *list)
{
	apply_str(cur->hostname, new->hostname, sizeof(cur->hostname), "hostname", list);
	apply_str(cur->tls_cert, new->tls_cert, sizeof(cur->tls_cert), "tls_cert", list);
	apply_str(cur->tls_key, new->tls_key, sizeof(cur->tls_key), "tls_key", list);
	apply_str(cur->tls_cert2, new->tls_cert2, sizeof(cur->tls_cert2), "tls_cert2", list);
	apply_str(cur->tls_key2, new->tls_key2, sizeof(cur->tls_key2), "tls_key2", list);
	if (cur->tls_min_version != new->tls_min_version) {
		cur->tls_min_version = new->tls_min_version;
		list_add(list, "tls_min_version");
	}
	apply_u64(&cur->tls_handshake_timeout, new->tls_handshake_timeout,
	          "tls_handshake_timeout", list);
	apply_u64(&cur->tls_ticket_rotate, new->tls_ticket_rotate, "tls_ticket_rotate", list);
	if (cur->tls_factory != new->tls_factory) {
		cur->tls_factory = new->tls_factory;
		list_add(list, "tls_factory");
	}
	apply_u64(&cur->tls_factory_sessions, new->tls_factory_sessions,
	          "tls_factory_sessions", list);
	apply_u64(&cur->message_size_max, new->message_size_max, "message_size_max", list);
	apply_u64(&cur->recipients_max, new->recipients_max, "recipients_max", list);
	apply_u64(&cur->connections_max, new->connections_max, "connections_max", list);
	apply_u64(&cur->connections_per_ip_max, new->connections_per_ip_max,
	          "connections_per_ip_max", list);
	apply_u64(&cur->idle_timeout, new->idle_timeout, "idle_timeout", list);
	apply_u64(&cur->session_timeout, new->session_timeout, "session_timeout", list);
	apply_u64(&cur->smtpd_command_timeout, new->smtpd_command_timeout,
	          "smtpd_command_timeout", list);
	apply_u64(&cur->smtpd_preauth_timeout, new->smtpd_preauth_timeout,
	          "smtpd_preauth_timeout", list);
	apply_u64(&cur->shutdown_timeout, new->shutdown_timeout, "shutdown_timeout", list);
	apply_u64(&cur->log_lines_per_second, new->log_lines_per_second,
	          "log_lines_per_second", list);
}

/* SIGHUP (see reload.h). */
void reload_config(struct master *m, struct master_conf *scratch)
{
	char err[CONF_ERR_MAX + CONF_PATH_MAX];
	char changed[LIST_MAX] = "", restart[LIST_MAX] = "";
	struct logline l;

	if (conf_load(m->conf->dir, scratch, err, sizeof(err)) != 0) {
		ll_begin(&l, "reload-failed");
		ll_str(&l, "error", err);
		ll_str(&l, "config", "kept");
		ll_emit(&l);
		return;
	}
	restart_keys(m->conf, scratch, restart);
	apply(m->conf, scratch, changed);
	ll_begin(&l, "reload");
	ll_str(&l, "file", m->conf->file);
	ll_str(&l, "changed", changed[0] ? changed : "none");
	ll_str(&l, "restart-required", restart[0] ? restart : "none");
	ll_emit(&l);
}
