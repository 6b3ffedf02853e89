/*
 * tls.c — the client SSL_CTX of postern-deliver (tls.h).  Runs before the
 * sandbox: OPENSSL_init_ssl loads the configuration (OPENSSL_CONF, fixed
 * by the master) and the providers, and the CA bundle is read into the
 * context's X509 store, so no handshake or verification inside the
 * sandbox needs a file.  Failure policy: fatal (exit 111).
 */
#include <openssl/err.h>

#include "log.h"
#include "tls.h"

/* The client context (see tls.h). */
SSL_CTX *tls_client_ctx(const char *cafile)
{
	SSL_CTX *ctx;

	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
	                     NULL) != 1)
		log_fatal("openssl-init");
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		log_fatal("tls-context");
	/* No session cache: every connection is a fresh handshake, and no
	 * ticket needs storing. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cafile != NULL && SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		log_fatal("ca-bundle-unreadable");
	ERR_clear_error();
	return ctx;
}
