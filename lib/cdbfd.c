/*
 * cdbfd.c — tinycdb tables over descriptors passed by the master
 * (cdbfd.h).  Used by authd (users), queued (senders, routes, quotas) and
 * the delivery workers (relay-secrets).  Failure policy: a table that
 * cannot be mapped is refused and the old one kept; a lookup that hits a
 * corrupt table reports -1 (the caller answers "temporary failure", never
 * "not found").
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "cdbfd.h"

/* Start with no table. */
void cdbfd_init(struct cdbfd *t)
{
	t->fd = -1;
	t->ready = 0;
}

/* Map the table on fd, then drop the old one (see cdbfd.h). */
int cdbfd_attach(struct cdbfd *t, int fd)
{
	struct cdb fresh;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (cdb_init(&fresh, fd) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	cdbfd_close(t);
	t->cdb = fresh;
	t->fd = fd;
	t->ready = 1;
	return 0;
}

/* Look a key up (see cdbfd.h). */
int cdbfd_find(struct cdbfd *t, const void *key, size_t klen,
               const unsigned char **val, size_t *vlen)
{
	const void *v;
	int r;

	*val = NULL;
	*vlen = 0;
	if (!t->ready || klen > UINT_MAX) {
		errno = t->ready ? EINVAL : EBADF;
		return -1;
	}
	r = cdb_find(&t->cdb, key, (unsigned)klen);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	v = cdb_get(&t->cdb, cdb_datalen(&t->cdb), cdb_datapos(&t->cdb));
	if (v == NULL)
		return -1;
	*val = v;
	*vlen = cdb_datalen(&t->cdb);
	return 1;
}

/* Unmap and close the current table. */
void cdbfd_close(struct cdbfd *t)
{
	if (t->ready) {
		cdb_free(&t->cdb);
		close(t->fd);
	}
	t->fd = -1;
	t->ready = 0;
}
