/*
 * bench/loadclient.c — SMTP submission load client for the benchmarks
 * (bench/README.md).  Not part of any server process and never run by
 * `make check`.
 *
 * One thread per session, blocking sockets with SO_RCVTIMEO/SO_SNDTIMEO so
 * every wait is bounded.  Each session: connect (TCP_NODELAY), greeting,
 * EHLO, STARTTLS or implicit TLS (OpenSSL, no certificate check: the bench
 * talks to its own self-signed instance), EHLO, AUTH PLAIN, then M messages
 * of S bytes (MAIL, RCPT, DATA, body, one write when --pipelining), QUIT.
 * With --new-session each message gets its own TCP+TLS+AUTH session.  With
 * --hold SECONDS the sessions stop after AUTH and stay idle (memory
 * scenario); --ready-file PATH is created once all of them are authenticated,
 * and removing it ends the hold early.
 *
 * Every reply code is checked; only a 250 after the end of data counts as a
 * message.  Output: human-readable lines, then one `RESULT key=value ...`
 * line for bench/run.sh.  Failure policy: a failed session is counted by the
 * kind of failure and the thread moves on (or stops at --max-seconds).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

enum mode { MODE_PLAIN, MODE_STARTTLS, MODE_TLS };

enum err_kind {
	E_CONNECT, E_GREETING, E_EHLO, E_STARTTLS, E_TLS, E_AUTH, E_MAIL,
	E_RCPT, E_DATA, E_BODY, E_IO, E_KINDS
};
static const char *const err_names[E_KINDS] = {
	"connect", "greeting", "ehlo", "starttls", "tls", "auth", "mail",
	"rcpt", "data", "final", "io",
};

struct opts {
	const char *host;
	int port;
	enum mode mode;
	int sessions;
	int messages;
	size_t size;
	int new_session;
	int pipelining;
	const char *user;
	const char *password;
	const char *from;
	const char *to;
	double max_seconds;
	double hold;
	const char *ready_file;
	int quiet;
};

static struct opts o = {
	.host = "127.0.0.1", .port = 587, .mode = MODE_STARTTLS, .sessions = 1,
	.messages = 10, .size = 4096, .user = "bench@localhost",
	.password = "bench", .max_seconds = 60,
};

static SSL_CTX *ctx;
static char *message;           /* the dot-safe body, ending with CRLF.CRLF */
static size_t message_len;
static char auth_line[1024];
static double deadline;
static atomic_long errors[E_KINDS];
static atomic_int authed;       /* sessions past AUTH (hold mode) */
static atomic_int stop;         /* hold mode: the ready file was removed */

/* Per-thread results. */
struct worker {
	pthread_t th;
	double *lat;            /* per-message latency, seconds */
	size_t nlat;
	double *setup;          /* per-session set-up latency, seconds */
	size_t nsetup;
	size_t cap_lat, cap_setup;
};

/* One connection: socket, optional TLS, a read buffer. */
struct conn {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t off, len;
};

/* Monotonic clock in seconds. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Raw read from socket or TLS; <= 0 on EOF/error. */
static ssize_t conn_read(struct conn *c, char *p, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		return r;
	}
	return read(c->fd, p, n);
}

