/*
 * signals.h — the master's signals, all delivered through one signalfd so
 * that the poll loop handles them in order, with no async handler code:
 * SIGCHLD (reap), SIGTERM and SIGINT (shut down), SIGHUP (reload).
 * SIGPIPE is ignored (a client or pipe that went away is an error return).
 *
 * Process: postern (master).
 */
#ifndef POSTERN_MASTER_SIGNALS_H
#define POSTERN_MASTER_SIGNALS_H

/* What the loop must do after reading the signalfd. */
struct signals_seen {
	int chld, hup;
	int stop;		/* SIGTERM or SIGINT, the last one */
};

/* Block the four signals, ignore SIGPIPE, return a non-blocking
 * close-on-exec signalfd; exits 111 on failure. */
int signals_setup(void);

/* Read every pending signal from fd into seen (which is zeroed first). */
void signals_read(int fd, struct signals_seen *seen);

#endif
