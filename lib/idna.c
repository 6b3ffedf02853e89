/*
 * idna.c — U-label domain to A-label host name (idna.h), with libidn2;
 * linked by postern-queued and postern-deliver.
 * The conversion allocates (malloc); the result is copied out and freed
 * at once.  Whatever it returns is checked again as a host name, so a
 * library surprise cannot reach the resolver.
 */
#include <idn2.h>
#include <string.h>

#include "idna.h"
#include "mailbox.h"

/* U-labels to A-labels (see idna.h). */
int idna_to_host(const char *domain, char out[HOSTNAME_MAX + 1])
{
	char *a = NULL;
	size_t n;
	int ok;

	if (idn2_to_ascii_8z(domain, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK ||
	    a == NULL) {
		idn2_free(a);
		return -1;
	}
	n = strlen(a);
	ok = n <= HOSTNAME_MAX && hostname_valid(a, n);
	if (ok)
		memcpy(out, a, n + 1);
	idn2_free(a);
	return ok ? 0 : -1;
}

/* queued's RCPT check (see idna.h). */
int idna_mailbox_ok(const char *addr)
{
	struct mailbox m;
	char host[HOSTNAME_MAX + 1];

	if (mailbox_parse((const unsigned char *)addr, strlen(addr), &m) != MAILBOX_OK ||
	    !m.domain.utf8)
		return 1;
	return idna_to_host(addr + m.at + 1, host) == 0;
}
