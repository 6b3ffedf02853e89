/*
 * args.h — postern-smtpd's command line: the trusted facts the master
 * passes (master/session.c builds it):
 *
 *   postern-smtpd -s SESSION_ID -m plain|starttls|tls -h HOSTNAME
 *                 -a CLIENT_IP -p CLIENT_PORT -z MESSAGE_SIZE_MAX
 *                 -n RECIPIENTS_MAX -t IDLE_TIMEOUT_SECONDS
 *                 -T SESSION_TIMEOUT_SECONDS -c COMMAND_TIMEOUT_SECONDS
 *                 -P PREAUTH_TIMEOUT_SECONDS -u UID -g GID -r CHROOT_DIR
 *
 * Every option is required and given once; anything missing, repeated,
 * unknown or out of range fails (the caller logs one line and exits 111).
 * The values are trusted, but are still checked: a master bug must not
 * turn into a hostname with CRLF in the greeting.
 */
#ifndef POSTERN_SMTPD_ARGS_H
#define POSTERN_SMTPD_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hostname.h"

#define ARGS_SESSION_MAX 64
#define ARGS_HOST_MAX HOSTNAME_MAX
#define ARGS_IP_MAX 45
#define ARGS_ROOT_MAX 1024

enum listen_mode { MODE_PLAIN, MODE_STARTTLS, MODE_TLS };

struct smtpd_args {
	char session_id[ARGS_SESSION_MAX + 1];
	enum listen_mode mode;
	char hostname[ARGS_HOST_MAX + 1];
	char client_ip[ARGS_IP_MAX + 1];
	unsigned client_port;
	uint64_t size_max;		/* bytes, >= 1 */
	uint64_t rcpt_max;		/* >= 1 */
	uint64_t idle_s;		/* seconds, >= 1 */
	uint64_t session_s;		/* seconds, >= 1 */
	uint64_t command_s;		/* seconds for one whole command line, >= 1 */
	uint64_t preauth_s;		/* seconds from start to a successful AUTH, >= 1 */
	uid_t uid;
	gid_t gid;
	char root[ARGS_ROOT_MAX + 1];
};

/* Parse argv into a; 0 on success, -1 with a reason (a constant string
 * naming the option, never echoing the value) in *why. */
int args_parse(int argc, char *const argv[], struct smtpd_args *a, const char **why);

/* Name of a mode for log lines. */
const char *args_mode_name(enum listen_mode m);

#endif
