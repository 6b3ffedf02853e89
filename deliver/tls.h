/*
 * tls.h — postern-deliver's OpenSSL client context, made once before the
 * sandbox (DESIGN §1: the CA bundle is a file, read while files can still
 * be opened, parsed on first use).  TLS 1.2 or newer only.  Verification
 * is off in the context; conn_starttls turns it on per connection for
 * tls=verify, after tls_ca_ready.
 */
#ifndef POSTERN_DELIVER_TLS_H
#define POSTERN_DELIVER_TLS_H

#include <openssl/ssl.h>

/* The client context; cafile (may be NULL) is read now, parsed later.
 * Fatal on failure. */
SSL_CTX *tls_client_ctx(const char *cafile);

/* 1 if ctx holds a usable CA bundle for tls=verify: parses the bytes
 * tls_client_ctx read, on the first call only (in the sandbox; memory
 * only).  0 if none was configured or it held no certificate. */
int tls_ca_ready(SSL_CTX *ctx);

#endif
