/*
 * envelope.c — writing and reading the envelope CDB (format in
 * envelope.h).  The writer runs in postern-queued at commit (cdb_make:
 * write, lseek, malloc); the reader runs in queued's admin handler and in
 * the fuzz target fuzz/fuzz_envelope.c, over bytes that may be corrupt.
 * Failure policy: the reader fails closed (see envelope.h).
 */
#include <errno.h>
#include <string.h>

#include "envelope.h"
#include "netstring.h"
#include "qdir.h"

/* Add one record; -1 on failure. */
static int add(struct cdb_make *m, const char *key, const void *v, size_t n)
{
	if (n > 0x7fffffffu)
		return -1;
	return cdb_make_add(m, key, (unsigned)strlen(key), v, (unsigned)n);
}

/* Add a string record. */
static int add_str(struct cdb_make *m, const char *key, const char *v)
{
	return add(m, key, v, strlen(v));
}

/* Add a decimal number record. */
static int add_u64(struct cdb_make *m, const char *key, uint64_t v)
{
	char dig[24];
	size_t n = sizeof dig;

	do {
		dig[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return add(m, key, dig + n, sizeof dig - n);
}

/* The fixed single-valued records. */
static int add_fixed(struct cdb_make *m, const struct envelope_in *e)
{
	return add_str(m, "version", ENV_VERSION) | add_str(m, "id", e->id) |
	       add_str(m, "sender", e->sender) | add_str(m, "user", e->user) |
	       add_str(m, "session", e->session) | add_str(m, "ip", e->ip) |
	       add_u64(m, "port", e->port) | add_str(m, "mode", e->mode) |
	       add_u64(m, "time", e->time) | add_u64(m, "size", e->size) |
	       add_str(m, "body", e->body) | add_str(m, "smtputf8", e->smtputf8 ? "1" : "0") |
	       add_str(m, "ret", e->ret) | add_str(m, "envid", e->envid) |
	       add(m, "header", e->header, e->header_len);
}

/* Write the envelope (see envelope.h). */
int envelope_write(int fd, const struct envelope_in *e)
{
	struct cdb_make m;
	size_t off = 0;
	int bad;

	if (cdb_make_start(&m, fd) != 0)
		return -1;
	bad = add_fixed(&m, e) != 0;
	while (!bad && off < e->rcpt_len) {
		const unsigned char *p;
		size_t n, used;

		if (netstring_parse(e->rcpts + off, e->rcpt_len - off, FRAME_MAX, &p, &n,
		                    &used) != NS_OK)
			bad = 1;
		else {
			bad = add(&m, "rcpt", p, n) != 0;
			off += used;
		}
	}
	if (cdb_make_finish(&m) != 0 || bad) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Append one recipient record (see envelope.h). */
int envelope_rcpt_encode(unsigned char *buf, size_t cap, size_t *len,
                         const char *addr, const char *notify, const char *orcpt)
{
	struct frame_writer w;
	const unsigned char *f;
	size_t n;

	if (*len > cap)
		return -1;
	fw_init(&w, buf + *len, cap - *len);
	fw_str(&w, addr);
	fw_str(&w, notify);
	fw_str(&w, orcpt);
	f = fw_finish(&w, &n);
	if (f == NULL)
		return -1;
	memmove(buf + *len, f, n);
	*len += n;
	return 0;
}

/* Look up exactly one record for key, at most max bytes; -1 otherwise. */
static int get1(struct envelope *e, const char *key, struct env_field *f, size_t max)
{
	struct cdb_find cf;
	unsigned klen = (unsigned)strlen(key);
	int count = 0;

	if (cdb_findinit(&cf, &e->cdb, key, klen) < 0)
		return -1;
	while (cdb_findnext(&cf) > 0) {
		unsigned n = cdb_datalen(&e->cdb);

		if (++count > 1 || n > max)
			return -1;
		f->p = cdb_get(&e->cdb, n, cdb_datapos(&e->cdb));
		f->n = n;
		if (f->p == NULL)
			return -1;
	}
	return count == 1 ? 0 : -1;
}

/* 1 if f holds only printable ASCII (and, if crlf, CR LF HT). */
static int printable(const struct env_field *f, int crlf)
{
	for (size_t i = 0; i < f->n; i++) {
		unsigned char c = f->p[i];

		if ((c < 0x20 || c > 0x7e) && !(crlf && (c == '\r' || c == '\n' || c == '\t')))
			return 0;
	}
	return 1;
}

/* Decimal number field (no sign, no leading zero, < 2^63). */
static int number(const struct env_field *f, uint64_t *v)
{
	uint64_t x = 0;

	if (f->n == 0 || f->n > 18 || (f->n > 1 && f->p[0] == '0'))
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(f->p[i] - '0');
	}
	*v = x;
	return 0;
}

/* 1 if f equals the word. */
static int equals(const struct env_field *f, const char *w)
{
	return f->n == strlen(w) && memcmp(f->p, w, f->n) == 0;
}

/* Check one recipient record's shape. */
static int rcpt_fields(const unsigned char *p, size_t n, struct env_field f[3])
{
	struct frame_reader r;

	fr_init(&r, p, n);
	if (fr_bytes(&r, &f[0].p, &f[0].n, ENV_ADDR_MAX) < 0 ||
	    fr_bytes(&r, &f[1].p, &f[1].n, ENV_FIELD_MAX) < 0 ||
	    fr_bytes(&r, &f[2].p, &f[2].n, ENV_XTEXT_MAX) < 0 || fr_end(&r) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (!printable(&f[i], 0) && i != 0)
			return -1;
	/* The address may be UTF-8 (SMTPUTF8) but never a control byte. */
	for (size_t i = 0; i < f[0].n; i++)
		if (f[0].p[i] < 0x20 || f[0].p[i] == 0x7f)
			return -1;
	return f[0].n > 0 ? 0 : -1;
}

/* Count (and check) every recipient. */
static int count_rcpt(void *ctx, const struct env_field *a, const struct env_field *nt,
                      const struct env_field *o)
{
	(void)a, (void)nt, (void)o;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* Every single-valued field present, in range and well-formed. */
static int check_fields(struct envelope *e)
{
	struct env_field v;
	uint64_t port;

	if (get1(e, "version", &v, 8) < 0 || !equals(&v, ENV_VERSION) ||
	    get1(e, "id", &e->id, RANDID_LEN) < 0 ||
	    !qid_valid((const char *)e->id.p, e->id.n) ||
	    get1(e, "sender", &e->sender, ENV_ADDR_MAX) < 0 ||
	    get1(e, "user", &e->user, ENV_LOGIN_MAX) < 0 || e->user.n == 0 ||
	    get1(e, "session", &e->session, RANDID_LEN) < 0 ||
	    get1(e, "ip", &e->ip, ENV_FIELD_MAX) < 0 ||
	    get1(e, "port", &e->port, ENV_FIELD_MAX) < 0 ||
	    get1(e, "mode", &e->mode, ENV_FIELD_MAX) < 0 ||
	    get1(e, "time", &e->time, ENV_FIELD_MAX) < 0 ||
	    get1(e, "size", &e->size, ENV_FIELD_MAX) < 0 ||
	    get1(e, "body", &e->body, ENV_FIELD_MAX) < 0 ||
	    get1(e, "smtputf8", &e->smtputf8, ENV_FIELD_MAX) < 0 ||
	    get1(e, "ret", &e->ret, ENV_FIELD_MAX) < 0 ||
	    get1(e, "envid", &e->envid, ENV_XTEXT_MAX) < 0 ||
	    get1(e, "header", &e->header, ENV_HEADER_MAX) < 0)
		return -1;
	if (number(&e->time, &e->time_v) < 0 || number(&e->size, &e->size_v) < 0 ||
	    number(&e->port, &port) < 0 || port > 65535 ||
	    !(equals(&e->body, "7bit") || equals(&e->body, "8bitmime")) ||
	    !(equals(&e->smtputf8, "0") || equals(&e->smtputf8, "1")) ||
	    !(equals(&e->ret, "") || equals(&e->ret, "full") || equals(&e->ret, "hdrs")))
		return -1;
	if (!printable(&e->user, 0) || !printable(&e->session, 0) || !printable(&e->ip, 0) ||
	    !printable(&e->mode, 0) || !printable(&e->envid, 0) || !printable(&e->header, 1))
		return -1;
	for (size_t i = 0; i < e->sender.n; i++)
		if (e->sender.p[i] < 0x20 || e->sender.p[i] == 0x7f)
			return -1;
	return 0;
}

/* Map and check (see envelope.h). */
int envelope_load(struct envelope *e, int fd)
{
	memset(e, 0, sizeof *e);
	if (cdb_init(&e->cdb, fd) != 0)
		return -1;
	e->loaded = 1;
	if (check_fields(e) < 0 || envelope_rcpts(e, count_rcpt, &e->nrcpt) < 0 ||
	    e->nrcpt == 0) {
		envelope_free(e);
		return -1;
	}
	return 0;
}

/* Walk the recipients (see envelope.h). */
int envelope_rcpts(struct envelope *e, envelope_rcpt_fn fn, void *ctx)
{
	struct cdb_find cf;

	if (!e->loaded || cdb_findinit(&cf, &e->cdb, "rcpt", 4) < 0)
		return -1;
	for (;;) {
		struct env_field f[3];
		const unsigned char *p;
		unsigned n;
		int r = cdb_findnext(&cf);

		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		n = cdb_datalen(&e->cdb);
		p = cdb_get(&e->cdb, n, cdb_datapos(&e->cdb));
		if (p == NULL || rcpt_fields(p, n, f) < 0)
			return -1;
		if (fn(ctx, &f[0], &f[1], &f[2]) != 0)
			return 0;
	}
}

/* Unmap. */
void envelope_free(struct envelope *e)
{
	if (e->loaded)
		cdb_free(&e->cdb);
	e->loaded = 0;
}
