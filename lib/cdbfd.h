/*
 * cdbfd.h — a tinycdb table read through a descriptor the master handed
 * over (the consumer never opens a file).  A new descriptor replaces the
 * old one only once it has been mapped successfully, so a bad table file
 * leaves the previous table in service.
 *
 * Syscalls: fstat, mmap (PROT_READ), munmap, close.
 */
#ifndef POSTERN_CDBFD_H
#define POSTERN_CDBFD_H

#include <cdb.h>
#include <stddef.h>

struct cdbfd {
	int fd;		/* -1 when no table is attached */
	struct cdb cdb;
	int ready;
};

void cdbfd_init(struct cdbfd *t);
/* Switch to the table on fd.  cdbfd takes ownership of fd in every case:
 * on success the old table is released (cdb_free + close); on failure fd
 * is closed, the old table stays, and -1 is returned. */
int cdbfd_attach(struct cdbfd *t, int fd);
/* Look key up: 1 found (*val points into the mapping, valid until the next
 * attach or close), 0 not found, -1 error or no table attached. */
int cdbfd_find(struct cdbfd *t, const void *key, size_t klen,
               const unsigned char **val, size_t *vlen);
/* Release the table (no-op when none). */
void cdbfd_close(struct cdbfd *t);

#endif
