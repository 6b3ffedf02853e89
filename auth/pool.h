/*
 * pool.h — postern-authd's verification pool: worker threads running
 * crypto_pwhash_str_verify (argon2id, deliberately slow) so the main
 * loop never waits for one, with a bounded wait queue (DESIGN §2 step 5).
 *
 * At most queue_max jobs wait for a worker; pool_submit fails beyond that
 * and the caller answers 454 4.7.0.  Results come back through a done
 * ring read by the main thread, which a worker wakes by writing one byte
 * to a non-blocking pipe.  The password in a job is wiped by the worker
 * right after the verification.
 *
 * The threads are started by pool_start() AFTER sandbox_enter (which
 * asserts a single thread); the filter is loaded with TSYNC semantics for
 * the process, and new threads inherit it.  All memory is allocated by
 * pool_init() before the sandbox.
 *
 * Process: postern-authd.
 */
#ifndef POSTERN_AUTH_POOL_H
#define POSTERN_AUTH_POOL_H

#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define POOL_WORKERS_MAX 64
#define POOL_PASSWORD_MAX 256

struct pool_job {
	uint64_t token;			/* the caller's: which session asked */
	char hash[crypto_pwhash_STRBYTES];
	char password[POOL_PASSWORD_MAX + 1];
	size_t plen;
	int dummy;			/* unknown login: verify, then fail anyway */
	int ok;				/* result: 1 verified */
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_job *wait;		/* ring of waiting jobs */
	size_t whead, wlen, wcap;
	struct pool_job *done;		/* ring of finished jobs */
	size_t dhead, dlen, dcap;
	size_t inflight;		/* taken by a worker, not yet done */
	unsigned workers;
	int wake_fd;			/* write end of the wake-up pipe */
};

/* Allocate for workers threads and queue_max waiting jobs.  0 or -1. */
int pool_init(struct pool *p, unsigned workers, size_t queue_max, int wake_fd);

/* Start the threads (after sandbox_enter).  0 or -1. */
int pool_start(struct pool *p);

/* Queue a copy of j.  0, or -1 if the wait queue is full.  The caller
 * wipes its own copy of the password. */
int pool_submit(struct pool *p, const struct pool_job *j);

/* Take one finished job into out: 1, or 0 if none. */
int pool_take(struct pool *p, struct pool_job *out);

#endif
