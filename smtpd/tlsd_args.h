/*
 * tlsd_args.h — postern-tlsd's command line, trusted facts from the master
 * (master/session.c builds it; never a key in argv, /proc/PID/cmdline is
 * world-readable):
 *
 *   postern-tlsd -m starttls|tls -c CERT -k KEY [-c CERT2 -k KEY2]
 *                -V 1.2|1.3 -H HANDSHAKE_TIMEOUT_S -T SESSION_TIMEOUT_S
 *                -u UID -g GID -r CHROOT_DIR
 *
 * -c/-k: PEM certificate chain and private key files, one or two pairs
 * (an RSA and an ECDSA certificate may be served at once), in order
 * pairing; absolute paths.  -V: the lowest TLS version accepted.  Every
 * other option is required exactly once.  Anything missing, repeated,
 * unknown or out of range fails (one log line, exit 111).
 */
#ifndef POSTERN_SMTPD_TLSD_ARGS_H
#define POSTERN_SMTPD_TLSD_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TLSD_CERTS_MAX 2
#define TLSD_PATH_MAX 1024

struct tlsd_args {
	int implicit;			/* 1: tls listener (handshake first) */
	size_t ncert, nkey;
	char cert[TLSD_CERTS_MAX][TLSD_PATH_MAX + 1];
	char key[TLSD_CERTS_MAX][TLSD_PATH_MAX + 1];
	int min_version;		/* TLS1_2_VERSION or TLS1_3_VERSION */
	uint64_t handshake_s;		/* 1..600 */
	uint64_t session_s;		/* 1..7 days */
	uid_t uid;
	gid_t gid;
	char root[TLSD_PATH_MAX + 1];
};

/* Parse argv into a; 0, or -1 with a constant reason in *why. */
int tlsd_args_parse(int argc, char *const argv[], struct tlsd_args *a, const char **why);

#endif
