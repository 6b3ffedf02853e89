/*
 * hostname.h — the syntax of a DNS host name, shared by the master's
 * configuration (hostname =), postern-smtpd's -h argument and EHLO/HELO.
 * Pure, no allocation, no DNS.
 */
#ifndef POSTERN_HOSTNAME_H
#define POSTERN_HOSTNAME_H

#include <stddef.h>

#define HOSTNAME_MAX 253	/* RFC 1035 §2.3.4 (255 on the wire) */
#define HOSTNAME_LABEL_MAX 63

/* 1 if s[0..n) is a host name: labels of 1..63 letters, digits and '-',
 * none starting or ending with '-' (RFC 1123 §2.1 allows a leading
 * digit), separated by single dots, no trailing dot, at most 253 octets;
 * else 0.  A NUL inside is not a letter, so it fails too. */
int hostname_valid(const char *s, size_t n);

#endif
