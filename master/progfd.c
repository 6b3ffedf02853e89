/*
 * progfd.c — opening the programs root execs once, checked, and exec'ing
 * them by descriptor (see progfd.h for the rules and why).
 *
 * Process: postern (master) at start; progfd_exec in a child after fork.
 * Failure policy: the first failed check is reported; nothing is opened
 * then (no descriptor leaks on error).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progfd.h"

/* Check one directory of the chain; a reason, or NULL if it is safe. */
static const char *dir_problem(const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if (st->st_uid != 0)
		return "not owned by root";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		return "writable by group or other";
	return NULL;
}

/* Check path (absolute, resolved) and each of its parents up to /. */
static int check_chain(const char *path, char *err, size_t errcap)
{
	char p[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(p) || path[0] != '/') {
		snprintf(err, errcap, "%s: not an absolute path", path);
		return -1;
	}
	memcpy(p, path, n + 1);
	for (;;) {
		struct stat st;
		const char *why = stat(p, &st) != 0 ? strerror(errno) : dir_problem(&st);
		char *slash;

		if (why != NULL) {
			snprintf(err, errcap, "directory %s: %s (whoever can change it "
			         "chooses what root runs)", p, why);
			return -1;
		}
		if (strcmp(p, "/") == 0)
			return 0;
		slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* Check the opened file itself (fstat: what we hold is what we run). */
static const char *file_problem(int fd, int root)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return "not executable";
	if (root && st.st_uid != 0)
		return "not owned by root, yet run as root";
	if (root && (st.st_mode & (S_IWGRP | S_IWOTH)))
		return "writable by group or other, yet run as root";
	return NULL;
}

/* The directory part of the resolved path real (in place). */
static void dirname_of(char *real)
{
	char *slash = strrchr(real, '/');

	if (slash == real)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
}

/* Open dir/name (see progfd.h). */
int progfd_open(const char *dir, const char *name, int root, int *missing,
                char *err, size_t errcap)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *why;
	int fd, n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (missing != NULL)
		*missing = 0;
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errcap, "%s/%s: path too long", dir, name);
		return -1;
	}
	if (realpath(path, real) == NULL) {
		if (missing != NULL)
			*missing = errno == ENOENT;
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* O_NOFOLLOW on the resolved path: a link swapped in between
	 * realpath and open is refused rather than followed. */
	fd = open(real, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return -1;
	}
	why = file_problem(fd, root);
	if (why != NULL) {
		snprintf(err, errcap, "%s: %s", path, why);
		close(fd);
		return -1;
	}
	if (root) {
		char rdir[PATH_MAX];

		memcpy(rdir, real, strlen(real) + 1);
		dirname_of(rdir);
		if (realpath(dir, path) == NULL) {
			snprintf(err, errcap, "%s: %s", dir, strerror(errno));
			close(fd);
			return -1;
		}
		if (check_chain(path, err, errcap) != 0 || check_chain(rdir, err, errcap) != 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Exec fd in a child (see progfd.h). */
void progfd_exec(int fd, char *const argv[])
{
	static char *const envp[] = { NULL };

	execveat(fd, "", argv, envp, AT_EMPTY_PATH);
	if (errno != ENOENT || fcntl(fd, F_SETFD, 0) != 0)
		return;
	execveat(fd, "", argv, envp, AT_EMPTY_PATH);
}
