/*
 * pool.c — the argon2id worker threads (pool.h).  Process: postern-authd.
 * Syscalls after the sandbox: futex (mutex, condition), write (wake-up
 * byte), mmap/munmap (libsodium's argon2 memory), plus what thread
 * creation needs (auth/sandbox_rules.c).  Failure policy: a full queue is
 * reported to the caller; a worker never exits on its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

/* Allocate the rings (see pool.h). */
int pool_init(struct pool *p, unsigned workers, size_t queue_max, int wake_fd)
{
	memset(p, 0, sizeof(*p));
	if (workers == 0 || workers > POOL_WORKERS_MAX || queue_max == 0)
		return -1;
	p->workers = workers;
	p->wcap = queue_max;
	p->dcap = queue_max + workers;
	p->wake_fd = wake_fd;
	p->wait = calloc(p->wcap, sizeof(p->wait[0]));
	p->done = calloc(p->dcap, sizeof(p->done[0]));
	if (p->wait == NULL || p->done == NULL)
		return -1;
	if (pthread_mutex_init(&p->mu, NULL) != 0 || pthread_cond_init(&p->cv, NULL) != 0)
		return -1;
	return 0;
}

/* Run one job: the verification, then wipe the password. */
static void run(struct pool_job *j)
{
	int ok = crypto_pwhash_str_verify(j->hash, j->password, j->plen) == 0;

	/* An unknown login ran the same work against another hash: it must
	 * fail whatever the password was. */
	j->ok = ok && !j->dummy;
	sodium_memzero(j->password, sizeof(j->password));
	j->plen = 0;
}

/* A worker: take, verify, hand back, wake the main loop; for ever. */
static void *worker(void *arg)
{
	struct pool *p = arg;
	struct pool_job j;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->wlen == 0)
			pthread_cond_wait(&p->cv, &p->mu);
		j = p->wait[p->whead];
		sodium_memzero(&p->wait[p->whead], sizeof(p->wait[0]));
		p->whead = (p->whead + 1) % p->wcap;
		p->wlen--;
		p->inflight++;
		pthread_mutex_unlock(&p->mu);

		run(&j);

		pthread_mutex_lock(&p->mu);
		p->done[(p->dhead + p->dlen) % p->dcap] = j;
		p->dlen++;
		p->inflight--;
		pthread_mutex_unlock(&p->mu);
		while (write(p->wake_fd, "x", 1) < 0 && errno == EINTR)
			;	/* EAGAIN: a wake-up is already pending */
	}
	return NULL;
}

/* Start the threads (see pool.h). */
int pool_start(struct pool *p)
{
	for (unsigned i = 0; i < p->workers; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, p) != 0)
			return -1;
		pthread_detach(t);
	}
	return 0;
}

/* Queue a job (see pool.h). */
int pool_submit(struct pool *p, const struct pool_job *j)
{
	int rc = -1;

	pthread_mutex_lock(&p->mu);
	/* Every job submitted ends in done, so done can hold them all. */
	if (p->wlen < p->wcap && p->wlen + p->inflight + p->dlen < p->dcap) {
		p->wait[(p->whead + p->wlen) % p->wcap] = *j;
		p->wlen++;
		pthread_cond_signal(&p->cv);
		rc = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Take one finished job (see pool.h). */
int pool_take(struct pool *p, struct pool_job *out)
{
	int got = 0;

	pthread_mutex_lock(&p->mu);
	if (p->dlen > 0) {
		*out = p->done[p->dhead];
		sodium_memzero(&p->done[p->dhead], sizeof(p->done[0]));
		p->dhead = (p->dhead + 1) % p->dcap;
		p->dlen--;
		got = 1;
	}
	pthread_mutex_unlock(&p->mu);
	return got;
}
