/*
 * mailarg.h — parsing the arguments of MAIL FROM and RCPT TO (RFC 5321
 * §4.1.2 Path/Mailbox grammar, §4.1.1.11 ESMTP parameters; RFC 1870 SIZE,
 * RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 3461 RET/ENVID/NOTIFY/ORCPT,
 * RFC 4954 AUTH=), with the shared grammars of lib/mailbox.h and
 * lib/dsnparam.h.  Pure functions over one command line's argument text,
 * i.e. what follows "MAIL FROM:" or "RCPT TO:".  Every failure has a
 * reply code and text in the result (501 5.1.7 bad sender syntax,
 * 501 5.1.3 bad recipient syntax, 555 5.5.4 unknown/bad parameter, ...).
 */
#ifndef POSTERN_SMTPD_MAILARG_H
#define POSTERN_SMTPD_MAILARG_H

#include <stddef.h>
#include <stdint.h>

#include "dsnparam.h"

#define MAILARG_PATH_MAX 256	/* RFC 5321 §4.5.3.1.3: path <= 256 octets */

enum mail_body { BODY_7BIT, BODY_8BITMIME };

struct mail_arg {
	char path[MAILARG_PATH_MAX + 1];	/* without <>; "" for <> */
	int null_path;				/* MAIL FROM:<> */
	int has_size;
	uint64_t size;
	enum mail_body body;
	int smtputf8;
	char ret[8];				/* "full", "hdrs" or "" */
	char envid[DSN_ENVID_MAX + 1];		/* raw xtext or "" */
	/* RCPT only */
	char notify[DSN_NOTIFY_MAX + 1];	/* raw, validated, or "" */
	char orcpt[DSN_ORCPT_MAX + 1];		/* raw, validated, or "" */
};

struct mailarg_error {
	int code;		/* SMTP reply code */
	char text[128];		/* "5.5.4 ..." */
};

/* Parse "<path> [params]" after "MAIL FROM:".  0 on success, -1 with err. */
int mailarg_parse_mail(const char *arg, size_t len, struct mail_arg *out,
                       struct mailarg_error *err);
/* Parse "<path> [params]" after "RCPT TO:".  "<postmaster>" is accepted.
 * smtputf8: the transaction's MAIL FROM had SMTPUTF8 (RFC 6531 §3.4), so
 * UTF-8 is allowed in the mailbox. */
int mailarg_parse_rcpt(const char *arg, size_t len, int smtputf8,
                       struct mail_arg *out, struct mailarg_error *err);

#endif
