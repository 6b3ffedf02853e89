/*
 * roles.c — the role users' numeric ids and the checks of the paths the
 * master gives its children (see roles.h).
 *
 * Why the checks: every per-connection program is exec'd as root and chroots
 * into empty_dir before dropping privileges, so a writable or non-empty
 * chroot, or a program file someone else can write, would hand root or the
 * sandbox away.  The programs are opened once here (progfd.h) and exec'd
 * by descriptor, so the file checked is the file run.  Process: postern (master), at start.  Failure policy: any
 * problem is fatal with a reason naming the user or path.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "progfd.h"
#include "roles.h"

/* Resolve the role users (see roles.h). */
int roles_resolve(const struct master_conf *c, struct role_ids *ids,
                  char *err, size_t errcap)
{
	ids->root = geteuid() == 0;
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct passwd *pw;

		if (!ids->root) {
			ids->uid[r] = getuid();
			ids->gid[r] = getgid();
			continue;
		}
		errno = 0;
		pw = getpwnam(c->user[r]);
		if (pw == NULL) {
			snprintf(err, errcap, "%s: %s = %s: no such user (run postern-setup)",
			         c->file, role_key((enum role)r), c->user[r]);
			return -1;
		}
		if (pw->pw_uid == 0 || pw->pw_gid == 0) {
			snprintf(err, errcap, "%s: %s = %s: a role user must not be root "
			         "or in group root", c->file, role_key((enum role)r), c->user[r]);
			return -1;
		}
		ids->uid[r] = pw->pw_uid;
		ids->gid[r] = pw->pw_gid;
	}
	return 0;
}

/* 1 if the directory at path has no entry but "." and "..". */
static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

/* Check the chroot of the per-connection processes. */
static int check_empty_dir(const struct master_conf *c, int root,
                           char *err, size_t errcap)
{
	struct stat st;
	const char *why = NULL;

	if (lstat(c->empty_dir, &st) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (root && st.st_uid != 0)
		why = "not owned by root";
	else if (root && (st.st_mode & (S_IWGRP | S_IWOTH)))
		why = "writable by group or other";
	else if (root && !dir_is_empty(c->empty_dir))
		why = "not empty";
	if (why == NULL)
		return 0;
	snprintf(err, errcap, "%s: empty_dir %s: %s (it is the chroot of every "
	         "connection; postern-setup creates it root:root 0555)",
	         c->file, c->empty_dir, why);
	return -1;
}

/* As root: DIR and postern.conf must be root's and not writable by group
 * or other, since whoever can change the file chooses what root execs. */
static int check_conf_owner(const struct master_conf *c, int root,
                            char *err, size_t errcap)
{
	const char *paths[2] = { c->dir, c->file };
	struct stat st;

	for (int i = 0; root && i < 2; i++) {
		const char *why = NULL;

		if (stat(paths[i], &st) != 0)
			why = strerror(errno);
		else if (st.st_uid != 0)
			why = "not owned by root";
		else if (st.st_mode & (S_IWGRP | S_IWOTH))
			why = "writable by group or other";
		if (why != NULL) {
			snprintf(err, errcap, "%s: %s (whoever can change the "
			         "configuration chooses what root runs)", paths[i], why);
			return -1;
		}
	}
	return 0;
}

/* Start-up checks of the paths (see roles.h). */
int roles_check_paths(const struct master_conf *c, int root,
                      char *err, size_t errcap)
{
	if (check_conf_owner(c, root, err, errcap) != 0 ||
	    check_empty_dir(c, root, err, errcap) != 0)
		return -1;
	return 0;
}

/* 1 if any listener puts postern-tlsd in front. */
static int needs_tlsd(const struct master_conf *c)
{
	for (unsigned i = 0; i < c->nlisten; i++) {
		if (c->listen[i].mode != LISTEN_PLAIN)
			return 1;
	}
	return 0;
}

/* Open one per-connection program; "FILE: libexec_dir: reason" on error. */
static int open_one(const struct master_conf *c, const char *name, int root,
                    char *err, size_t errcap)
{
	char why[2 * CONF_PATH_MAX];
	int fd = progfd_open(c->libexec_dir, name, root, NULL, why, sizeof(why));

	if (fd < 0)
		snprintf(err, errcap, "%s: libexec_dir: %s", c->file, why);
	return fd;
}

/* Open the per-connection programs (see roles.h). */
int roles_open_programs(struct master *m, char *err, size_t errcap)
{
	m->prog_smtpd = open_one(m->conf, "postern-smtpd", m->ids.root, err, errcap);
	if (m->prog_smtpd < 0)
		return -1;
	m->prog_tlsd = -1;
	if (needs_tlsd(m->conf)) {
		m->prog_tlsd = open_one(m->conf, "postern-tlsd", m->ids.root, err, errcap);
		if (m->prog_tlsd < 0)
			return -1;
	}
	return 0;
}
