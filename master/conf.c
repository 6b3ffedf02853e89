/*
 * conf.c — the schema of postern.conf: one table row per key with its
 * parser, defaults set before parsing, and the checks that need the whole
 * file (at least one listener).  Keys, defaults and reload rules are
 * documented in INSTALL.md and etc/postern.conf.example.
 *
 * Process: postern (master), at start and on SIGHUP; no sandbox yet.
 * Grammar: lib/config.h ("key = value" lines, '#' comments).
 * Failure policy: the first unknown key, bad value, duplicate or refused
 * listener stops parsing with "FILE:LINE: reason"; the caller keeps its old
 * configuration (SIGHUP) or exits 1 (start).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>

#include "config.h"
#include "conf.h"
#include "hostname.h"
#include "listenaddr.h"

/* Range of the size and duration keys. */
#define SIZE_MIN 1024u
#define SIZE_MAX_CONF (2048ull * 1024 * 1024 - 1)
#define DAY (24ull * 3600)

/* Parsing state: the configuration being filled and what was seen. */
struct conf_parse {
	struct master_conf *c;
	uint64_t seen;			/* bit per single-valued key (at most 64 keys) */
};

typedef int (*key_fn)(struct conf_parse *p, const char *value,
                      char *err, size_t errcap);

struct key_row {
	const char *name;
	key_fn parse;
	int repeatable;
};

/* Write a reason into err[errcap]. */
static void set_err(char *err, size_t errcap, const char *reason)
{
	if (errcap > 0)
		snprintf(err, errcap, "%s", reason);
}

/* Copy s into dst[cap]; -1 with a reason if it does not fit. */
static int copy_str(char *dst, size_t cap, const char *s, char *err, size_t errcap)
{
	size_t n = strlen(s);

	if (n >= cap) {
		set_err(err, errcap, "value too long");
		return -1;
	}
	memcpy(dst, s, n + 1);
	return 0;
}

/* Resolve a path value against DIR (absolute values are kept). */
static int set_path(char *dst, const char *dir, const char *value,
                    char *err, size_t errcap)
{
	int n;

	if (value[0] == '/')
		return copy_str(dst, CONF_PATH_MAX, value, err, errcap);
	n = snprintf(dst, CONF_PATH_MAX, "%s/%s", dir, value);
	if (n < 0 || (size_t)n >= CONF_PATH_MAX) {
		set_err(err, errcap, "path too long");
		return -1;
	}
	return 0;
}

/* 1 if s is a plausible system user name ([a-z_][a-z0-9_-]*). */
static int valid_user(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_USER_MAX || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return 1;
}

/* hostname = a DNS name (given to postern-smtpd for its greeting). */
static int k_hostname(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	if (!hostname_valid(v, strlen(v))) {
		set_err(err, errcap, "not a valid host name (letters, digits, '-', '.')");
		return -1;
	}
	return copy_str(p->c->hostname, sizeof(p->c->hostname), v, err, errcap);
}

/* listen = ADDR:PORT MODE (repeatable, no duplicates). */
static int k_listen(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	struct master_conf *c = p->c;
	struct listen_spec l;

	if (c->nlisten >= CONF_LISTEN_MAX) {
		snprintf(err, errcap, "too many listen lines (at most %d)", CONF_LISTEN_MAX);
		return -1;
	}
	if (listenaddr_parse(v, &l, err, errcap) != 0)
		return -1;
	for (unsigned i = 0; i < c->nlisten; i++) {
		if (listenaddr_same(&c->listen[i], &l)) {
			snprintf(err, errcap, "duplicate listener %s", l.text);
			return -1;
		}
	}
	c->listen[c->nlisten++] = l;
	return 0;
}

#define PATH_KEY(fn, field) \
static int fn(struct conf_parse *p, const char *v, char *err, size_t errcap) \
{ \
	return set_path(p->c->field, p->c->dir, v, err, errcap); \
}
PATH_KEY(k_tls_cert, tls_cert)
PATH_KEY(k_tls_key, tls_key)
PATH_KEY(k_tls_cert2, tls_cert2)
PATH_KEY(k_tls_key2, tls_key2)
PATH_KEY(k_queue_dir, queue_dir)
PATH_KEY(k_empty_dir, empty_dir)
PATH_KEY(k_libexec_dir, libexec_dir)

