/*
 * login.h — what a login is: an e-mail address (RFC 5321 §4.1.2 Mailbox
 * with a dot-atom local part and a domain of LDH labels, ASCII only),
 * at most LOGIN_MAX bytes, local part at most 64.  Its domain is compared
 * case-insensitively, so both postern-user (when storing) and
 * postern-authd (when looking up) lower-case the domain; the local part
 * is kept as written.  Shared by postern-user and postern-authd.
 */
#ifndef POSTERN_AUTH_LOGIN_H
#define POSTERN_AUTH_LOGIN_H

#include <stddef.h>

#define LOGIN_MAX 254
#define LOGIN_LOCAL_MAX 64

/* Check s[0..n) and copy it, domain lower-cased, NUL-terminated, into
 * out[LOGIN_MAX + 1].  0, or -1 if it is not a valid login. */
int login_normalize(const char *s, size_t n, char out[LOGIN_MAX + 1]);

#endif
