/*
 * password.h — reading a password for postern-user: from the terminal
 * (/dev/tty, echo off with termios, restored afterwards, also on SIGINT)
 * or, with --password-stdin, one line from standard input.  Never from
 * argv (/proc/PID/cmdline is world-readable) or the environment.
 * A password is 1..PASSWORD_MAX bytes without NUL, CR or LF (what SASL
 * PLAIN/LOGIN can carry through postern-smtpd).
 */
#ifndef POSTERN_AUTH_PASSWORD_H
#define POSTERN_AUTH_PASSWORD_H

#include <stddef.h>

#define PASSWORD_MAX 256

/* Read into out[PASSWORD_MAX + 1]; confirm: ask twice (terminal only).
 * Returns the length, or -1 with the reason in *why. */
long password_read(int from_stdin, int confirm, char out[PASSWORD_MAX + 1],
                   const char **why);

#endif
