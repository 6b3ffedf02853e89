/*
 * main_user.c — postern-user, the operator's tool for the users table:
 *
 *   postern-user -c DIR [--password-stdin] [--ops N --mem BYTES] add LOGIN
 *   postern-user -c DIR [--password-stdin] [--ops N --mem BYTES] passwd LOGIN
 *   postern-user -c DIR del LOGIN
 *   postern-user -c DIR list
 *   postern-user -c DIR [--password-stdin] check LOGIN
 *
 * LOGIN is an address (auth/login.h; the domain is lower-cased).  The
 * password comes from the terminal without echo (asked twice for add and
 * passwd) or, with --password-stdin, as one line on standard input; never
 * from argv.  It is hashed with crypto_pwhash_str (argon2id) using
 * libsodium's INTERACTIVE limits (ops 2, 64 MiB) unless --ops/--mem say
 * otherwise (INSTALL.md: the cost is stored in each hash, so
 * postern-authd needs no setting).  add/passwd/del rewrite DIR/users and
 * DIR/users.cdb atomically (auth/userdb.h); the running master sees the
 * new users.cdb within seconds (or at SIGHUP) and hands it to
 * postern-authd.  check verifies against DIR/users.cdb, i.e. what authd
 * sees.
 *
 * Process: the operator's shell (root for a real installation); no
 * sandbox.  Exit: 0 done / password right; 1 usage, unknown or existing
 * login, wrong password; 111 system error.
 */
#include <cdb.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "login.h"
#include "password.h"
#include "userdb.h"

struct opts {
	const char *dir;
	int from_stdin;
	unsigned long long ops, mem;
	const char *cmd;
	const char *login;
};

/* Usage error: exit 1. */
static void __attribute__((noreturn)) usage(void)
{
	fputs("usage: postern-user -c DIR [--password-stdin] [--ops N --mem BYTES] "
	      "add|passwd|del|check LOGIN\n       postern-user -c DIR list\n", stderr);
	exit(1);
}

/* One error line and exit with code. */
static void __attribute__((noreturn)) die(int code, const char *what, const char *why)
{
	fprintf(stderr, "postern-user: %s%s%s\n", what, why ? ": " : "", why ? why : "");
	exit(code);
}

/* Parse the command line. */
static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "password-stdin", no_argument, NULL, 'P' },
		{ "ops", required_argument, NULL, 'o' },
		{ "mem", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	o->mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	while ((c = getopt_long(argc, argv, "c:", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->dir = optarg; break;
		case 'P': o->from_stdin = 1; break;
		case 'o': o->ops = strtoull(optarg, NULL, 10); break;
		case 'm': o->mem = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (o->dir == NULL || optind >= argc)
		usage();
	o->cmd = argv[optind++];
	if (strcmp(o->cmd, "list") == 0) {
		if (optind != argc)
			usage();
		return;
	}
	if (optind + 1 != argc)
		usage();
	o->login = argv[optind];
	if (o->ops < crypto_pwhash_OPSLIMIT_MIN || o->ops > crypto_pwhash_OPSLIMIT_MAX ||
	    o->mem < crypto_pwhash_MEMLIMIT_MIN || o->mem > (1ull << 32))
		die(1, "--ops/--mem", "out of libsodium's argon2id range");
}

/* Hash a password read as asked. */
static void new_hash(const struct opts *o, char hash[crypto_pwhash_STRBYTES])
{
	char pw[PASSWORD_MAX + 1];
	const char *why = NULL;
	long n = password_read(o->from_stdin, 1, pw, &why);

	if (n < 0)
		die(1, "password", why);
	if (crypto_pwhash_str(hash, pw, (unsigned long long)n, o->ops, (size_t)o->mem) != 0) {
		sodium_memzero(pw, sizeof(pw));
		die(111, "crypto_pwhash_str", "out of memory");
	}
	sodium_memzero(pw, sizeof(pw));
}

/* check: verify against DIR/users.cdb. */
static int check(const struct opts *o, const char *login)
{
	char path[4200], pw[PASSWORD_MAX + 1], hash[crypto_pwhash_STRBYTES];
	const char *why = NULL;
	struct cdb c;
	int fd, found, ok;
	unsigned len = 0;
	long n;

	snprintf(path, sizeof(path), "%s/users.cdb", o->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || cdb_init(&c, fd) != 0)
		die(111, path, "cannot read");
	n = password_read(o->from_stdin, 0, pw, &why);
	if (n < 0)
		die(1, "password", why);
	found = cdb_find(&c, login, (unsigned)strlen(login));
	if (found > 0)
		len = cdb_datalen(&c);
	if (found > 0 && len > 0 && len < sizeof(hash) &&
	    cdb_read(&c, hash, len, cdb_datapos(&c)) == 0) {
		hash[len] = '\0';
		ok = crypto_pwhash_str_verify(hash, pw, (unsigned long long)n) == 0;
	} else {
		ok = 0;
	}
	sodium_memzero(pw, sizeof(pw));
	cdb_free(&c);
	close(fd);
	printf("%s: %s\n", login, ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}

/* add, passwd, del on the loaded table; returns 1 if it changed. */
static void change(const struct opts *o, struct userdb *db, const char *login)
{
	struct user *u = userdb_find(db, login);
	char hash[crypto_pwhash_STRBYTES];

	if (strcmp(o->cmd, "add") == 0) {
		if (u != NULL)
			die(1, login, "already exists (use passwd)");
		new_hash(o, hash);
		if (userdb_add(db, login, hash) != 0)
			die(111, "add", "out of memory");
	} else if (strcmp(o->cmd, "passwd") == 0) {
		if (u == NULL)
			die(1, login, "no such login");
		new_hash(o, hash);
		memcpy(u->hash, hash, sizeof(hash));
	} else if (strcmp(o->cmd, "del") == 0) {
		if (u == NULL)
			die(1, login, "no such login");
		userdb_del(db, u);
	} else {
		usage();
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct userdb db;
	char login[LOGIN_MAX + 1], err[8192];

	parse(argc, argv, &o);
	if (sodium_init() < 0)
		die(111, "sodium_init", NULL);
	umask(077);
	if (o.login != NULL && login_normalize(o.login, strlen(o.login), login) != 0)
		die(1, o.login, "not a valid login (an address like user@example.org)");
	if (strcmp(o.cmd, "check") == 0)
		return check(&o, login);
	if (userdb_open(&db, o.dir, err, sizeof(err)) != 0)
		die(111, err, NULL);
	if (strcmp(o.cmd, "list") == 0) {
		for (size_t i = 0; i < db.n; i++)
			printf("%s\n", db.v[i].login);
		userdb_close(&db);
		return 0;
	}
	change(&o, &db, login);
	if (userdb_save(&db, err, sizeof(err)) != 0)
		die(111, err, NULL);
	printf("postern-user: %s %s\n", o.cmd, login);
	userdb_close(&db);
	return 0;
}
