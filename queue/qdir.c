/*
 * qdir.c — opening the queue directory as descriptors (qdir.h).
 * postern-queued before the sandbox, and its admin handler inside it
 * (qdir_find_message: newfstatat only; qdir_each_id: openat O_RDONLY and
 * getdents64 through fdopendir).  Failure policy: qdir_open fails
 * as a whole; the caller exits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdir.h"

static const char *const names[QD_COUNT] = {
	"tmp", "new", "cur", "env", "state", "hold",
};

/* Name of a subdirectory. */
const char *qdir_name(enum qd which)
{
	return (unsigned)which < QD_COUNT ? names[which] : "?";
}

/* Open one subdirectory of q->root, creating hold/ if asked. */
static int open_sub(struct qdir *q, enum qd i, int own, uid_t uid, gid_t gid)
{
	int fd = openat(q->root, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || i != QD_HOLD)
		return fd;
	if (mkdirat(q->root, names[i], 0700) != 0 && errno != EEXIST)
		return -1;
	fd = openat(q->root, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && own && fchown(fd, uid, gid) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open the queue (see qdir.h). */
int qdir_open(struct qdir *q, const char *path, int own, uid_t uid, gid_t gid,
              char *err, size_t errcap)
{
	q->root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (int i = 0; i < QD_COUNT; i++)
		q->d[i] = -1;
	if (q->root < 0) {
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < QD_COUNT; i++) {
		q->d[i] = open_sub(q, (enum qd)i, own, uid, gid);
		if (q->d[i] < 0) {
			snprintf(err, errcap, "%s/%s: %s", path, names[i], strerror(errno));
			qdir_close(q);
			return -1;
		}
	}
	return 0;
}

/* Close every descriptor. */
void qdir_close(struct qdir *q)
{
	for (int i = 0; i < QD_COUNT; i++) {
		if (q->d[i] >= 0)
			close(q->d[i]);
		q->d[i] = -1;
	}
	if (q->root >= 0)
		close(q->root);
	q->root = -1;
}

/* 1 if s[0..n) is RANDID_LEN characters of a-z2-7. */
int qid_valid(const char *s, size_t n)
{
	if (n != RANDID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return 0;
	}
	return 1;
}

/* fsync one subdirectory. */
int qdir_sync(const struct qdir *q, enum qd which)
{
	return fsync(q->d[which]);
}

/* Where the message is (see qdir.h). */
int qdir_find_message(const struct qdir *q, const char *id)
{
	static const enum qd where[] = { QD_NEW, QD_CUR, QD_HOLD };
	struct stat st;

	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		if (fstatat(q->d[where[i]], id, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			return (int)where[i];
	}
	return -1;
}

/* Walk one directory (see qdir.h). */
long qdir_each_id(const struct qdir *q, enum qd where, enum qdir_names which,
                  qdir_entry_fn fn, void *ctx)
{
	int fd = openat(q->d[where], ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	long n = 0;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		const char *name = de->d_name;

		if (which == QDIR_IDS ? !qid_valid(name, strlen(name))
		                      : strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fn(ctx, where, name) < 0)
			break;
		n++;
	}
	closedir(dir);
	return n;
}
