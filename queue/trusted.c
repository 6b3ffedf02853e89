/*
 * trusted.c — building the trusted header block (trusted.h).
 * postern-queued, in the sandbox: localtime_r uses the zone tzset() read
 * before the chroot.  Every input is a trusted fact (hostname from the
 * master's configuration, our own queue id, the master's session facts).
 */
#include <stdio.h>
#include <string.h>

#include "tlsfacts.h"
#include "trusted.h"

/* RFC 5322 §3.3 date-time in local time. */
static size_t rfc5322_date(char *out, size_t cap, time_t now)
{
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		return 0;
	return strftime(out, cap, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* Build the block (see trusted.h). */
size_t trusted_block(char *out, size_t cap, const struct trusted_in *t)
{
	char date[64], tls[TLS_VERSION_MAX + TLS_CIPHER_MAX + 40] = "";
	int secure = t->tls_version != NULL && t->tls_cipher != NULL;
	const char *with = secure ? "ESMTPSA" : "ESMTPA";
	size_t len = 0;
	int n;

	if (rfc5322_date(date, sizeof date, t->now) == 0)
		return 0;
	/* Both are tokens checked when the `tls` frame arrived. */
	if (secure && (!tlsfacts_version_ok(t->tls_version) || !tlsfacts_cipher_ok(t->tls_cipher)))
		return 0;
	if (secure)
		snprintf(tls, sizeof tls, "\r\n\t(using %s with cipher %s)", t->tls_version,
		         t->tls_cipher);
	/* An IPv6 address-literal is "[IPv6:...]" (RFC 5321 §4.1.3). */
	if (t->ip != NULL)
		n = snprintf(out, cap, "Received: from [%s%s]\r\n\tby %s (postern) with %s id %s%s;\r\n"
		             "\t%s\r\n", strchr(t->ip, ':') != NULL ? "IPv6:" : "", t->ip,
		             t->hostname, with, t->qid, tls, date);
	else
		n = snprintf(out, cap, "Received: by %s (postern) with %s id %s%s;\r\n\t%s\r\n",
		             t->hostname, with, t->qid, tls, date);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	if (t->need_message_id) {
		n = snprintf(out + len, cap - len, "Message-ID: <%s.%lld@%s>\r\n", t->qid,
		             (long long)t->now, t->hostname);
		if (n < 0 || (size_t)n >= cap - len)
			return 0;
		len += (size_t)n;
	}
	if (t->need_date) {
		n = snprintf(out + len, cap - len, "Date: %s\r\n", date);
		if (n < 0 || (size_t)n >= cap - len)
			return 0;
		len += (size_t)n;
	}
	return len;
}
