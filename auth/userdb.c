/*
 * userdb.c — DIR/users and DIR/users.cdb (userdb.h).  Process:
 * postern-user.  Failure policy: nothing is written unless the whole
 * file parsed; a write error leaves the previous files in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tablesrc.h"
#include "userdb.h"

#define USERS_MODE 0600

/* One `login hash` line from the file. */
static int load_cb(void *ctx, const char *k, size_t kl, const char *v, size_t vl,
                   char *err, size_t errcap)
{
	struct userdb *db = ctx;
	char login[LOGIN_MAX + 1], hash[crypto_pwhash_STRBYTES];

	if (login_normalize(k, kl, login) != 0)
		return snprintf(err, errcap, "\"%.*s\" is not a valid login (an address)",
		                (int)kl, k), -1;
	if (vl >= sizeof(hash) || memchr(v, ' ', vl) || memchr(v, '\t', vl) ||
	    vl < 10 || memcmp(v, "$argon2id$", 10) != 0)
		return snprintf(err, errcap, "the value of %s is not an argon2id hash", login), -1;
	if (userdb_find(db, login) != NULL)
		return snprintf(err, errcap, "duplicate login %s", login), -1;
	memcpy(hash, v, vl);
	hash[vl] = '\0';
	if (userdb_add(db, login, hash) != 0)
		return snprintf(err, errcap, "out of memory"), -1;
	return 0;
}

/* Lock and load (see userdb.h). */
int userdb_open(struct userdb *db, const char *dir, char *err, size_t errcap)
{
	char path[sizeof(db->dir) + 32];

	memset(db, 0, sizeof(*db));
	db->lockfd = -1;
	if (snprintf(db->dir, sizeof(db->dir), "%s", dir) >= (int)sizeof(db->dir))
		return snprintf(err, errcap, "%s: path too long", dir), -1;
	snprintf(path, sizeof(path), "%s/users.lock", dir);
	db->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, USERS_MODE);
	if (db->lockfd < 0 || flock(db->lockfd, LOCK_EX) != 0)
		return snprintf(err, errcap, "%s: %s", path, strerror(errno)), -1;
	snprintf(path, sizeof(path), "%s/users", dir);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	return tablesrc_parse_file(path, load_cb, db, err, errcap);
}

/* Find (see userdb.h). */
struct user *userdb_find(struct userdb *db, const char *login)
{
	for (size_t i = 0; i < db->n; i++) {
		if (strcmp(db->v[i].login, login) == 0)
			return &db->v[i];
	}
	return NULL;
}

/* Append (see userdb.h). */
int userdb_add(struct userdb *db, const char *login, const char *hash)
{
	if (db->n == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 64;
		struct user *v = reallocarray(db->v, cap, sizeof(*v));

		if (v == NULL)
			return -1;
		db->v = v;
		db->cap = cap;
	}
	snprintf(db->v[db->n].login, sizeof(db->v[0].login), "%s", login);
	snprintf(db->v[db->n].hash, sizeof(db->v[0].hash), "%s", hash);
	db->n++;
	return 0;
}

/* Remove (see userdb.h). */
void userdb_del(struct userdb *db, struct user *u)
{
	size_t i = (size_t)(u - db->v);

	memmove(&db->v[i], &db->v[i + 1], (db->n - i - 1) * sizeof(db->v[0]));
	db->n--;
}

/* The text form of the table. */
static char *render(const struct userdb *db, size_t *len)
{
	static const char head[] = "# postern users: login argon2id-hash (managed by "
	                           "postern-user, which rewrites it: comments are not kept)\n";
	size_t cap = sizeof(head) + db->n * (sizeof(db->v[0]) + 2), n;
	char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	n = (size_t)snprintf(buf, cap, "%s", head);
	for (size_t i = 0; i < db->n; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s %s\n", db->v[i].login, db->v[i].hash);
	*len = n;
	return buf;
}

/* Save both files (see userdb.h). */
int userdb_save(struct userdb *db, char *err, size_t errcap)
{
	char path[sizeof(db->dir) + 32];
	struct cdbout o;
	size_t len;
	char *text = render(db, &len);
	int rc;

	if (text == NULL)
		return snprintf(err, errcap, "out of memory"), -1;
	snprintf(path, sizeof(path), "%s/users", db->dir);
	rc = atomic_write(path, text, len, USERS_MODE, err, errcap);
	free(text);
	if (rc != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/users.cdb", db->dir);
	if (cdbout_open(&o, path, USERS_MODE, err, errcap) != 0)
		return -1;
	for (size_t i = 0; i < db->n; i++) {
		if (cdbout_add(&o, db->v[i].login, strlen(db->v[i].login), db->v[i].hash,
		               strlen(db->v[i].hash)) != 0) {
			cdbout_abort(&o);
			return snprintf(err, errcap, "%s: cannot add %s", path, db->v[i].login), -1;
		}
	}
	return cdbout_commit(&o, err, errcap);
}

/* Unlock and free (see userdb.h). */
void userdb_close(struct userdb *db)
{
	if (db->v != NULL)
		sodium_memzero(db->v, db->cap * sizeof(db->v[0]));
	free(db->v);
	db->v = NULL;
	if (db->lockfd >= 0)
		close(db->lockfd);
	db->lockfd = -1;
}
