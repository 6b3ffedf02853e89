/*
 * password.c — reading a password without echo (password.h).  Process:
 * postern-user.  The buffers are wiped with sodium_memzero.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"

static int tty_fd = -1;
static struct termios tty_saved;

/* SIGINT/SIGTERM while echo is off: restore the terminal, then die. */
static void restore_and_die(int sig)
{
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A refused line: wipe what was read of it (password_read returns
 * read_line's result directly with --password-stdin), set why, -1. */
static long refuse(char out[PASSWORD_MAX + 1], const char **why, const char *reason)
{
	sodium_memzero(out, PASSWORD_MAX + 1);
	*why = reason;
	return -1;
}

/* Read one line from fd into out (at most PASSWORD_MAX + 1 bytes
 * looked at); -1 if too long, empty or with a forbidden byte, out wiped. */
static long read_line(int fd, char out[PASSWORD_MAX + 1], const char **why)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n == PASSWORD_MAX) {
			return refuse(out, why, "password longer than 256 bytes");
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\r')
		return refuse(out, why, "password contains CR");
	if (n == 0)
		return refuse(out, why, "empty password");
	if (memchr(out, '\0', n) != NULL || memchr(out, '\r', n) != NULL)
		return refuse(out, why, "password contains NUL or CR");
	return (long)n;
}

/* Prompt on the terminal with echo off. */
static long ask(const char *prompt, char out[PASSWORD_MAX + 1], const char **why)
{
	struct termios quiet;
	long n;

	(void)!write(tty_fd, prompt, strlen(prompt));
	if (tcgetattr(tty_fd, &tty_saved) != 0)
		return *why = "cannot read terminal settings", -1;
	quiet = tty_saved;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHOE | ECHOK | ECHONL);
	signal(SIGINT, restore_and_die);
	signal(SIGTERM, restore_and_die);
	if (tcsetattr(tty_fd, TCSAFLUSH, &quiet) != 0)
		return *why = "cannot turn echo off", -1;
	n = read_line(tty_fd, out, why);
	tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	(void)!write(tty_fd, "\n", 1);
	return n;
}

/* Read a password (see password.h). */
long password_read(int from_stdin, int confirm, char out[PASSWORD_MAX + 1],
                   const char **why)
{
	char again[PASSWORD_MAX + 1];
	long n, m;

	if (from_stdin)
		return read_line(STDIN_FILENO, out, why);
	tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty_fd < 0)
		return *why = "no terminal (use --password-stdin)", -1;
	n = ask("Password: ", out, why);
	if (n > 0 && confirm) {
		m = ask("Again: ", again, why);
		if (m != n || sodium_memcmp(out, again, (size_t)n) != 0) {
			*why = m < 0 ? *why : "the passwords differ";
			n = -1;
		}
		sodium_memzero(again, sizeof(again));
	}
	close(tty_fd);
	tty_fd = -1;
	if (n < 0)
		sodium_memzero(out, PASSWORD_MAX + 1);
	return n;
}
