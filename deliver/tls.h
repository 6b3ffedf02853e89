/*
 * tls.h — postern-deliver's OpenSSL client context, made once before the
 * sandbox (DESIGN §1: the CA bundle is a file, loaded while files can
 * still be opened).  TLS 1.2 or newer only.  Verification is off in the
 * context; conn_starttls turns it on per connection for tls=verify.
 */
#ifndef POSTERN_DELIVER_TLS_H
#define POSTERN_DELIVER_TLS_H

#include <openssl/ssl.h>

/* The client context; cafile may be NULL.  Fatal on failure. */
SSL_CTX *tls_client_ctx(const char *cafile);

#endif
