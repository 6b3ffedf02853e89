/*
 * fuzz_mailarg.c — libFuzzer target for smtpd/mailarg.c.
 *
 * Input: byte 0 picks MAIL, RCPT or RCPT after SMTPUTF8; the rest is the
 * argument text.  Aborts unless:
 *  - a refusal has a code of 501/553/555 and a "5.x.y " text, and an
 *    all-zero result;
 *  - an accepted path is NUL-terminated, at most 254 octets, holds no
 *    control byte, and parses again alone as "<path>" to the same path;
 *  - stored parameter values are NUL-terminated within their buffers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../smtpd/mailarg.h"

/* Abort unless cond. */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* Whether buf[0..cap) holds a NUL. */
static int terminated(const char *buf, size_t cap)
{
	return memchr(buf, '\0', cap) != NULL;
}

/* Invariants of a refusal. */
static void check_refusal(const struct mail_arg *a, const struct mailarg_error *e)
{
	static const struct mail_arg zero;

	check(e->code == 501 || e->code == 553 || e->code == 555);
	check(terminated(e->text, sizeof e->text));
	check(e->text[0] == '5' && e->text[1] == '.' && strchr(e->text, ' ') != NULL);
	check(memcmp(a, &zero, sizeof zero) == 0);
}

/* Invariants of an accepted argument. */
static void check_accept(const struct mail_arg *a)
{
	static struct mail_arg again;
	struct mailarg_error e;
	char buf[MAILARG_PATH_MAX + 3];

	check(terminated(a->path, sizeof a->path));
	check(terminated(a->ret, sizeof a->ret));
	check(terminated(a->envid, sizeof a->envid));
	check(terminated(a->notify, sizeof a->notify));
	check(terminated(a->orcpt, sizeof a->orcpt));
	size_t n = strlen(a->path);
	check(n <= MAILARG_PATH_MAX - 2);
	check((n == 0) == (a->null_path != 0));
	for (size_t i = 0; i < n; i++)
		check((unsigned char)a->path[i] >= 32 && a->path[i] != 127);
	if (n == 0)
		return;
	buf[0] = '<';
	memcpy(buf + 1, a->path, n);
	buf[n + 1] = '>';
	check(mailarg_parse_rcpt(buf, n + 2, 1, &again, &e) == 0);
	check(strcmp(again.path, a->path) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mail_arg a;
	struct mailarg_error e;
	int r;

	if (size < 1 || size > 4096)
		return 0;
	const char *arg = (const char *)data + 1;
	if (data[0] % 3 == 0)
		r = mailarg_parse_mail(arg, size - 1, &a, &e);
	else
		r = mailarg_parse_rcpt(arg, size - 1, data[0] % 3 == 2, &a, &e);
	check(r == 0 || r == -1);
	if (r == 0)
		check_accept(&a);
	else
		check_refusal(&a, &e);
	return 0;
}
