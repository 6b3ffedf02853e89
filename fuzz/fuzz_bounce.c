/*
 * fuzz_bounce.c — libFuzzer target for the report composer
 * (queue/bounce_compose.c and its helpers dsn_text.c, bounce_orig.c).
 * The input is split at NUL bytes into: flags, sender, recipient address,
 * ORCPT, ENVID, status, reply text, remote host; the rest is the original
 * message (through a memfd, as the composer preads a descriptor).  The
 * envelope is written with envelope_write and loaded back, so only what
 * the reader accepts reaches the composer.  Whatever the bytes, a report
 * that is produced must keep the composer's promises: CRLF lines of at
 * most 998 octets, no NUL, 8-bit only in a To: line when *utf8 is set,
 * and the boundary only in its parameter and the four delimiters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "../queue/bounce_compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 8

/* Abort unless cond holds. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* The report collected in memory. */
struct mem {
	unsigned char *p;
	size_t len, cap;
};

/* bounce_sink write into struct mem. */
static int mem_write(void *ctx, const void *p, size_t n)
{
	struct mem *m = ctx;

	if (m->cap - m->len < n) {
		size_t cap = (m->cap + n) * 2;
		unsigned char *q = realloc(m->p, cap);

		if (q == NULL)
			return -1;
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return 0;
}

/* Occurrences of needle in p[0..n). */
static size_t count(const unsigned char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), c = 0;
	const unsigned char *q = p;

	while (k > 0 && (q = memmem(q, n - (size_t)(q - p), needle, k)) != NULL) {
		c++;
		q += k;
	}
	return c;
}

/* The composer's promises about the report m. */
static void check_report(const struct mem *m, int utf8)
{
	static const char param[] = "\r\n\tboundary=\"";
	size_t start = 0;
	const unsigned char *b;
	char boundary[80], delim[84];
	size_t bl;

	check(m->len >= 2 && m->p[m->len - 2] == '\r' && m->p[m->len - 1] == '\n');
	for (size_t i = 0; i < m->len; i++) {
		if (m->p[i] == '\n') {
			check(i > start && m->p[i - 1] == '\r');
			check(i - 1 - start <= BOUNCE_LINE_MAX);
			start = i + 1;
			continue;
		}
		check(m->p[i] != 0);
		check(m->p[i] != '\r' || (i + 1 < m->len && m->p[i + 1] == '\n'));
		if (m->p[i] >= 0x80)
			check(utf8 && m->len - start > 5 && memcmp(m->p + start, "To: <", 5) == 0);
	}
	/* The parameter on its own folded line (a To: may say boundary=" too). */
	b = memmem(m->p, m->len, param, sizeof param - 1);
	check(b != NULL);
	b += sizeof param - 1;
	bl = (size_t)((const unsigned char *)memchr(b, '"', 64) - b);
	check(bl > 0 && bl < sizeof boundary);
	memcpy(boundary, b, bl);
	boundary[bl] = '\0';
	check(count(m->p, m->len, boundary) == 5);
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, bl + 1);
	check(count(m->p, m->len, delim) == 4);
}

/* Split data at NULs into f[NFIELDS-1] strings (copied) and the rest. */
static size_t split(const uint8_t *data, size_t size, char *f[NFIELDS])
{
	size_t off = 0;

	for (int i = 0; i < NFIELDS; i++) {
		const uint8_t *z = memchr(data + off, 0, size - off);
		size_t n = z ? (size_t)(z - (data + off)) : size - off;

		f[i] = malloc(n + 1);
		check(f[i] != NULL);
		memcpy(f[i], data + off, n);
		f[i][n] = '\0';
		off += n + (z ? 1 : 0);
	}
	return off;
}

/* A memfd holding p[0..n). */
static int memfd_of(const void *p, size_t n)
{
	int fd = memfd_create("fuzz", 0);

	check(fd >= 0);
	check(n == 0 || write(fd, p, n) == (ssize_t)n);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char *f[NFIELDS];
	unsigned char rcpts[64];
	size_t rl = 0, off;
	struct envelope_in in = { 0 };
	struct envelope e;
	struct dsn_rcpt r = { 0 };
	struct bounce_job j = { 0 };
	struct mem m = { 0 };
	int envfd, msgfd, utf8 = 0;
	unsigned flags;

	if (!init) {
		check(sodium_init() >= 0);
		init = 1;
	}
	off = split(data, size, f);
	flags = (unsigned char)f[0][0];
	check(envelope_rcpt_encode(rcpts, sizeof rcpts, &rl, "x@y", "", "") == 0);
	in.id = "aaaaaaaaaaaaaaaaaaaa";
	in.sender = f[1];
	in.user = "u";
	in.session = in.ip = in.mode = "";
	in.time = 1700000000;
	in.body = "7bit";
	in.ret = (flags & 4) ? "full" : "hdrs";
	in.envid = f[4];
	in.rcpts = rcpts;
	in.rcpt_len = rl;
	in.header = (flags & 16) ? "Received: by h;\r\n\tdate\r\n" : "";
	in.header_len = strlen(in.header);
	envfd = memfd_create("env", 0);
	check(envfd >= 0);
	if (envelope_write(envfd, &in) == 0 && envelope_load(&e, envfd) == 0) {
		msgfd = memfd_of(data + off, size - off);
		r = (struct dsn_rcpt){ f[2], f[3], f[5], (flags & 8) ? 550 : 0, f[6], f[7], 1 };
		j = (struct bounce_job){ "mx.example.org", &e, msgfd, (enum dsn_action)(flags % 3),
		                         &r, 1, 1700000000, 1700432000 };
		if (bounce_compose(&j, &(struct bounce_sink){ mem_write, &m }, &utf8) == 0)
			check_report(&m, utf8);
		else
			check(e.sender.n == 0);	/* the only refusal left: <> */
		free(m.p);
		close(msgfd);
		envelope_free(&e);
	}
	close(envfd);
	for (int i = 0; i < NFIELDS; i++)
		free(f[i]);
	return 0;
}
