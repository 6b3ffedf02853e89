/*
 * sessions.c — the master's table of live sessions (see sessions.h): an
 * array of pointers with swap-remove, sized once to the hard cap so a
 * SIGHUP that raises connections_max needs no reallocation.
 *
 * Process: postern (master).  Failure policy: a full table or a failed
 * allocation makes sessions_add return NULL; nothing here aborts.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "sessions.h"

/* Allocate the pointer array for the hard cap. */
int sessions_init(struct session_table *t)
{
	t->n = 0;
	t->v = calloc(CONF_CONNECTIONS_HARD_MAX, sizeof(t->v[0]));
	return t->v == NULL ? -1 : 0;
}

/* A new zeroed session at the end of the table, or NULL. */
struct session *sessions_add(struct session_table *t)
{
	struct session *s;

	if (t->n >= CONF_CONNECTIONS_HARD_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->logfd = -1;
	s->tls_logfd = -1;
	s->tls_factsfd = -1;
	t->v[t->n++] = s;
	return s;
}

/* Forget s: the last entry takes its place. */
void sessions_remove(struct session_table *t, struct session *s)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i] == s) {
			t->v[i] = t->v[--t->n];
			t->v[t->n] = NULL;
			free(s);
			return;
		}
	}
}

/* The session whose smtpd or tlsd is pid, or NULL.  A reaped member is
 * skipped: its pid may already belong to a new child. */
struct session *sessions_by_pid(const struct session_table *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct session *s = t->v[i];

		if ((s->pid == pid && !s->smtpd_done) ||
		    (s->tls_pid > 0 && s->tls_pid == pid && !s->tls_done))
			return t->v[i];
	}
	return NULL;
}

/* Signal the members of s that are still ours to signal (a reaped pid
 * may have been reused; pid 0 would be our own process group). */
void sessions_kill(struct session *s, int sig)
{
	if (s->pid > 0 && !s->smtpd_done)
		kill(s->pid, sig);
	if (s->tls_pid > 0 && !s->tls_done)
		kill(s->tls_pid, sig);
}

/* 1 if a and b hold the same IP address (ports are ignored). */
static int same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr,
		              sizeof(struct in6_addr)) == 0;
	return 0;
}

/* Number of sessions from peer's address. */
size_t sessions_count_ip(const struct session_table *t,
                         const struct sockaddr_storage *peer)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++)
		k += same_ip(&t->v[i]->peer, peer);
	return k;
}