#define NUM_KEY(fn, field, conv, lo, hi) \
static int fn(struct conf_parse *p, const char *v, char *err, size_t errcap) \
{ \
	return conv(v, lo, hi, &p->c->field, err, errcap); \
}
NUM_KEY(k_message_size_max, message_size_max, conf_size, SIZE_MIN, SIZE_MAX_CONF)
NUM_KEY(k_recipients_max, recipients_max, conf_u64, 1, 100000)
NUM_KEY(k_connections_max, connections_max, conf_u64, 1, CONF_CONNECTIONS_HARD_MAX)
NUM_KEY(k_connections_per_ip_max, connections_per_ip_max, conf_u64, 1,
        CONF_CONNECTIONS_HARD_MAX)
NUM_KEY(k_idle_timeout, idle_timeout, conf_duration, 1, DAY)
NUM_KEY(k_session_timeout, session_timeout, conf_duration, 1, 7 * DAY)
NUM_KEY(k_smtpd_command_timeout, smtpd_command_timeout, conf_duration, 1, DAY)
NUM_KEY(k_smtpd_preauth_timeout, smtpd_preauth_timeout, conf_duration, 1, DAY)
NUM_KEY(k_shutdown_timeout, shutdown_timeout, conf_duration, 0, 3600)
NUM_KEY(k_log_lines_per_second, log_lines_per_second, conf_u64, 1, 1000000)
NUM_KEY(k_auth_workers, auth.workers, conf_u64, 0, 64)
NUM_KEY(k_auth_queue_max, auth.queue_max, conf_u64, 1, 10000)
NUM_KEY(k_auth_cache_ttl, auth.cache_ttl, conf_duration, 0, DAY)
NUM_KEY(k_auth_ip_delay_after, auth.ip_delay_after, conf_u64, 0, 1000000)
NUM_KEY(k_auth_ip_refuse_after, auth.ip_refuse_after, conf_u64, 1, 1000000)
NUM_KEY(k_auth_login_delay_after, auth.login_delay_after, conf_u64, 0, 1000000)
NUM_KEY(k_auth_delay_max, auth.delay_max, conf_duration, 0, 300)
NUM_KEY(k_auth_fail_window, auth.fail_window, conf_duration, 1, DAY)
NUM_KEY(k_queue_minfree, queue.minfree, conf_size, 0, 1ull << 50)
NUM_KEY(k_tls_handshake_timeout, tls_handshake_timeout, conf_duration, 1, 600)
NUM_KEY(k_tls_ticket_rotate, tls_ticket_rotate, conf_duration, 0, DAY)
NUM_KEY(k_tls_factory_sessions, tls_factory_sessions, conf_u64, 1, 1000000)
NUM_KEY(k_queue_retry_min, queue.retry_min, conf_duration, 1, 30 * DAY)
NUM_KEY(k_queue_retry_max, queue.retry_max, conf_duration, 1, 30 * DAY)
NUM_KEY(k_queue_lifetime, queue.lifetime, conf_duration, 1, 366 * DAY)
NUM_KEY(k_queue_delay_notice, queue.delay_notice, conf_duration, 0, 366 * DAY)
NUM_KEY(k_deliver_concurrency, queue.concurrency, conf_u64, 1, 10000)
NUM_KEY(k_deliver_destination_concurrency, queue.per_destination, conf_u64, 1, 10000)
NUM_KEY(k_deliver_workers, deliver.workers, conf_u64, 0, CONF_DELIVER_WORKERS_MAX)
NUM_KEY(k_deliver_batch, deliver.batch, conf_u64, 1, 100000)
NUM_KEY(k_deliver_mx_port, deliver.mx_port, conf_u64, 1, 65535)
NUM_KEY(k_maildir_uid_min, deliver.maildir_uid_min, conf_u64, 1, 0xfffffffeull)

/* helo_name = the EHLO name of outbound connections (a host name). */
static int k_helo_name(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	if (!hostname_valid(v, strlen(v))) {
		set_err(err, errcap, "not a valid host name (letters, digits, '-', '.')");
		return -1;
	}
	return copy_str(p->c->deliver.helo, sizeof(p->c->deliver.helo), v, err, errcap);
}

/* outbound_bind = an IPv4 or IPv6 address (no brackets, no port). */
static int k_outbound_bind(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1) {
		set_err(err, errcap, "outbound_bind must be an IPv4 or IPv6 address");
		return -1;
	}
	return copy_str(p->c->deliver.bind, sizeof(p->c->deliver.bind), v, err, errcap);
}

