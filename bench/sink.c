/*
 * sink.c — the SMTP sink of the delivery scenario D (bench/run.py): a
 * single-threaded poll() server on 127.0.0.1 that accepts any number of
 * plaintext SMTP sessions, says 250 to everything (EHLO with PIPELINING
 * and 8BITMIME, no STARTTLS), throws message bodies away and counts the
 * messages it acknowledged after the final dot.  Bench tool, not part of
 * postern; never run by `make check`.
 *
 *   sink --port N --expect M [--max-seconds T] [--ready-file F]
 *
 * Listens (port 0 = any free port; the bound port is printed as
 * "PORT n"), creates F once listening, and exits after acknowledging M
 * messages (plus 1 s for the clients' QUITs) or after T seconds
 * (default 600), printing
 *   RESULT msgs=N first=S last=S sessions=K
 * with first/last the CLOCK_MONOTONIC seconds of the first and last
 * acknowledged message (comparable with Python's time.monotonic() on
 * Linux).  Exit 0 if M messages came, 1 otherwise.  Every session's
 * input is bounded (a command line over 1000 bytes closes it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 512
#define LINE_MAX_BYTES 1000
#define OUT_MAX 4096

struct sess {
	int fd;
	int data;			/* in DATA: looking for CRLF.CRLF */
	unsigned state;			/* DATA: bytes of "\r\n.\r\n" matched */
	char line[LINE_MAX_BYTES + 1];
	size_t llen;
	char out[OUT_MAX];
	size_t olen;
	int closing;
};

static struct sess sess[MAX_CONN];
static struct pollfd pfd[MAX_CONN + 1];
static unsigned long msgs, sessions;
static double first_t, last_t;

/* CLOCK_MONOTONIC in seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Queue a reply; the session closes if its output buffer is full. */
static void reply(struct sess *s, const char *r)
{
	size_t n = strlen(r);

	if (s->olen + n > sizeof(s->out)) {
		s->closing = 1;
		return;
	}
	memcpy(s->out + s->olen, r, n);
	s->olen += n;
}

/* Case-insensitive prefix test of a command line. */
static int verb(const char *line, const char *v)
{
	return strncasecmp(line, v, strlen(v)) == 0;
}

/* One command line (without CRLF). */
static void command(struct sess *s)
{
	const char *l = s->line;

	if (verb(l, "EHLO"))
		reply(s, "250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n");
	else if (verb(l, "HELO") || verb(l, "MAIL") || verb(l, "RCPT") || verb(l, "RSET") ||
	         verb(l, "NOOP"))
		reply(s, "250 ok\r\n");
	else if (verb(l, "DATA")) {
		reply(s, "354 go\r\n");
		s->data = 1;
		s->state = 2;		/* the CRLF before DATA's body counts */
	} else if (verb(l, "QUIT")) {
		reply(s, "221 bye\r\n");
		s->closing = 1;
	} else
		reply(s, "502 no\r\n");
}

/* Message bytes: find CRLF.CRLF (the state machine starts as if a CRLF
 * had just been seen, so an empty body's "." ends it too). */
static size_t body(struct sess *s, const char *p, size_t n)
{
	static const char end[] = "\r\n.\r\n";

	for (size_t i = 0; i < n; i++) {
		if (p[i] == end[s->state])
			s->state++;
		else
			s->state = p[i] == '\r' ? 1 : 0;
		if (s->state == 5) {
			double t = now();

			if (msgs == 0)
				first_t = t;
			last_t = t;
			msgs++;
			s->data = 0;
			s->llen = 0;
			reply(s, "250 queued\r\n");
			return i + 1;
		}
	}
	return n;
}

/* Bytes from the client: commands and bodies. */
static void input(struct sess *s, const char *p, size_t n)
{
	while (n > 0 && !s->closing) {
		if (s->data) {
			size_t used = body(s, p, n);

			p += used;
			n -= used;
			continue;
		}
		if (*p == '\n') {
			if (s->llen > 0 && s->line[s->llen - 1] == '\r')
				s->llen--;
			s->line[s->llen] = '\0';
			command(s);
			s->llen = 0;
		} else if (s->llen >= LINE_MAX_BYTES)
			s->closing = 1;
		else
			s->line[s->llen++] = *p;
		p++;
		n--;
	}
}

