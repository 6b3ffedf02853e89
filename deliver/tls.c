/*
 * tls.c — the client SSL_CTX of postern-deliver (tls.h).  Runs before the
 * sandbox: OPENSSL_init_ssl loads the configuration (OPENSSL_CONF, fixed
 * by the master) and the providers, and the CA bundle's bytes are read
 * into memory, so no handshake or verification inside the sandbox needs
 * a file.  The bundle is parsed into the context's X509 store only when
 * the first tls=verify connection needs it (tls_ca_ready, in the
 * sandbox: memory only, no file): parsing Debian's 140-certificate
 * bundle costs about 35 ms of CPU, paid before by every worker at every
 * recycling (every deliver_batch jobs) although most routes never verify
 * (bench/README.md "Scenario D").  Failure policy: an unreadable bundle at
 * start is fatal (exit 111); one that yields no certificate makes each
 * tls=verify attempt temp 4.7.5.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "readfull.h"
#include "tls.h"

/* A larger "bundle" is not one: Debian's is about 220 KiB. */
#define CA_BUNDLE_MAX (16u << 20)

/* The bundle's bytes until parsed; ca_state: 0 none configured, 1 read
 * and not parsed yet, 2 in the store, 3 unusable. */
static unsigned char *ca_pem;
static size_t ca_len;
static int ca_state;

/* Read the whole file into ca_pem (before the sandbox).  0 or -1. */
static int ca_read(const char *path)
{
	struct stat st;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > CA_BUNDLE_MAX || (ca_pem = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return -1;
	}
	got = read_full(fd, ca_pem, (size_t)st.st_size);
	close(fd);
	if (got != (ssize_t)st.st_size) {
		free(ca_pem);
		ca_pem = NULL;
		return -1;
	}
	ca_len = (size_t)got;
	ca_state = 1;
	return 0;
}

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
	if (cafile != NULL && ca_read(cafile) != 0)
		log_fatal("ca-bundle-unreadable");
	ERR_clear_error();
	return ctx;
}

/* Every certificate (and CRL) of the bundle into ctx's store, the way
 * SSL_CTX_load_verify_locations reads a CA file; the count of
 * certificates added. */
static size_t ca_parse(SSL_CTX *ctx)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *bio = BIO_new_mem_buf(ca_pem, (int)ca_len);
	STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
	size_t n = 0;

	for (int i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *x = sk_X509_INFO_value(infos, i);

		if (x->x509 != NULL && X509_STORE_add_cert(store, x->x509) == 1)
			n++;
		if (x->crl != NULL)
			(void)X509_STORE_add_crl(store, x->crl);
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	ERR_clear_error();
	return n;
}

/* 1 if ctx can verify a server (see tls.h). */
int tls_ca_ready(SSL_CTX *ctx)
{
	if (ca_state == 1) {
		ca_state = ca_parse(ctx) > 0 ? 2 : 3;
		free(ca_pem);
		ca_pem = NULL;
		ca_len = 0;
		if (ca_state == 3)
			log_event("ca-bundle-unusable", "certificates=0");
	}
	return ca_state == 2;
}
