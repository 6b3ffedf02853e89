/*
 * mailparse.h — internal to the MAIL FROM / RCPT TO argument parser
 * (mailarg.c drives it, mailpath.c reads the path, mailparams.c the ESMTP
 * parameters); everyone else uses mailarg.h.  postern-smtpd (also unit,
 * golden and fuzz tests).  Pure: no I/O, no allocation, no global state.
 */
#ifndef POSTERN_SMTPD_MAILPARSE_H
#define POSTERN_SMTPD_MAILPARSE_H

#include "mailarg.h"

#include <stddef.h>

/* What is being parsed. */
struct mailparse {
	const unsigned char *s;	/* the argument */
	size_t len;
	int rcpt;		/* RCPT TO (else MAIL FROM) */
	int utf8_ok;		/* SMTPUTF8 in effect */
	int saw_utf8;		/* the mailbox has non-ASCII */
	unsigned seen;		/* parameters already given (bit per key) */
	struct mail_arg *out;
	struct mailarg_error *err;
};

/* Fill in an error; returns -1 for "return mailparse_fail(...)". */
int mailparse_fail(struct mailparse *p, int code, const char *text);

/* Letter or digit (ASCII only: UTF-8 is checked apart). */
static inline int mailparse_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Index of the '>' closing the path that starts at s[0] == '<', skipping
 * quoted strings; 0 if there is none. */
size_t mailpath_end(const unsigned char *s, size_t n);
/* The path's content s[0..n) (between the angle brackets) into p->out.
 * 0 ok, -1 with p->err filled in. */
int mailpath_check(struct mailparse *p, const unsigned char *s, size_t n);
/* The parameters s[0..n), separated by exactly one SP each, into p->out.
 * 0 ok, -1 with p->err filled in. */
int mailparams_check(struct mailparse *p, const unsigned char *s, size_t n);

#endif
