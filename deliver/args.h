/*
 * args.h — postern-deliver's command line: trusted facts from the master,
 * still checked (a master bug fails closed: one log line, exit 111).
 *
 *   -u UID -g GID -r CHROOT    required: the role's ids and empty chroot
 *   -H HELO                    required: the EHLO/HELO name (a host name)
 *   -b ADDRESS                 optional: IPv4/IPv6 source address of every
 *                              outbound connection (only that family is used)
 *   -R ADDR:PORT               optional: the DNS resolver (IPv4); default:
 *                              the first nameserver of /etc/resolv.conf
 *   -n JOBS                    optional: jobs per batch before `bye` (100)
 *   -C CAFILE                  optional: CA bundle for tls=verify (loaded
 *                              before the sandbox; without it tls=verify
 *                              fails temporarily)
 *   -t SECONDS[,...]           optional: one value for every timeout, or
 *                              seven: connect,greeting,mail,rcpt,datainit,
 *                              datablock,final (default 30,300,300,300,120,
 *                              180,600: RFC 5321 §4.5.3.2 plus a connect cap)
 *   -P PORT                    optional, FOR TESTS: the SMTP port of MX hosts
 *                              (25 in real life; tests give each MX its own
 *                              127.0.0.x address and a free port)
 */
#ifndef POSTERN_DELIVER_ARGS_H
#define POSTERN_DELIVER_ARGS_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum {
	TMO_CONNECT, TMO_GREETING, TMO_MAIL, TMO_RCPT, TMO_DATAINIT,
	TMO_DATABLOCK, TMO_FINAL, TMO_COUNT
};

struct deliver_args {
	uid_t uid;
	gid_t gid;
	const char *root;
	const char *helo;
	int have_bind;
	struct sockaddr_storage bind;
	socklen_t bindlen;
	int have_resolver;
	struct sockaddr_in resolver;
	uint64_t jobs;
	const char *cafile;
	uint64_t timeout_ms[TMO_COUNT];
	unsigned mx_port;
};

/* Parse argv; 0, or -1 with a constant reason in *why. */
int deliver_args_parse(int argc, char *const argv[], struct deliver_args *a, const char **why);

#endif
