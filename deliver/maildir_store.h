/*
 * maildir_store.h — writing one message into a maildir, the maildir way
 * (tmp/ -> new/), in postern-maildir after its sandbox.  The caller holds
 * descriptors of the maildir's tmp/ and new/ (opened before the sandbox
 * with O_DIRECTORY|O_NOFOLLOW, so a symlink put in their place is never
 * followed) and the job's message descriptor.
 *
 * One delivery, in this order (the commit point is the link into new/):
 *   1. a unique name: SECONDS.M<usec>P<pid>Q<count>R<random>.HOST;
 *   2. openat(tmp, name, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600);
 *   3. write the trusted header block, then the message's bytes exactly as
 *      stored (pread from offset 0, so the sender's file offset, shared
 *      through SCM_RIGHTS, is never moved; CRLF line ends are kept);
 *   4. fsync the file, close it;
 *   5. linkat(tmp/name -> new/name) — never replaces an existing file —
 *      then unlinkat(tmp/name);
 *   6. fsync new/, so the new entry survives a crash.
 * Failure before step 5: the tmp/ file is removed, nothing is in new/,
 * and the result is temporary (452 4.3.1 when the disk or quota is full,
 * else 451 4.3.0): the queue keeps the message and retries.  A failed
 * fsync of new/ after the link is also temporary: the message may then be
 * delivered twice (RFC 5321 §6.1 accepts a duplicate, never a loss).
 */
#ifndef POSTERN_DELIVER_MAILDIR_STORE_H
#define POSTERN_DELIVER_MAILDIR_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define MAILDIR_HOST_MAX 1024	/* a 253-byte name with every byte escaped */
#define MAILDIR_NAME_MAX 1200

struct maildir_store {
	int tmp_dir;		/* descriptor of tmp/ */
	int new_dir;		/* descriptor of new/ */
	long pid;
	uint64_t count;		/* deliveries by this process (Q part) */
	char host[MAILDIR_HOST_MAX];
};

/* The outcome of one delivery: code 250 and "2.0.0" on success, else a
 * temporary code, status and text for every recipient. */
struct maildir_result {
	int ok;
	unsigned code;
	const char *status;
	const char *text;
	char name[MAILDIR_NAME_MAX];	/* the file's name in new/ on success */
	uint64_t bytes;
};

/* Copy host into out[cap] with '/' written as \057 and ':' as \072 (the
 * maildir convention); 0, or -1 if a byte is not printable ASCII, a space
 * or a backslash, or if it does not fit. */
int maildir_host_escape(const char *host, char *out, size_t cap);

/* Write the name for time now, pid, count and rnd into out[cap]; 0 or -1
 * if it does not fit. */
int maildir_name_make(char *out, size_t cap, const struct timespec *now, long pid,
                      uint64_t count, uint32_t rnd, const char *host);

/* Deliver header[0..hlen) followed by the contents of msg_fd; fills res. */
void maildir_deliver(struct maildir_store *st, int msg_fd, const unsigned char *header,
                     size_t hlen, struct maildir_result *res);

#endif