/* Write what is queued; 0, or -1 if the session is done. */
static int flush_out(struct sess *s)
{
	while (s->olen > 0) {
		ssize_t w = write(s->fd, s->out, s->olen);

		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (w <= 0)
			return -1;
		memmove(s->out, s->out + w, s->olen - (size_t)w);
		s->olen -= (size_t)w;
	}
	return s->closing ? -1 : 0;
}

/* Listening socket on 127.0.0.1:port; prints the bound port. */
static int listen_on(unsigned port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		perror("sink: listen");
		exit(2);
	}
	printf("PORT %u\n", (unsigned)ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

/* Accept every pending connection into a free slot. */
static void accept_all(int lfd)
{
	for (;;) {
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		size_t i;

		if (fd < 0)
			return;
		for (i = 0; i < MAX_CONN && sess[i].fd >= 0; i++)
			;
		if (i == MAX_CONN) {
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(&sess[i], 0, sizeof(sess[i]));
		sess[i].fd = fd;
		sessions++;
		reply(&sess[i], "220 sink ESMTP\r\n");
		(void)flush_out(&sess[i]);
	}
}

/* Serve one readable/writable session; closes it when done. */
static void serve(struct sess *s, short rev)
{
	char buf[65536];

	if (rev & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t r = read(s->fd, buf, sizeof(buf));

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			s->closing = 1, s->olen = 0;
		else if (r > 0)
			input(s, buf, (size_t)r);
	}
	if (flush_out(s) != 0) {
		close(s->fd);
		s->fd = -1;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", 1, 0, 'p' }, { "expect", 1, 0, 'e' },
		{ "max-seconds", 1, 0, 'T' }, { "ready-file", 1, 0, 'r' }, { 0, 0, 0, 0 },
	};
	unsigned long expect = 0;
	unsigned port = 0;
	double max_s = 600, end;
	const char *ready = NULL;
	int c, lfd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'e': expect = strtoul(optarg, NULL, 10); break;
		case 'T': max_s = strtod(optarg, NULL); break;
		case 'r': ready = optarg; break;
		default:
			fprintf(stderr, "usage: sink --port N --expect M [--max-seconds T] "
			        "[--ready-file F]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < MAX_CONN; i++)
		sess[i].fd = -1;
	lfd = listen_on(port);
	if (ready != NULL) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0)
			close(fd);
	}
	end = now() + max_s;
	while (now() < end) {
		size_t n = 0, idx[MAX_CONN];

		/* after the last expected message, 1 s more for the QUITs, so
		 * the delivering side sees a clean end of its sessions */
		if (expect > 0 && msgs >= expect && now() > last_t + 1.0)
			break;

		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		for (size_t i = 0; i < MAX_CONN; i++) {
			if (sess[i].fd < 0)
				continue;
			idx[n - 1] = i;
			pfd[n].fd = sess[i].fd;
			pfd[n++].events = (short)(POLLIN | (sess[i].olen ? POLLOUT : 0));
		}
		if (poll(pfd, n, 200) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			accept_all(lfd);
		for (size_t k = 1; k < n; k++) {
			if (pfd[k].revents)
				serve(&sess[idx[k - 1]], pfd[k].revents);
		}
	}
	/* the last acknowledgements go out before the exit */
	for (size_t i = 0; i < MAX_CONN; i++) {
		if (sess[i].fd >= 0) {
			int fl = fcntl(sess[i].fd, F_GETFL);

			(void)fcntl(sess[i].fd, F_SETFL, fl & ~O_NONBLOCK);
			(void)flush_out(&sess[i]);
		}
	}
	printf("RESULT msgs=%lu first=%.6f last=%.6f sessions=%lu\n", msgs, first_t, last_t,
	       sessions);
	return expect > 0 && msgs >= expect ? 0 : 1;
}
