/*
 * tlsfiles.c — stat(2)-only check of the TLS certificate and key files
 * at start and on SIGHUP (see tlsfiles.h).  Process: postern (master).
 * Failure policy: report, never refuse (tlsd is the one that loads).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "tlsfiles.h"

/* 1 if any listener puts postern-tlsd in front. */
static int uses_tls(const struct master_conf *c)
{
	for (unsigned i = 0; i < c->nlisten; i++) {
		if (c->listen[i].mode != LISTEN_PLAIN)
			return 1;
	}
	return 0;
}

/* Check one file (is_key: must not be world-readable); 0 or 1 problem. */
static int check_one(const char *path, int is_key)
{
	struct stat st;
	struct logline l;
	const char *why = NULL;

	if (stat(path, &st) != 0)
		why = strerrorname_np(errno) ? strerrorname_np(errno) : "stat-failed";
	else if (!S_ISREG(st.st_mode))
		why = "not-regular";
	else if (is_key && (st.st_mode & S_IROTH))
		why = "world-readable";
	if (why == NULL)
		return 0;
	ll_begin(&l, "tls-files-bad");
	ll_str(&l, "file", path);
	ll_str(&l, "error", why);
	ll_emit(&l);
	return 1;
}

/* Check and log (see tlsfiles.h). */
int tlsfiles_check(const struct master *m)
{
	const struct master_conf *c = m->conf;
	int bad = 0, two = c->tls_cert2[0] != '\0';
	struct logline l;

	if (!uses_tls(c))
		return 0;
	bad += check_one(c->tls_cert, 0);
	bad += check_one(c->tls_key, 1);
	if (two) {
		bad += check_one(c->tls_cert2, 0);
		bad += check_one(c->tls_key2, 1);
	}
	if (bad > 0)
		return bad;
	ll_begin(&l, "tls-files");
	ll_str(&l, "cert", c->tls_cert);
	ll_str(&l, "key", c->tls_key);
	if (two) {
		ll_str(&l, "cert2", c->tls_cert2);
		ll_str(&l, "key2", c->tls_key2);
	}
	ll_emit(&l);
	return 0;
}
