/*
 * test_golden.c — golden tests of the smtpd parsers: each
 * tests/golden/<parser>/NAME.in is run through the parser and the printed
 * result must equal NAME.ref byte for byte.  The files are found under
 * $POSTERN_TOP (default "."), i.e. the repository top.  With
 * POSTERN_GOLDEN_UPDATE=1 the .ref files are (re)written instead: review
 * the diff before committing them.
 *
 * mailarg/NAME.in: one argument per line (what follows "MAIL FROM:" or
 *   "RCPT TO:"), the verb given by the file name: mail-*, rcpt-* or
 *   rcpt8-* (RCPT in a transaction whose MAIL had SMTPUTF8).  "\xHH" in a
 *   line is the byte HH; lines starting with '#' are comments, copied to
 *   the .ref so that line N of the .ref is about line N of the .in:
 *     OK path=P null=N size=S|- body=7bit|8bitmime utf8=N ret=R envid=E
 *        notify=N orcpt=O
 *     ERR CODE TEXT
 *   where P, E, ... print bytes outside 0x21..0x7e and '\' as \xHH.
 * dotreader/NAME.in: a first line "line_max=N size_max=N", then the raw DATA
 *   bytes.  The .ref is "consumed=N done=N size=N flags=F" (F: names joined
 *   by ',' or '-'), a line "out:", then the unstuffed output with CR as
 *   \r, LF as \n plus a real line break, other bytes as in mailarg.  The
 *   same input fed one byte at a time must give the same .ref.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "../../smtpd/dotreader.h"
#include "../../smtpd/mailarg.h"

#define FILE_MAX (1 << 20)
#define NAMES_MAX 256

/* Text being built for one .ref. */
struct text {
	char buf[FILE_MAX];
	size_t len;
};

static struct text got;
static unsigned char inbuf[FILE_MAX];
static char refbuf[FILE_MAX];

/* Append n bytes. */
static void put(struct text *t, const char *s, size_t n)
{
	assert_true(t->len + n <= sizeof t->buf);
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

/* Append a C string. */
static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Append formatted text. */
__attribute__((format(printf, 2, 3)))
static void putf(struct text *t, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof tmp);
	put(t, tmp, (size_t)n);
}

/* Append bytes, escaping all but 0x21..0x7e (and '\'); with lines set,
 * CR and LF print as \r and \n, and \n also breaks the line. */
static void put_escaped(struct text *t, const unsigned char *p, size_t n, int lines)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (lines && c == '\r')
			puts_(t, "\\r");
		else if (lines && c == '\n')
			puts_(t, "\\n\n");
		else if (c > 0x20 && c < 0x7f && c != '\\')
			put(t, (const char *)&c, 1);
		else if (lines && c == ' ')
			put(t, " ", 1);
		else
			putf(t, "\\x%02x", c);
	}
}

/* Read a whole file; its length, or -1. */
static long read_file(const char *path, void *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, cap, f);
	int bad = ferror(f) || n == cap;
	fclose(f);
	return bad ? -1 : (long)n;
}