/* Write all of p (one SSL_write or write loop); 0 ok, -1 error. */
static int conn_write(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;
		size_t chunk = n > (1u << 30) ? (1u << 30) : n;

		if (c->ssl) {
			w = SSL_write(c->ssl, p, (int)chunk);
		} else {
			w = write(c->fd, p, chunk);
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one line (without CRLF) into line; 0 ok, -1 EOF/error/overlong. */
static int read_line(struct conn *c, char *line, size_t cap)
{
	size_t n = 0;

	for (;;) {
		while (c->off < c->len) {
			char ch = c->buf[c->off++];

			if (ch == '\n') {
				if (n > 0 && line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				return 0;
			}
			if (n + 1 >= cap)
				return -1;
			line[n++] = ch;
		}
		ssize_t r = conn_read(c, c->buf, sizeof c->buf);
		if (r <= 0)
			return -1;
		c->off = 0;
		c->len = (size_t)r;
	}
}

/* Read one (multi-line) reply; its code, or -1.  text gets the last line. */
static int read_reply(struct conn *c, char *text, size_t cap)
{
	char line[1024];

	for (int lines = 0; lines < 100; lines++) {
		if (read_line(c, line, sizeof line) < 0)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5')
			return -1;
		if (line[3] == ' ' || line[3] == '\0') {
			if (text)
				snprintf(text, cap, "%s", line);
			return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		}
		if (line[3] != '-')
			return -1;
	}
	return -1;
}

/* Send a command and expect a reply code class; 0 ok, -1 failed. */
static int cmd(struct conn *c, const char *line, int want)
{
	if (conn_write(c, line, strlen(line)) < 0)
		return -1;
	return read_reply(c, NULL, 0) == want ? 0 : -1;
}

/* Count an error of a kind; always -1. */
static int fail(enum err_kind k)
{
	atomic_fetch_add(&errors[k], 1);
	return -1;
}

/* TCP connect with NODELAY and timeouts; fd or -1. */
static int tcp_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port) };
	struct timeval tv = { .tv_sec = 30 };
	int one = 1;
	int fd;

	if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Client TLS handshake on c->fd; 0 ok. */
static int tls_start(struct conn *c)
{
	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (SSL_connect(c->ssl) != 1) {
		ERR_clear_error();
		return -1;
	}
	c->off = c->len = 0;
	return 0;
}

/* Connect, greet, (STARTTLS|TLS), EHLO, AUTH; 0 ok, -1 counted error. */
static int session_open(struct conn *c)
{
	memset(c, 0, sizeof *c);
	c->fd = tcp_connect();
	if (c->fd < 0)
		return fail(E_CONNECT);
	if (o.mode == MODE_TLS && tls_start(c) < 0)
		return fail(E_TLS);
	if (read_reply(c, NULL, 0) != 220)
		return fail(E_GREETING);
	if (cmd(c, "EHLO bench.example\r\n", 250) < 0)
		return fail(E_EHLO);
	if (o.mode == MODE_STARTTLS) {
		if (cmd(c, "STARTTLS\r\n", 220) < 0)
			return fail(E_STARTTLS);
		if (c->off != c->len)   /* bytes before the handshake: refuse */
			return fail(E_STARTTLS);
		if (tls_start(c) < 0)
			return fail(E_TLS);
		if (cmd(c, "EHLO bench.example\r\n", 250) < 0)
			return fail(E_EHLO);
	}
	if (cmd(c, auth_line, 235) < 0)
		return fail(E_AUTH);
	return 0;
}

/* Close: QUIT (reply not required), TLS shutdown, close. */
static void session_close(struct conn *c, int quit)
{
	if (c->fd >= 0 && quit && conn_write(c, "QUIT\r\n", 6) == 0)
		(void)read_reply(c, NULL, 0);
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* One message on an open session; 0 if acknowledged with 250. */
static int send_message(struct conn *c)
{
	char env[1200];
	int n = snprintf(env, sizeof env, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", o.from, o.to);

	if (n < 0 || (size_t)n >= sizeof env)
		return fail(E_MAIL);
	if (o.pipelining) {
		if (conn_write(c, env, (size_t)n) < 0)
			return fail(E_IO);
		if (read_reply(c, NULL, 0) != 250)
			return fail(E_MAIL);
		if (read_reply(c, NULL, 0) != 250)
			return fail(E_RCPT);
		if (read_reply(c, NULL, 0) != 354)
			return fail(E_DATA);
	} else {
		char line[300];

		snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", o.from);
		if (cmd(c, line, 250) < 0)
			return fail(E_MAIL);
		snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", o.to);
		if (cmd(c, line, 250) < 0)
			return fail(E_RCPT);
		if (cmd(c, "DATA\r\n", 354) < 0)
			return fail(E_DATA);
	}
	if (conn_write(c, message, message_len) < 0)
		return fail(E_IO);
	if (read_reply(c, NULL, 0) != 250)
		return fail(E_BODY);
	return 0;
}

/* Append v to a growing array; silently drops on allocation failure. */
static void push(double **arr, size_t *n, size_t *cap, double v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		double *p = realloc(*arr, nc * sizeof **arr);
		if (!p)
			return;
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
}

/* Hold mode: authenticate, then idle until the hold ends. */
static void run_hold(struct worker *w)
{
	struct conn *c = malloc(sizeof *c);
	double t0 = now();

	if (!c)
		return;
	if (session_open(c) == 0) {
		push(&w->setup, &w->nsetup, &w->cap_setup, now() - t0);
		atomic_fetch_add(&authed, 1);
		while (!atomic_load(&stop) && now() < deadline)
			usleep(50000);
		session_close(c, 1);
	} else {
		session_close(c, 0);
	}
	free(c);
}

/* A worker thread: M messages on one session, or one session per message. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn *c = malloc(sizeof *c);
	int open = 0;

	if (!c)
		return NULL;
	if (o.hold > 0) {
		free(c);
		run_hold(w);
		return NULL;
	}
	for (int i = 0; i < o.messages && now() < deadline; i++) {
		double t0 = now();
		if (!open) {
			if (session_open(c) < 0) {
				session_close(c, 0);
				continue;
			}
			push(&w->setup, &w->nsetup, &w->cap_setup, now() - t0);
			open = 1;
		}
		double t1 = now();
		if (send_message(c) == 0) {
			double t2 = now();
			/* per-message latency; with --new-session it includes set-up */
			push(&w->lat, &w->nlat, &w->cap_lat, o.new_session ? t2 - t0 : t2 - t1);
		} else {
			session_close(c, 0);
			open = 0;
			continue;
		}
		if (o.new_session) {
			session_close(c, 1);
			open = 0;
		}
	}
	if (open)
		session_close(c, 1);
	free(c);
	return NULL;
}

