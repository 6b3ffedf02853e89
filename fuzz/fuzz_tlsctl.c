/*
 * fuzz_tlsctl.c — libFuzzer target for the TLS channels' parsers: the
 * smtpd <-> tlsd control frames (smtpd/tlsctl.c) and the master <-> tlsd
 * facts frames (lib/tlsfacts.c).  Each input is one packet, as on those
 * SOCK_SEQPACKET channels.  Promises checked: a parse that succeeds gives
 * fields that satisfy the grammar, and building them again and parsing
 * gives the same fields; a failed parse leaves nothing behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
#include "../smtpd/tlsctl.h"
#include "tlsfacts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless cond holds (a failed promise is a finding). */
static void check(int cond)
{
	if (!cond)
		abort();
}

/* The smtpd -> tlsd request. */
static void request(const unsigned char *p, size_t n)
{
	char text[TLSCTL_TEXT_MAX + 1], again[TLSCTL_TEXT_MAX + 1];
	unsigned char buf[TLSCTL_FRAME_MAX];
	const unsigned char *fr, *pl;
	size_t fn, pn, used;

	if (tlsctl_parse_request(p, n, text, sizeof text) < 0) {
		check(text[0] == '\0');
		return;
	}
	fr = tlsctl_build_request(buf, sizeof buf, text, &fn);
	check(fr != NULL);
	check(netstring_parse(fr, fn, sizeof buf, &pl, &pn, &used) == NS_OK && used == fn);
	check(tlsctl_parse_request(pl, pn, again, sizeof again) == 0 && strcmp(text, again) == 0);
}

/* The tlsd -> smtpd result. */
static void result(const unsigned char *p, size_t n)
{
	struct tlsctl_result r, r2;
	unsigned char buf[TLSCTL_FRAME_MAX];
	const unsigned char *fr, *pl;
	size_t fn, pn, used;

	if (tlsctl_parse_result(p, n, &r) < 0) {
		check(r.ok == 0 && r.reason[0] == '\0' && r.facts.version[0] == '\0');
		return;
	}
	fr = tlsctl_build_result(buf, sizeof buf, r.ok ? &r.facts : NULL, r.reason, &fn);
	check(fr != NULL);
	check(netstring_parse(fr, fn, sizeof buf, &pl, &pn, &used) == NS_OK && used == fn);
	check(tlsctl_parse_result(pl, pn, &r2) == 0 && memcmp(&r, &r2, sizeof r) == 0);
}

/* The facts channel: `tls`, `keys` and `ack`. */
static void facts(const unsigned char *p, size_t n)
{
	struct tls_facts f, f2;
	struct tls_ticket_keys k, k2;
	unsigned char buf[TLSFACTS_FRAME_MAX];
	const unsigned char *fr, *pl;
	size_t fn, pn, used;

	/* `ack` is exactly the one-field frame the builder makes. */
	fr = tlsack_build(buf, sizeof buf, &fn);
	check(fr != NULL && netstring_parse(fr, fn, sizeof buf, &pl, &pn, &used) == NS_OK);
	check(tlsack_parse(p, n) != 0 || (n == pn && memcmp(p, pl, n) == 0));
	if (tlsfacts_parse(p, n, &f) == 0) {
		check(tlsfacts_version_ok(f.version) && tlsfacts_cipher_ok(f.cipher));
		fr = tlsfacts_build(buf, sizeof buf, &f, &fn);
		check(fr != NULL);
		check(netstring_parse(fr, fn, sizeof buf, &pl, &pn, &used) == NS_OK);
		check(tlsfacts_parse(pl, pn, &f2) == 0 && memcmp(&f, &f2, sizeof f) == 0);
	}
	if (tlskeys_parse(p, n, &k) == 0) {
		check(k.n <= TLS_TICKET_KEYS_MAX);
		fr = tlskeys_build(buf, sizeof buf, &k, &fn);
		check(fr != NULL);
		check(netstring_parse(fr, fn, sizeof buf, &pl, &pn, &used) == NS_OK);
		check(tlskeys_parse(pl, pn, &k2) == 0 && memcmp(&k, &k2, sizeof k) == 0);
	} else {
		check(k.n == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *payload;
	size_t plen, used;

	if (netstring_parse(data, size, FRAME_MAX, &payload, &plen, &used) != NS_OK)
		return 0;
	request(payload, plen);
	result(payload, plen);
	facts(payload, plen);
	return 0;
}
