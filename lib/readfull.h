/*
 * readfull.h — read(2) until a buffer is full or the file ends: the loop
 * every whole-file reader needs (tables' text sources, the config file,
 * postern-deliver's CA bundle).  Retries EINTR; touches only fd.
 */
#ifndef POSTERN_READFULL_H
#define POSTERN_READFULL_H

#include <stddef.h>
#include <sys/types.h>

/* Read into buf[0..n) until it is full or read returns 0 (end of file).
 * The bytes read (short only at end of file), or -1 with errno from the
 * failed read. */
ssize_t read_full(int fd, void *buf, size_t n);

#endif