/* dns_resolver = IPv4:PORT (postern-deliver asks only that server). */
static int k_dns_resolver(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	const char *colon = strrchr(v, ':');
	char ip[INET_ADDRSTRLEN];
	unsigned char a[4];
	uint64_t port;

	if (colon == NULL || (size_t)(colon - v) >= sizeof(ip)) {
		set_err(err, errcap, "dns_resolver must be IPv4:PORT (e.g. 127.0.0.1:53)");
		return -1;
	}
	memcpy(ip, v, (size_t)(colon - v));
	ip[colon - v] = '\0';
	if (inet_pton(AF_INET, ip, a) != 1 ||
	    conf_u64(colon + 1, 1, 65535, &port, err, errcap) != 0) {
		set_err(err, errcap, "dns_resolver must be IPv4:PORT (e.g. 127.0.0.1:53)");
		return -1;
	}
	return copy_str(p->c->deliver.resolver, sizeof(p->c->deliver.resolver), v, err, errcap);
}

/* tls_ca_file = PATH | none (the CA bundle for tls=verify routes). */
static int k_tls_ca_file(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	if (strcmp(v, "none") == 0) {
		p->c->deliver.ca_file[0] = '\0';
		return 0;
	}
	return set_path(p->c->deliver.ca_file, p->c->dir, v, err, errcap);
}

/* tls_min_version = 1.2 | 1.3 (TLS 1.0 and 1.1 are never offered). */
static int k_tls_min_version(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	if (strcmp(v, "1.2") == 0)
		p->c->tls_min_version = 12;
	else if (strcmp(v, "1.3") == 0)
		p->c->tls_min_version = 13;
	else {
		set_err(err, errcap, "tls_min_version must be 1.2 or 1.3");
		return -1;
	}
	return 0;
}

#define BOOL_KEY(fn, field) \
static int fn(struct conf_parse *p, const char *v, char *err, size_t errcap) \
{ \
	return conf_bool(v, &p->c->field, err, errcap); \
}
BOOL_KEY(k_queue_header_check, queue.header_check)
BOOL_KEY(k_queue_received_ip, queue.received_ip)
BOOL_KEY(k_tls_factory, tls_factory)

/* queue_sync = fsync | syncfs (queue/commit.c). */
static int k_queue_sync(struct conf_parse *p, const char *v, char *err, size_t errcap)
{
	if (strcmp(v, "fsync") == 0 || strcmp(v, "syncfs") == 0) {
		p->c->queue.syncfs = v[0] == 's';
		return 0;
	}
	set_err(err, errcap, "expected fsync or syncfs");
	return -1;
}

#define USER_KEY(fn, role) \
static int fn(struct conf_parse *p, const char *v, char *err, size_t errcap) \
{ \
	if (!valid_user(v)) { \
		set_err(err, errcap, "not a valid user name"); \
		return -1; \
	} \
	return copy_str(p->c->user[role], CONF_USER_MAX + 1, v, err, errcap); \
}
USER_KEY(k_user_smtpd, ROLE_SMTPD)
USER_KEY(k_user_tls, ROLE_TLS)
USER_KEY(k_user_auth, ROLE_AUTH)
USER_KEY(k_user_queue, ROLE_QUEUE)
USER_KEY(k_user_deliver, ROLE_DELIVER)

