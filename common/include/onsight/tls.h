/* tls.h - OpenSSL contexts for our servers and clients.
 *
 * TLS 1.2 is the floor. Clients verify the peer certificate chain against a CA file and the
 * host name (SAN). Every context can write NSS key-log lines (the SSLKEYLOGFILE format
 * Wireshark reads) to a file: OpenSSL ignores the SSLKEYLOGFILE variable itself.
 */
#ifndef ONSIGHT_TLS_H
#define ONSIGHT_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/types.h>

/* Server context with a PEM certificate chain and key. keylog may be NULL. */
int tls_server_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file, const char *keylog)
        __attribute__((warn_unused_result));
/* Client context verifying against ca_file (NULL: system store). keylog may be NULL. */
int tls_client_ctx(SSL_CTX **ctxp, const char *ca_file, const char *keylog)
        __attribute__((warn_unused_result));
/* Appends key-log lines for every connection of ctx to path (NULL: $SSLKEYLOGFILE, if set).
 * The file is opened per line in append mode, so several processes may share it. */
int tls_keylog_attach(SSL_CTX *ctx, const char *path);
/* New client SSL on fd with SNI and host-name verification set to host. */
SSL *tls_client_ssl(SSL_CTX *ctx, int fd, const char *host);
/* Fills buf with the last OpenSSL error (and verify result, when ssl is given); returns buf. */
const char *tls_errstr(const SSL *ssl, char *buf, size_t len);
/* One non-blocking read (wr 0) or write (wr 1) of up to n bytes on fd, through ssl when it
 * is not NULL. Returns the bytes moved (>0), 0 when it would block (TLS: also when it
 * must read to write or write to read), -1 on EOF or failure. */
ssize_t tls_sock_io(int fd, SSL *ssl, void *buf, size_t n, int wr);
struct evloop;
/* One step of a server-side handshake (SSL_accept) on the non-blocking fd that loop
 * watches. Returns 0 when the handshake is done, 1 while it waits (fd re-armed on loop for
 * readable or writable, whichever OpenSSL needs), -1 on failure. */
int tls_accept_step(SSL *ssl, struct evloop *loop, int fd);

#endif
