/*
 * listenaddr.h — parsing one "listen = ADDR:PORT MODE" value.
 *
 * Process: postern (master), while reading postern.conf.
 * Grammar:  value = address ":" port 1*blank mode
 *           address = IPv4-dotted / "[" IPv6 "]"   (numeric only: no DNS)
 *           port = 1..65535, mode = "plain" / "starttls" / "tls"
 * Policy: a plain listener is refused on any address that is not loopback
 * (127.0.0.0/8, ::1), since it would carry passwords in clear; starttls
 * (RFC 3207, port 587) and tls (RFC 8314 implicit TLS, port 465) are
 * accepted on any address: postern-tlsd sits in front of postern-smtpd.
 */
#ifndef POSTERN_MASTER_LISTENADDR_H
#define POSTERN_MASTER_LISTENADDR_H

#include <stddef.h>

#include "conf.h"

/* Parse value into *out; 0, or -1 with the reason in err[errcap]. */
int listenaddr_parse(const char *value, struct listen_spec *out,
                     char *err, size_t errcap);

/* 1 if a and b are the same address and port. */
int listenaddr_same(const struct listen_spec *a, const struct listen_spec *b);

#endif
