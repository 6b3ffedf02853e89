/*
 * conf.h — the master's view of DIR/postern.conf: every key, its default,
 * its range, and which ones a SIGHUP may change (see INSTALL.md).
 *
 * Process: postern (master), before and outside any sandbox.  The file is
 * the operator's (root-owned); still, every value is checked and any
 * problem is reported as "FILE:LINE: reason" and refuses the whole file.
 */
#ifndef POSTERN_MASTER_CONF_H
#define POSTERN_MASTER_CONF_H

#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONF_LISTEN_MAX 16
#define CONF_HOSTNAME_MAX 253
#define CONF_USER_MAX 32
#define CONF_PATH_MAX PATH_MAX
/* Hard caps on the connection limits; the session table is sized by them. */
#define CONF_CONNECTIONS_HARD_MAX 10000
/* Most postern-deliver workers (deliver_workers). */
#define CONF_DELIVER_WORKERS_MAX 64

enum listen_mode { LISTEN_PLAIN, LISTEN_STARTTLS, LISTEN_TLS };

struct listen_spec {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum listen_mode mode;
	char text[80];			/* "ADDR:PORT" as written, for logs */
};

/* The role users, in a fixed order. */
enum role { ROLE_SMTPD, ROLE_TLS, ROLE_AUTH, ROLE_QUEUE, ROLE_DELIVER, ROLE_COUNT };

/* postern-authd's knobs (auth_* keys; passed in its argv; INSTALL.md
 * "Authentication").  A change needs a restart of postern. */
struct auth_conf {
	uint64_t workers;		/* verification threads; 0 = one per core */
	uint64_t queue_max;		/* waiting verifications before 454 */
	uint64_t cache_ttl;		/* seconds a success stays cached; 0 = off */
	uint64_t ip_delay_after;	/* failures per client IP before delays */
	uint64_t ip_refuse_after;	/* failures per client IP before refusal */
	uint64_t login_delay_after;	/* failures per (login, IP) before delays */
	uint64_t delay_max;		/* cap of the growing delay, seconds */
	uint64_t fail_window;		/* seconds a failure is remembered */
};

/* postern-queued's knobs (queue_* keys; passed in its argv; INSTALL.md
 * "The queue").  A change needs a restart of postern. */
struct queue_conf {
	uint64_t minfree;		/* bytes that must stay free; 0 = no check */
	int header_check;		/* check header From:/Sender: too */
	int received_ip;		/* client IP in the Received: line */
	int syncfs;			/* queue_sync = syncfs (queue/commit.c) */
	/* The scheduler's knobs (queued's -R -X -L -D -W -P). */
	uint64_t retry_min;		/* seconds before the first retry */
	uint64_t retry_max;		/* cap of the doubling retry interval */
	uint64_t lifetime;		/* seconds before a message bounces */
	uint64_t delay_notice;		/* seconds before a delay DSN; 0 = none */
	uint64_t concurrency;		/* jobs in flight at once */
	uint64_t per_destination;	/* jobs in flight per destination */
};

#define CONF_ADDR_MAX 64		/* an IP literal, or IPv4:PORT */

/* The delivery workers' knobs (deliver_* keys and friends; INSTALL.md
 * "Delivery").  A change needs a restart of postern. */
struct deliver_conf {
	uint64_t workers;		/* postern-deliver processes; 0 = none */
	uint64_t batch;			/* jobs per worker before it is recycled */
	char helo[CONF_HOSTNAME_MAX + 1];	/* "" = hostname */
	char bind[CONF_ADDR_MAX];	/* outbound source address; "" = none */
	char resolver[CONF_ADDR_MAX];	/* "IPv4:PORT"; "" = resolv.conf */
	char ca_file[CONF_PATH_MAX];	/* "" = none (tls=verify fails) */
	uint64_t mx_port;		/* 25; other values for tests */
	uint64_t maildir_uid_min;	/* lowest uid a maildir may belong to */
};

struct master_conf {
	char dir[CONF_PATH_MAX];	/* DIR, absolute */
	char file[CONF_PATH_MAX];	/* DIR/postern.conf */
	char hostname[CONF_HOSTNAME_MAX + 1];
	struct listen_spec listen[CONF_LISTEN_MAX];
	unsigned nlisten;
	char tls_cert[CONF_PATH_MAX];
	char tls_key[CONF_PATH_MAX];
	/* A second certificate and key (e.g. ECDSA beside RSA); "" = none.
	 * tlsd serves both, OpenSSL picks by what the client supports. */
	char tls_cert2[CONF_PATH_MAX];
	char tls_key2[CONF_PATH_MAX];
	int tls_min_version;		/* 12 or 13 */
	uint64_t tls_handshake_timeout;	/* seconds, 1..600 */
	uint64_t tls_ticket_rotate;	/* seconds a ticket key is current; 0 = no resumption */
	int tls_factory;		/* fork tlsds from a factory (tlsfactory.h) */
	uint64_t tls_factory_sessions;	/* children per factory before it is replaced */
	char queue_dir[CONF_PATH_MAX];
	char empty_dir[CONF_PATH_MAX];
	char libexec_dir[CONF_PATH_MAX];
	uint64_t message_size_max;	/* bytes */
	uint64_t recipients_max;
	uint64_t connections_max;
	uint64_t connections_per_ip_max;
	uint64_t idle_timeout;		/* seconds */
	uint64_t session_timeout;	/* seconds */
	uint64_t smtpd_command_timeout;	/* seconds for one whole command line */
	uint64_t smtpd_preauth_timeout;	/* seconds from connect to a successful AUTH */
	uint64_t shutdown_timeout;	/* seconds */
	uint64_t log_lines_per_second;	/* per session */
	char user[ROLE_COUNT][CONF_USER_MAX + 1];
	struct auth_conf auth;
	struct queue_conf queue;
	struct deliver_conf deliver;
};

/* Read DIR/postern.conf into c (defaults first).  0, or -1 with
 * "FILE:LINE: reason" (or "FILE: reason") in err. */
int conf_load(const char *dir, struct master_conf *c, char *err, size_t errcap);

/* Name of a listener mode, and of a role's user key ("user_smtpd"). */
const char *listen_mode_name(enum listen_mode m);
const char *role_key(enum role r);

#endif
