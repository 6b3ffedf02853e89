/*
 * login.c — login syntax and normalisation (login.h).  Pure function, no
 * allocation; runs in postern-authd's sandbox and in postern-user.
 * Failure policy: anything outside the grammar is refused (a login is an
 * identity: no quoting, no comments, no non-ASCII, no IP literals).
 */
#include <string.h>

#include "login.h"

/* RFC 5322 atext (ASCII): letters, digits and these specials. */
static int is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Dot-atom: atext runs separated by single dots. */
static int local_ok(const char *s, size_t n)
{
	if (n == 0 || n > LOGIN_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' ? s[i + 1] == '.' : !is_atext(c))
			return 0;
	}
	return 1;
}

/* Domain: LDH labels of 1..63 bytes, no leading/trailing hyphen, at least
 * one label. */
static int domain_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if ((c == '-' && label == 0) || ++label > 63)
			return 0;
	}
	return label > 0 && s[n - 1] != '-';
}

/* Validate and normalise (see login.h). */
int login_normalize(const char *s, size_t n, char out[LOGIN_MAX + 1])
{
	const char *at;
	size_t local;

	if (n == 0 || n > LOGIN_MAX || memchr(s, '\0', n) != NULL)
		return -1;
	at = memrchr(s, '@', n);
	if (at == NULL)
		return -1;
	local = (size_t)(at - s);
	if (!local_ok(s, local) || !domain_ok(at + 1, n - local - 1))
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	for (size_t i = local + 1; i < n; i++) {
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	}
	return 0;
}
