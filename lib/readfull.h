/*
 * readfull.h — read(2) or pread(2) until a buffer is full or the file
 * ends: the loop every whole-file reader needs (tables' text sources, the
 * config file, postern-deliver's CA bundle, queued's copy of an original
 * message into a report).  Retries EINTR; touches only fd.
 */
#ifndef POSTERN_READFULL_H
#define POSTERN_READFULL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read into buf[0..n) until it is full or read returns 0 (end of file).
 * The bytes read (short only at end of file), or -1 with errno from the
 * failed read. */
ssize_t read_full(int fd, void *buf, size_t n);

/* The same with pread(2) from offset off: the descriptor's file offset
 * is left alone (queued shares message descriptors with delivery
 * workers). */
ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off);

#endif