/* qsort comparator for doubles. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of a sorted array, in milliseconds. */
static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1] * 1000.0;
}

/* Build the message: headers, lines of 'x' up to size, then CRLF.CRLF. */
static int build_message(void)
{
	size_t cap = o.size + 1024;
	size_t n;

	message = malloc(cap);
	if (!message)
		return -1;
	int h = snprintf(message, cap, "From: <%s>\r\nTo: <%s>\r\nSubject: postern bench\r\n\r\n",
			 o.from, o.to);
	if (h < 0 || (size_t)h >= cap)
		return -1;
	n = (size_t)h;
	while (n + 2 < o.size) {
		size_t line = o.size - n - 2;
		if (line > 76)
			line = 76;
		memset(message + n, 'x', line);
		n += line;
		memcpy(message + n, "\r\n", 2);
		n += 2;
	}
	memcpy(message + n, ".\r\n", 3);
	message_len = n + 3;
	return 0;
}

/* AUTH PLAIN line with the base64 of NUL user NUL password (RFC 4616). */
static int build_auth(void)
{
	unsigned char raw[520];
	unsigned char b64[800];
	size_t ul = strlen(o.user), pl = strlen(o.password);

	if (ul > 255 || pl > 255)
		return -1;
	raw[0] = '\0';
	memcpy(raw + 1, o.user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, o.password, pl);
	EVP_EncodeBlock(b64, raw, (int)(2 + ul + pl));
	int n = snprintf(auth_line, sizeof auth_line, "AUTH PLAIN %s\r\n", (char *)b64);
	return n < 0 || (size_t)n >= sizeof auth_line ? -1 : 0;
}

/* Print usage and exit 2. */
static void usage(void)
{
	fprintf(stderr,
		"usage: loadclient [--host IP] [--port N] [--mode starttls|tls|plain]\n"
		"  [--sessions N] [--messages M] [--size S] [--new-session] [--pipelining]\n"
		"  [--user LOGIN] [--password PW] [--from ADDR] [--to ADDR]\n"
		"  [--max-seconds T] [--hold T --ready-file PATH] [--quiet]\n"
		"--new-session: one TCP+TLS+AUTH session per message, N at a time;\n"
		"--hold T: N sessions authenticate and stay idle T seconds (or until\n"
		"the --ready-file, created when all are authenticated, is removed).\n");
	exit(2);
}

/* Parse the command line into o. */
static void parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "mode", 1, 0, 'M' },
		{ "sessions", 1, 0, 'n' }, { "messages", 1, 0, 'm' }, { "size", 1, 0, 's' },
		{ "new-session", 0, 0, 'N' }, { "pipelining", 0, 0, 'P' },
		{ "user", 1, 0, 'u' }, { "password", 1, 0, 'w' }, { "from", 1, 0, 'f' },
		{ "to", 1, 0, 't' }, { "max-seconds", 1, 0, 'T' }, { "hold", 1, 0, 'H' },
		{ "ready-file", 1, 0, 'R' }, { "quiet", 0, 0, 'q' }, { 0, 0, 0, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'M':
			if (!strcmp(optarg, "plain")) o.mode = MODE_PLAIN;
			else if (!strcmp(optarg, "starttls")) o.mode = MODE_STARTTLS;
			else if (!strcmp(optarg, "tls")) o.mode = MODE_TLS;
			else usage();
			break;
		case 'n': o.sessions = atoi(optarg); break;
		case 'm': o.messages = atoi(optarg); break;
		case 's': o.size = (size_t)strtoul(optarg, NULL, 10); break;
		case 'N': o.new_session = 1; break;
		case 'P': o.pipelining = 1; break;
		case 'u': o.user = optarg; break;
		case 'w': o.password = optarg; break;
		case 'f': o.from = optarg; break;
		case 't': o.to = optarg; break;
		case 'T': o.max_seconds = atof(optarg); break;
		case 'H': o.hold = atof(optarg); break;
		case 'R': o.ready_file = optarg; break;
		case 'q': o.quiet = 1; break;
		default: usage();
		}
	}
	if (!o.from)
		o.from = o.user;
	if (!o.to)
		o.to = "sink@example.net";
	if (o.port < 1 || o.port > 65535 || o.sessions < 1 || o.sessions > 5000 ||
	    o.messages < 1 || o.size < 64 || o.size > (64u << 20) || o.max_seconds <= 0 ||
	    strlen(o.from) > 256 || strlen(o.to) > 256)
		usage();
}