static const struct key_row keys[] = {
	{ "hostname", k_hostname, 0 },
	{ "listen", k_listen, 1 },
	{ "tls_cert", k_tls_cert, 0 },
	{ "tls_key", k_tls_key, 0 },
	{ "tls_cert2", k_tls_cert2, 0 },
	{ "tls_key2", k_tls_key2, 0 },
	{ "tls_min_version", k_tls_min_version, 0 },
	{ "tls_handshake_timeout", k_tls_handshake_timeout, 0 },
	{ "tls_ticket_rotate", k_tls_ticket_rotate, 0 },
	{ "tls_factory", k_tls_factory, 0 },
	{ "tls_factory_sessions", k_tls_factory_sessions, 0 },
	{ "queue_dir", k_queue_dir, 0 },
	{ "empty_dir", k_empty_dir, 0 },
	{ "libexec_dir", k_libexec_dir, 0 },
	{ "message_size_max", k_message_size_max, 0 },
	{ "recipients_max", k_recipients_max, 0 },
	{ "connections_max", k_connections_max, 0 },
	{ "connections_per_ip_max", k_connections_per_ip_max, 0 },
	{ "idle_timeout", k_idle_timeout, 0 },
	{ "session_timeout", k_session_timeout, 0 },
	{ "smtpd_command_timeout", k_smtpd_command_timeout, 0 },
	{ "smtpd_preauth_timeout", k_smtpd_preauth_timeout, 0 },
	{ "shutdown_timeout", k_shutdown_timeout, 0 },
	{ "log_lines_per_second", k_log_lines_per_second, 0 },
	{ "user_smtpd", k_user_smtpd, 0 },
	{ "user_tls", k_user_tls, 0 },
	{ "user_auth", k_user_auth, 0 },
	{ "user_queue", k_user_queue, 0 },
	{ "user_deliver", k_user_deliver, 0 },
	{ "auth_workers", k_auth_workers, 0 },
	{ "auth_queue_max", k_auth_queue_max, 0 },
	{ "auth_cache_ttl", k_auth_cache_ttl, 0 },
	{ "auth_ip_delay_after", k_auth_ip_delay_after, 0 },
	{ "auth_ip_refuse_after", k_auth_ip_refuse_after, 0 },
	{ "auth_login_delay_after", k_auth_login_delay_after, 0 },
	{ "auth_delay_max", k_auth_delay_max, 0 },
	{ "auth_fail_window", k_auth_fail_window, 0 },
	{ "queue_minfree", k_queue_minfree, 0 },
	{ "queue_header_check", k_queue_header_check, 0 },
	{ "queue_received_ip", k_queue_received_ip, 0 },
	{ "queue_sync", k_queue_sync, 0 },
	{ "queue_retry_min", k_queue_retry_min, 0 },
	{ "queue_retry_max", k_queue_retry_max, 0 },
	{ "queue_lifetime", k_queue_lifetime, 0 },
	{ "queue_delay_notice", k_queue_delay_notice, 0 },
	{ "deliver_concurrency", k_deliver_concurrency, 0 },
	{ "deliver_destination_concurrency", k_deliver_destination_concurrency, 0 },
	{ "deliver_workers", k_deliver_workers, 0 },
	{ "deliver_batch", k_deliver_batch, 0 },
	{ "deliver_mx_port", k_deliver_mx_port, 0 },
	{ "maildir_uid_min", k_maildir_uid_min, 0 },
	{ "helo_name", k_helo_name, 0 },
	{ "outbound_bind", k_outbound_bind, 0 },
	{ "dns_resolver", k_dns_resolver, 0 },
	{ "tls_ca_file", k_tls_ca_file, 0 },
};
_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 64, "conf_parse.seen has 64 bits");

static const char *const role_keys[ROLE_COUNT] = {
	"user_smtpd", "user_tls", "user_auth", "user_queue", "user_deliver",
};
static const char *const role_defaults[ROLE_COUNT] = {
	"postern-smtpd", "postern-tls", "postern-auth", "postern-queue", "postern-deliver",
};

/* Name of the config key of role r. */
const char *role_key(enum role r)
{
	return role_keys[r];
}

/* Name of a listener mode. */
const char *listen_mode_name(enum listen_mode m)
{
	switch (m) {
	case LISTEN_PLAIN: return "plain";
	case LISTEN_STARTTLS: return "starttls";
	case LISTEN_TLS: return "tls";
	}
	return "?";
}

/* conf_cb: dispatch one key to its row; unknown and repeated keys fail. */
static int on_key(void *ctx, const char *key, const char *value,
                  char *err, size_t errcap)
{
	struct conf_parse *p = ctx;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (!keys[i].repeatable) {
			if (p->seen & (1ull << i)) {
				snprintf(err, errcap, "duplicate key %s", key);
				return -1;
			}
			p->seen |= 1ull << i;
		}
		return keys[i].parse(p, value, err, errcap);
	}
	snprintf(err, errcap, "unknown key \"%.64s\"", key);
	return -1;
}

