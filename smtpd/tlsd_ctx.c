/*
 * tlsd_ctx.c — OpenSSL initialisation and the server SSL_CTX of
 * postern-tlsd (see tlsd_ctx.h).  Process: postern-tlsd, as root, before
 * sandbox_enter; it reads the certificate and key files named in argv.
 * The session-ticket callback also runs later, inside the sandbox, on
 * memory only.
 *
 * Tickets (DESIGN invariant 5): only TLS 1.3 tickets, sealed with the
 * master's current key (AES-256-CBC + HMAC-SHA256, OpenSSL's ticket
 * format) and opened with the current or previous key; a TLS 1.2 ticket
 * is neither issued nor accepted, and the session cache is off, so TLS
 * 1.2 never resumes.  Without keys resumption is off altogether.
 * Failure policy: any set-up failure is fatal (log_fatal, exit 111).
 */
#include "tlsd_ctx.h"

#include "log.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static struct tls_ticket_keys ticket_keys;
static EVP_CIPHER *ticket_cipher;

/* Only libssl's reason strings are loaded (init_library), so a reason
 * from libcrypto comes back as OpenSSL's numeric form, e.g.
 * "error:0480006C:PEM routines::reason(108)" (`openssl errstr 0480006C`
 * names it); a system error by its errno name. */
const char *tlsd_ssl_error(void)
{
	static char text[160];
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (e != 0 && r == NULL && ERR_SYSTEM_ERROR(e)) {
		const char *name = strerrorname_np(ERR_GET_REASON(e));

		snprintf(text, sizeof text, "system error %s", name ? name : "unknown");
		r = text;
	} else if (e != 0 && r == NULL) {
		ERR_error_string_n(e, text, sizeof text);
		r = text;
	}
	ERR_clear_error();
	return r ? r : "unknown";
}

/* Key the HMAC of a ticket with key k. */
static int ticket_hmac(EVP_MAC_CTX *h, const unsigned char *k)
{
	OSSL_PARAM p[3];

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	                                         (void *)(k + TLS_TICKET_NAME_LEN + TLS_TICKET_AES_LEN),
	                                         TLS_TICKET_HMAC_LEN);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(h, p) == 1 ? 0 : -1;
}

/* OpenSSL's ticket-key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb):
 * seal with the current key, open with current (1) or previous (2: the
 * client gets a fresh ticket); 0 for anything not TLS 1.3. */
static int ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
                     EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	const unsigned char *k;
	size_t i;

	if (SSL_version(ssl) != TLS1_3_VERSION || ticket_keys.n == 0)
		return 0;
	if (enc) {
		k = ticket_keys.key[0];
		memcpy(name, k, TLS_TICKET_NAME_LEN);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ticket_cipher)) != 1 ||
		    EVP_EncryptInit_ex(ectx, ticket_cipher, NULL, k + TLS_TICKET_NAME_LEN, iv) != 1 ||
		    ticket_hmac(hctx, k) < 0)
			return -1;
		return 1;
	}
	for (i = 0; i < ticket_keys.n; i++) {
		k = ticket_keys.key[i];
		if (memcmp(name, k, TLS_TICKET_NAME_LEN) != 0)
			continue;
		if (EVP_DecryptInit_ex(ectx, ticket_cipher, NULL, k + TLS_TICKET_NAME_LEN, iv) != 1 ||
		    ticket_hmac(hctx, k) < 0)
			return -1;
		return i == 0 ? 1 : 2;
	}
	return 0;
}

/* Library, provider and RNG: everything that could touch a file.
 * libcrypto's error strings are not loaded: their table is about 50 KiB
 * of heap and 0.3 ms of CPU in every tlsd (one per connection), for text
 * that only a failed set-up would print (tlsd_ssl_error then gives the
 * numeric code).  libssl's own strings (16 KiB) stay: they name why a
 * handshake failed in the `tls-failed` log line. */
static void init_library(void)
{
	unsigned char seed[32];

	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT |
	                     OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
	                     NULL) != 1)
		log_fatal("OpenSSL initialisation failed");
	if (OSSL_PROVIDER_load(NULL, "default") == NULL)
		log_fatal("OpenSSL default provider: %s", tlsd_ssl_error());
	if (RAND_bytes(seed, sizeof seed) != 1 || RAND_priv_bytes(seed, sizeof seed) != 1)
		log_fatal("OpenSSL RNG: %s", tlsd_ssl_error());
	OPENSSL_cleanse(seed, sizeof seed);
	ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (ticket_cipher == NULL)
		log_fatal("OpenSSL AES-256-CBC: %s", tlsd_ssl_error());
}

/* Protocol versions, suites, groups, modes. */
static void set_policy(SSL_CTX *ctx, int min_version)
{
	if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		log_fatal("TLS version range: %s", tlsd_ssl_error());
	if (SSL_CTX_set_cipher_list(ctx, TLSD_CIPHERS_TLS12) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLSD_GROUPS) != 1)
		log_fatal("TLS cipher or group list: %s", tlsd_ssl_error());
	/* Security level 2: RSA/DH >= 2048 bits, no SHA-1 signatures. */
	SSL_CTX_set_security_level(ctx, 2);
	/* No renegotiation (a client-driven CPU sink, and a source of
	 * plaintext-injection bugs), no compression (CRIME). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
	/* A TCP close without close_notify reads as end of stream, as most
	 * mail clients close that way after QUIT.  No truncation risk: SMTP
	 * marks its own ends (QUIT, CRLF.CRLF), and smtpd aborts a message
	 * cut short by EOF. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_max_early_data(ctx, 0);
}

/* TLS 1.3 tickets with the master's keys, or no resumption at all (see
 * tlsd_ctx.h). */
void tlsd_ctx_set_keys(SSL_CTX *ctx, const struct tls_ticket_keys *keys)
{
	ticket_keys = *keys;
	if (keys->n == 0) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
		return;
	}
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1)
		log_fatal("TLS ticket callback: %s", tlsd_ssl_error());
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_timeout(ctx, TLSD_TICKET_LIFETIME_S);
}

/* Load each certificate chain with its key; each must match. */
static void load_certs(SSL_CTX *ctx, const struct tlsd_args *a)
{
	size_t i;

	for (i = 0; i < a->ncert; i++) {
		if (SSL_CTX_use_certificate_chain_file(ctx, a->cert[i]) != 1)
			log_fatal("certificate %s: %s", a->cert[i], tlsd_ssl_error());
		if (SSL_CTX_use_PrivateKey_file(ctx, a->key[i], SSL_FILETYPE_PEM) != 1)
			log_fatal("key %s: %s", a->key[i], tlsd_ssl_error());
		if (SSL_CTX_check_private_key(ctx) != 1)
			log_fatal("key %s does not match certificate %s", a->key[i], a->cert[i]);
	}
}

SSL_CTX *tlsd_ctx_new(const struct tlsd_args *a)
{
	SSL_CTX *ctx;

	init_library();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		log_fatal("SSL_CTX_new: %s", tlsd_ssl_error());
	set_policy(ctx, a->min_version);
	load_certs(ctx, a);
	return ctx;
}