/* Hold mode: create the ready file once every session is authenticated. */
static void wait_ready(void)
{
	int signalled = 0;

	while (now() < deadline) {
		if (!signalled && atomic_load(&authed) == o.sessions) {
			if (o.ready_file) {
				int fd = open(o.ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
				if (fd >= 0)
					close(fd);
			}
			signalled = 1;
		} else if (signalled && o.ready_file && access(o.ready_file, F_OK) != 0) {
			/* the caller has measured: release the sessions now */
			atomic_store(&stop, 1);
			return;
		}
		usleep(20000);
	}
}

/* Merge, sort and print the results. */
static void report(struct worker *ws, double took)
{
	size_t nl = 0, ns = 0;
	long errs = 0;

	for (int i = 0; i < o.sessions; i++) {
		nl += ws[i].nlat;
		ns += ws[i].nsetup;
	}
	double *lat = calloc(nl + 1, sizeof *lat), *set = calloc(ns + 1, sizeof *set);
	if (!lat || !set)
		exit(111);
	nl = ns = 0;
	for (int i = 0; i < o.sessions; i++) {
		memcpy(lat + nl, ws[i].lat, ws[i].nlat * sizeof *lat);
		nl += ws[i].nlat;
		memcpy(set + ns, ws[i].setup, ws[i].nsetup * sizeof *set);
		ns += ws[i].nsetup;
	}
	qsort(lat, nl, sizeof *lat, cmp_double);
	qsort(set, ns, sizeof *set, cmp_double);
	if (!o.quiet) {
		printf("messages acknowledged: %zu in %.3f s = %.1f msg/s\n", nl, took,
		       (double)nl / took);
		printf("latency per message ms: p50 %.2f p90 %.2f p99 %.2f\n",
		       pct(lat, nl, 50), pct(lat, nl, 90), pct(lat, nl, 99));
		printf("session set-up ms (%zu): p50 %.2f p90 %.2f p99 %.2f\n", ns,
		       pct(set, ns, 50), pct(set, ns, 90), pct(set, ns, 99));
	}
	printf("RESULT msgs=%zu secs=%.3f rate=%.1f p50=%.2f p90=%.2f p99=%.2f "
	       "sessions=%zu setup_p50=%.2f setup_p90=%.2f setup_p99=%.2f",
	       nl, took, (double)nl / took, pct(lat, nl, 50), pct(lat, nl, 90),
	       pct(lat, nl, 99), ns, pct(set, ns, 50), pct(set, ns, 90), pct(set, ns, 99));
	for (int k = 0; k < E_KINDS; k++) {
		long e = atomic_load(&errors[k]);
		errs += e;
		if (e)
			printf(" err_%s=%ld", err_names[k], e);
	}
	printf(" errors=%ld\n", errs);
	free(lat);
	free(set);
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	if (build_message() < 0 || build_auth() < 0)
		usage();
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return 111;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* No session cache: every session pays a full handshake, as a client
	 * that reconnects without tickets would. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

	struct worker *ws = calloc((size_t)o.sessions, sizeof *ws);
	if (!ws)
		return 111;
	double t0 = now();
	deadline = t0 + (o.hold > 0 ? o.hold : o.max_seconds);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < o.sessions; i++) {
		if (pthread_create(&ws[i].th, &attr, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "loadclient: pthread_create: %s\n", strerror(errno));
			return 111;
		}
	}
	if (o.hold > 0)
		wait_ready();
	for (int i = 0; i < o.sessions; i++)
		pthread_join(ws[i].th, NULL);
	report(ws, now() - t0);
	for (int i = 0; i < o.sessions; i++) {
		free(ws[i].lat);
		free(ws[i].setup);
	}
	free(ws);
	free(message);
	SSL_CTX_free(ctx);
	return 0;
}