/* Write a whole file. */
static int write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	size_t w = fwrite(buf, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Sort helper for file names. */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder tests/golden/<sub> under POSTERN_TOP. */
static void golden_dir(char *out, size_t cap, const char *sub)
{
	const char *top = getenv("POSTERN_TOP");
	int n = snprintf(out, cap, "%s/tests/golden/%s", top && *top ? top : ".", sub);
	assert_true(n > 0 && (size_t)n < cap);
}

/* Compare got with NAME.ref (or write it in update mode); 0 if equal. */
static int compare_ref(const char *dir, const char *base)
{
	char path[1024];
	int n = snprintf(path, sizeof path, "%s/%s.ref", dir, base);
	assert_true(n > 0 && (size_t)n < sizeof path);
	const char *upd = getenv("POSTERN_GOLDEN_UPDATE");
	if (upd && strcmp(upd, "1") == 0)
		return write_file(path, got.buf, got.len) == 0 ? 0 : 1;
	long r = read_file(path, refbuf, sizeof refbuf);
	if (r < 0) {
		print_error("golden: cannot read %s\n", path);
		return 1;
	}
	if ((size_t)r == got.len && memcmp(refbuf, got.buf, got.len) == 0)
		return 0;
	/* Show the first line that differs. */
	size_t i = 0, line = 1, start = 0;
	while (i < got.len && i < (size_t)r && got.buf[i] == refbuf[i]) {
		if (got.buf[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	const char *ge = memchr(got.buf + start, '\n', got.len - start);
	const char *re = memchr(refbuf + start, '\n', (size_t)r - start);
	int gl = (int)(ge ? (size_t)(ge - got.buf) - start : got.len - start);
	int rl = (int)(re ? (size_t)(re - refbuf) - start : (size_t)r - start);
	print_error("golden: %s line %zu\n  want: %.*s\n  got:  %.*s\n", path, line,
	            rl, refbuf + start, gl, got.buf + start);
	return 1;
}

/* Run fn on every NAME.in of tests/golden/<sub>; returns the number of
 * files; *failed counts mismatches. */
static int each_file(const char *sub, void (*fn)(const unsigned char *, size_t,
                                                 const char *), int *failed)
{
	char dir[1024], path[1300];
	char *names[NAMES_MAX];
	int count = 0;

	golden_dir(dir, sizeof dir, sub);
	DIR *d = opendir(dir);
	if (d == NULL)
		fail_msg("golden: cannot open %s (set POSTERN_TOP to the repository)", dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 3 && strcmp(e->d_name + l - 3, ".in") == 0 && count < NAMES_MAX)
			names[count++] = strndup(e->d_name, l - 3);
	}
	closedir(d);
	qsort(names, (size_t)count, sizeof names[0], cmp_names);
	for (int i = 0; i < count; i++) {
		assert_non_null(names[i]);
		snprintf(path, sizeof path, "%s/%s.in", dir, names[i]);
		long n = read_file(path, inbuf, sizeof inbuf);
		assert_true(n >= 0);
		got.len = 0;
		fn(inbuf, (size_t)n, names[i]);
		*failed += compare_ref(dir, names[i]);
		free(names[i]);
	}
	return count;
}

/* ---- mailarg ---- */

static int mailarg_lines;

/* Value of a hex digit, or -1. */
static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode "\xHH" escapes of line[0..n) into out; the new length. */
static size_t unescape(const unsigned char *line, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' &&
		    hexval(line[i + 2]) >= 0 && hexval(line[i + 3]) >= 0) {
			out[o++] = (char)(hexval(line[i + 2]) * 16 + hexval(line[i + 3]));
			i += 3;
		} else {
			out[o++] = (char)line[i];
		}
	}
	return o;
}

/* Print one parse result. */
static void print_mailarg(int r, const struct mail_arg *a, const struct mailarg_error *e)
{
	if (r != 0) {
		putf(&got, "ERR %d %s\n", e->code, e->text);
		return;
	}
	puts_(&got, "OK path=");
	put_escaped(&got, (const unsigned char *)a->path, strlen(a->path), 0);
	putf(&got, " null=%d size=", a->null_path);
	if (a->has_size)
		putf(&got, "%llu", (unsigned long long)a->size);
	else
		puts_(&got, "-");
	putf(&got, " body=%s utf8=%d ret=%s envid=", a->body == BODY_8BITMIME ?
	     "8bitmime" : "7bit", a->smtputf8, a->ret);
	put_escaped(&got, (const unsigned char *)a->envid, strlen(a->envid), 0);
	puts_(&got, " notify=");
	put_escaped(&got, (const unsigned char *)a->notify, strlen(a->notify), 0);
	puts_(&got, " orcpt=");
	put_escaped(&got, (const unsigned char *)a->orcpt, strlen(a->orcpt), 0);
	puts_(&got, "\n");
}

/* One mailarg .in file. */
static void run_mailarg(const unsigned char *in, size_t n, const char *name)
{
	static char arg[4096];
	static struct mail_arg a;
	struct mailarg_error e;
	int verb = strncmp(name, "mail-", 5) == 0 ? 0 :
	           strncmp(name, "rcpt8-", 6) == 0 ? 2 :
	           strncmp(name, "rcpt-", 5) == 0 ? 1 : -1;

	if (verb < 0)
		fail_msg("golden: %s: name must start with mail-, rcpt- or rcpt8-", name);
	for (size_t start = 0; start < n;) {
		const unsigned char *nl = memchr(in + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - in) : n;
		size_t len = end - start;
		if (len > 0 && in[start] == '#') {
			put(&got, (const char *)in + start, len);	/* kept: lines match */
			puts_(&got, "\n");
		} else {
			assert_true(len < sizeof arg);
			size_t alen = unescape(in + start, len, arg);
			int r = verb == 0 ? mailarg_parse_mail(arg, alen, &a, &e) :
			        mailarg_parse_rcpt(arg, alen, verb == 2, &a, &e);
			print_mailarg(r, &a, &e);
			mailarg_lines++;
		}
		start = end + 1;
	}
}

static void test_golden_mailarg(void **st)
{
	int failed = 0;
	int files = each_file("mailarg", run_mailarg, &failed);
	assert_true(files >= 3);
	assert_true(mailarg_lines >= 30);
	assert_int_equal(failed, 0);
}

/* ---- dotreader ---- */

/* Feed in[0..n) in pieces of step bytes (0: whole); print the result. */
static void dot_result(const unsigned char *in, size_t n, size_t line_max,
                       uint64_t size_max, size_t step, struct text *t)
{
	static unsigned char out[FILE_MAX];
	struct dotreader d;
	size_t pos = 0, olen = 0;

	dotreader_init(&d, line_max, size_max);
	while (pos < n && !d.done) {
		size_t piece = step && step < n - pos ? step : n - pos;
		size_t w;
		size_t used = dotreader_feed(&d, in + pos, piece, out + olen,
		                             sizeof out - olen, &w);
		olen += w;
		pos += used;
		assert_true(used == piece || d.done);
	}
	got.len = 0;
	putf(&got, "consumed=%zu done=%d size=%llu flags=", pos, d.done,
	     (unsigned long long)d.size);
	static const char *const names[] = { "BARE_LF", "LINE_TOO_LONG", "TOO_BIG", "NUL" };
	int any = 0;
	for (int b = 0; b < 4; b++)
		if (d.flags & (1u << b)) {
			putf(&got, "%s%s", any ? "," : "", names[b]);
			any = 1;
		}
	puts_(&got, any ? "\nout:\n" : "-\nout:\n");
	put_escaped(&got, out, olen, 1);
	if (olen > 0 && out[olen - 1] != '\n')
		puts_(&got, "\n");
	if (t != &got) {
		memcpy(t->buf, got.buf, got.len);
		t->len = got.len;
	}
}

/* One dotreader .in file. */
static void run_dotreader(const unsigned char *in, size_t n, const char *name)
{
	static struct text whole;
	unsigned long long lmax, smax;
	const unsigned char *nl = memchr(in, '\n', n);
	char opts[128];

	if (nl == NULL || (size_t)(nl - in) >= sizeof opts)
		fail_msg("golden: %s: no options line", name);
	memcpy(opts, in, (size_t)(nl - in));
	opts[nl - in] = '\0';
	if (sscanf(opts, "line_max=%llu size_max=%llu", &lmax, &smax) != 2)
		fail_msg("golden: %s: bad options line", name);
	size_t off = (size_t)(nl - in) + 1;
	dot_result(in + off, n - off, (size_t)lmax, smax, 0, &whole);
	dot_result(in + off, n - off, (size_t)lmax, smax, 1, &got);
	if (got.len != whole.len || memcmp(got.buf, whole.buf, got.len) != 0)
		fail_msg("golden: %s: byte-by-byte differs from whole", name);
}

static void test_golden_dotreader(void **st)
{
	int failed = 0;
	int files = each_file("dotreader", run_dotreader, &failed);
	assert_true(files >= 15);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_mailarg),
		cmocka_unit_test(test_golden_dotreader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