/* Defaults that depend on DIR and on the machine. */
static int set_defaults(struct master_conf *c, const char *dir, char *err, size_t errcap)
{
	memset(c, 0, sizeof(*c));
	if (copy_str(c->dir, sizeof(c->dir), dir, err, errcap) != 0 ||
	    set_path(c->file, dir, "postern.conf", err, errcap) != 0 ||
	    set_path(c->tls_cert, dir, "tls/cert.pem", err, errcap) != 0 ||
	    set_path(c->tls_key, dir, "tls/key.pem", err, errcap) != 0 ||
	    set_path(c->queue_dir, dir, "queue", err, errcap) != 0 ||
	    set_path(c->empty_dir, dir, "empty", err, errcap) != 0 ||
	    copy_str(c->libexec_dir, sizeof(c->libexec_dir), LIBEXECDIR, err, errcap) != 0)
		return -1;
	c->message_size_max = 25ull * 1024 * 1024;
	c->recipients_max = 100;
	c->connections_max = 200;
	c->connections_per_ip_max = 20;
	c->idle_timeout = 300;
	c->session_timeout = 3600;
	c->smtpd_command_timeout = 300;	/* RFC 5321 §4.5.3.2 */
	c->smtpd_preauth_timeout = 60;
	c->shutdown_timeout = 30;
	c->log_lines_per_second = 50;
	c->auth.workers = 0;
	c->auth.queue_max = 64;
	c->auth.cache_ttl = 300;
	c->auth.ip_delay_after = 5;
	c->auth.ip_refuse_after = 30;
	c->auth.login_delay_after = 3;
	c->auth.delay_max = 8;
	c->auth.fail_window = 900;
	c->queue.minfree = 64ull * 1024 * 1024;
	c->queue.header_check = 1;
	c->queue.received_ip = 0;
	c->queue.retry_min = 300;
	c->queue.retry_max = 3600;
	c->queue.lifetime = 5 * DAY;
	c->queue.delay_notice = 4 * 3600;
	c->queue.concurrency = 20;
	/* Measured (bench/README.md "Scenario D"): with 2 workers delivery
	 * is a latency chain at a quarter of Postfix's rate; 8 workers and 8
	 * connections per destination deliver about twice its rate, still
	 * fewer connections than its 20 per destination. */
	c->queue.per_destination = 8;
	c->deliver.workers = 8;
	c->deliver.batch = 100;
	c->deliver.mx_port = 25;
	c->deliver.maildir_uid_min = 1000;
	if (copy_str(c->deliver.ca_file, sizeof(c->deliver.ca_file),
	             "/etc/ssl/certs/ca-certificates.crt", err, errcap) != 0)
		return -1;
	c->tls_min_version = 12;
	c->tls_handshake_timeout = 30;
	c->tls_ticket_rotate = 3600;
	c->tls_factory = 1;
	c->tls_factory_sessions = 1000;
	for (int r = 0; r < ROLE_COUNT; r++)
		snprintf(c->user[r], sizeof(c->user[r]), "%s", role_defaults[r]);
	return 0;
}

/* Number of lines in path (for errors about the whole file). */
static unsigned long count_lines(const char *path)
{
	char buf[4096];
	unsigned long lines = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), last = '\n';
	ssize_t r;

	if (fd < 0)
		return 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			lines += buf[i] == '\n';
		last = buf[r - 1];
	}
	close(fd);
	return lines + (last != '\n');
}

/* The hostname default: this machine's name, if it is a valid one. */
static int default_hostname(struct master_conf *c, char *err, size_t errcap)
{
	char name[CONF_HOSTNAME_MAX + 2];

	if (gethostname(name, sizeof(name)) != 0 ||
	    strnlen(name, sizeof(name)) >= sizeof(name) - 1 || !hostname_valid(name, strlen(name))) {
		snprintf(err, errcap, "%s: the machine's host name is not a valid "
		         "domain name; set hostname =", c->file);
		return -1;
	}
	memcpy(c->hostname, name, strlen(name) + 1);
	return 0;
}

/* Read DIR/postern.conf (see conf.h). */
int conf_load(const char *dir, struct master_conf *c, char *err, size_t errcap)
{
	struct conf_parse p = { c, 0 };

	if (set_defaults(c, dir, err, errcap) != 0)
		return -1;
	if (conf_parse_file(c->file, on_key, &p, err, errcap) != 0)
		return -1;
	if (c->nlisten == 0) {
		snprintf(err, errcap, "%s:%lu: no listen line: at least one "
		         "\"listen = ADDR:PORT MODE\" is required", c->file,
		         count_lines(c->file));
		return -1;
	}
	if ((c->tls_cert2[0] == '\0') != (c->tls_key2[0] == '\0')) {
		snprintf(err, errcap, "%s: tls_cert2 and tls_key2 go together "
		         "(a second certificate needs its key)", c->file);
		return -1;
	}
	if (c->tls_ticket_rotate != 0 && c->tls_ticket_rotate < 60) {
		snprintf(err, errcap, "%s: tls_ticket_rotate must be 0 (no resumption) "
		         "or at least 60 seconds", c->file);
		return -1;
	}
	if (c->queue.retry_min > c->queue.retry_max) {
		snprintf(err, errcap, "%s: queue_retry_min (%llus) must not exceed "
		         "queue_retry_max (%llus)", c->file,
		         (unsigned long long)c->queue.retry_min,
		         (unsigned long long)c->queue.retry_max);
		return -1;
	}
	if (c->hostname[0] == '\0')
		return default_hostname(c, err, errcap);
	return 0;
}
