/*
 * dsnparam.h — the one grammar of the envelope's parameters that travel
 * with a message from the client to the next hop: ENVID and RET of MAIL,
 * NOTIFY and ORCPT of RCPT (RFC 3461 §4), and xtext (§4).  Linked by
 * postern-smtpd (accept or refuse the parameter), postern-queued (re-check
 * what smtpd sends; a refusal there closes the session) and postern-deliver
 * (check a job's values before writing them on the wire), with the same
 * limits everywhere so no later stage refuses what smtpd accepted.
 * Values are kept raw, as the client wrote them (xtext still encoded).
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef POSTERN_DSNPARAM_H
#define POSTERN_DSNPARAM_H

#include <stddef.h>

#define DSN_ENVID_DECODED_MAX 100	/* RFC 3461 §4.4 */
#define DSN_ENVID_MAX 300		/* raw: 100 octets, each at most "+HH" */
#define DSN_ORCPT_MAX 500		/* RFC 3461 §4.2, raw */
#define DSN_NOTIFY_MAX 21		/* "SUCCESS,FAILURE,DELAY" */

enum dsn_notify {
	DSN_NOTIFY_SUCCESS = 1,
	DSN_NOTIFY_FAILURE = 2,
	DSN_NOTIFY_DELAY = 4,
	DSN_NOTIFY_NEVER = 8,
};

/* The decoded length of xtext v[0..n) (chars 33..126 but '+' and '=', or
 * "+HH" with upper-case hex), or -1 if it is not xtext. */
long dsn_xtext_len(const unsigned char *v, size_t n);

/* 1 if v[0..n) is a valid ENVID value: xtext of 1..100 decoded octets. */
int dsn_envid_ok(const unsigned char *v, size_t n);

/* 1 if v[0..n) is a valid ORCPT value: addr-type ";" xtext, addr-type an
 * atom of letters, digits and '-', at most 500 octets in all. */
int dsn_orcpt_ok(const unsigned char *v, size_t n);

/* NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY, each at most
 * once, any case.  0 with *bits (enum dsn_notify), or -1. */
int dsn_notify_parse(const unsigned char *v, size_t n, unsigned *bits);

/* RET=FULL|HDRS in any case: "full" or "hdrs" (static), or NULL. */
const char *dsn_ret_word(const unsigned char *v, size_t n);

/* The stored forms, as queued and the workers check them: "" (absent) or
 * a valid value.  1 if acceptable, else 0.  A stored RET is the lower-case
 * word only. */
int dsn_stored_envid_ok(const unsigned char *v, size_t n);
int dsn_stored_orcpt_ok(const unsigned char *v, size_t n);
int dsn_stored_notify_ok(const unsigned char *v, size_t n);
int dsn_stored_ret_ok(const unsigned char *v, size_t n);

#endif
