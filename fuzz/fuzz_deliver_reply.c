/*
 * fuzz_deliver_reply.c — libFuzzer target for what postern-deliver reads
 * from the network: the SMTP reply parser with EHLO keywords
 * (deliver/reply.c, line cutting and caps) and the DNS answer parsers
 * (deliver/dns.c: MX with the null-MX rule, A/AAAA).  Checks the
 * invariants the rest of the worker relies on: the sanitized text is
 * printable ASCII and capped, codes are 200..599 once a reply is done,
 * counts stay within their arrays.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../deliver/dns.h"
#include "../deliver/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless r's text is printable ASCII and capped. */
static void check_text(const struct smtp_reply *r)
{
	if (r->textlen > REPLY_TEXT_MAX || strlen(r->text) != r->textlen)
		abort();
	for (size_t i = 0; i < r->textlen; i++) {
		if (r->text[i] < 0x20 || r->text[i] > 0x7e)
			abort();
	}
}

/* Replies, one after another, as conn.c reads them. */
static void replies(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	struct ehlo_caps caps;

	reply_init(&r, (size & 1) ? &caps : NULL);
	while (size > 0) {
		size_t ll, used;
		int t = reply_take_line(data, size, &ll, &used);
		enum reply_state s;

		if (t != 1)
			return;
		if (used > size || ll > used)
			abort();
		s = reply_feed_line(&r, data, ll);
		check_text(&r);
		data += used;
		size -= used;
		if (s == REPLY_BAD)
			return;
		if (s == REPLY_DONE) {
			char st[REPLY_STATUS_MAX];

			if (r.code < 200 || r.code > 599 || strlen(reply_status(&r, st)) >= REPLY_STATUS_MAX)
				abort();
			reply_init(&r, NULL);
		}
	}
}

/* The same bytes as DNS answers. */
static void answers(const uint8_t *data, size_t size)
{
	static char hosts[DNS_MX_MAX][JOB_HOST_MAX + 1];
	static struct dns_result out;
	unsigned prefs[DNS_MX_MAX];
	int nullmx, n;

	n = dns_parse_mx(data, size, hosts, prefs, DNS_MX_MAX, &nullmx);
	if (n > DNS_MX_MAX)
		abort();
	out.ntargets = 0;
	(void)dns_parse_addrs(data, size, 1, "h.test", &out);
	(void)dns_parse_addrs(data, size, 28, "h.test", &out);
	if (out.ntargets > DNS_TARGET_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	replies(data, size);
	answers(data, size);
	return 0;
}
