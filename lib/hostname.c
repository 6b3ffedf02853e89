/*
 * hostname.c — host name syntax (hostname.h): RFC 1035 §2.3.1 labels as
 * relaxed by RFC 1123 §2.1.  Used by the master (configuration) and
 * postern-smtpd (its -h argument, EHLO/HELO).  Descriptors: none.
 * Failure policy: anything else is not a host name (0); the caller says
 * which reply or error that is.  Internationalised names must come as
 * A-labels ("xn--"), which pass as plain LDH.
 */
#include "hostname.h"

/* 1 if c may appear in a label. */
static int is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* Check s[0..n) label by label. */
int hostname_valid(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > HOSTNAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_ldh(c) || (label == 0 && c == '-') || ++label > HOSTNAME_LABEL_MAX)
			return 0;
	}
	return label > 0 && s[n - 1] != '-';
}
