/*
 * userdb.h — postern-user's model of DIR/users: the text table of
 * `login argon2id-hash` lines (grammar: lib/tablesrc.h), loaded into
 * memory, changed, and written back atomically together with
 * DIR/users.cdb (what the master hands to postern-authd).
 *
 * Files: DIR/users and DIR/users.cdb, both mode 0600 (root's when run as
 * root: only the master opens them; authd gets a descriptor); changes are
 * serialised by flock on DIR/users.lock.
 *
 * Process: postern-user (operator), no sandbox.
 */
#ifndef POSTERN_AUTH_USERDB_H
#define POSTERN_AUTH_USERDB_H

#include <sodium.h>
#include <stddef.h>

#include "login.h"

struct user {
	char login[LOGIN_MAX + 1];
	char hash[crypto_pwhash_STRBYTES];
};

struct userdb {
	char dir[4096];
	struct user *v;
	size_t n, cap;
	int lockfd;
};

/* Lock DIR/users.lock and load DIR/users (absent = empty).  0, or -1 with
 * the reason in err. */
int userdb_open(struct userdb *db, const char *dir, char *err, size_t errcap);
/* The entry for login, or NULL. */
struct user *userdb_find(struct userdb *db, const char *login);
/* Append (login must be new).  0 or -1. */
int userdb_add(struct userdb *db, const char *login, const char *hash);
/* Remove login (must exist). */
void userdb_del(struct userdb *db, struct user *u);
/* Write DIR/users and DIR/users.cdb atomically.  0 or -1 with reason. */
int userdb_save(struct userdb *db, char *err, size_t errcap);
/* Unlock and free. */
void userdb_close(struct userdb *db);

#endif
