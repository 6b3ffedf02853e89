/*
 * tlsfacts.c — building and parsing the three frames of the master <-> tlsd
 * facts channel (grammar in tlsfacts.h).  Used by postern-tlsd (sends
 * `tls`, reads `keys` and `ack`) and the master (the reverse).  Pure
 * functions over caller buffers; no syscalls.  Failure policy: fail closed.
 */
#include "tlsfacts.h"

#include "netstring.h"

#include <string.h>

int tlsfacts_version_ok(const char *v)
{
	return strcmp(v, "TLSv1.2") == 0 || strcmp(v, "TLSv1.3") == 0;
}

int tlsfacts_cipher_ok(const char *c)
{
	size_t i, n = strlen(c);

	if (n == 0 || n > TLS_CIPHER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char x = c[i];
		if (!((x >= 'A' && x <= 'Z') || (x >= 'a' && x <= 'z') ||
		      (x >= '0' && x <= '9') || x == '_' || x == '-'))
			return 0;
	}
	return 1;
}

int tlsfacts_parse(const unsigned char *payload, size_t n, struct tls_facts *f)
{
	struct frame_reader r;

	memset(f, 0, sizeof *f);
	fr_init(&r, payload, n);
	if (fr_is(&r, "tls") != 1 ||
	    fr_str(&r, f->version, sizeof f->version) < 0 ||
	    fr_str(&r, f->cipher, sizeof f->cipher) < 0 || fr_end(&r) < 0 ||
	    !tlsfacts_version_ok(f->version) || !tlsfacts_cipher_ok(f->cipher)) {
		memset(f, 0, sizeof *f);
		return -1;
	}
	return 0;
}

const unsigned char *tlsfacts_build(unsigned char *buf, size_t cap,
                                    const struct tls_facts *f, size_t *n)
{
	struct frame_writer w;

	if (!tlsfacts_version_ok(f->version) || !tlsfacts_cipher_ok(f->cipher))
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "tls");
	fw_str(&w, f->version);
	fw_str(&w, f->cipher);
	return fw_finish(&w, n);
}

/* The master's `ack` (tlsfacts.h). */
int tlsack_parse(const unsigned char *payload, size_t n)
{
	struct frame_reader r;

	fr_init(&r, payload, n);
	return fr_is(&r, "ack") == 1 && fr_end(&r) == 0 ? 0 : -1;
}

/* Build the `ack` frame. */
const unsigned char *tlsack_build(unsigned char *buf, size_t cap, size_t *n)
{
	struct frame_writer w;

	fw_init(&w, buf, cap);
	fw_str(&w, "ack");
	return fw_finish(&w, n);
}

int tlskeys_parse(const unsigned char *payload, size_t n, struct tls_ticket_keys *k)
{
	struct frame_reader r;
	const unsigned char *p;
	size_t len;

	explicit_bzero(k, sizeof *k);
	fr_init(&r, payload, n);
	if (fr_is(&r, "keys") != 1)
		goto bad;
	while (r.off < r.len) {
		if (k->n == TLS_TICKET_KEYS_MAX ||
		    fr_bytes(&r, &p, &len, TLS_TICKET_KEY_LEN) < 0 || len != TLS_TICKET_KEY_LEN)
			goto bad;
		memcpy(k->key[k->n++], p, len);
	}
	if (fr_end(&r) < 0)
		goto bad;
	return 0;
bad:
	explicit_bzero(k, sizeof *k);
	return -1;
}

const unsigned char *tlskeys_build(unsigned char *buf, size_t cap,
                                   const struct tls_ticket_keys *k, size_t *n)
{
	struct frame_writer w;
	size_t i;

	if (k->n > TLS_TICKET_KEYS_MAX)
		return NULL;
	fw_init(&w, buf, cap);
	fw_str(&w, "keys");
	for (i = 0; i < k->n; i++)
		fw_bytes(&w, k->key[i], TLS_TICKET_KEY_LEN);
	return fw_finish(&w, n);
}
