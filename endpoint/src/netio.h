/* netio.h - bounded blocking helpers for the endpoint's short exchanges (probes, OPTIONS,
 * connection set-up): every call takes a deadline and never waits past it.
 */
#ifndef EP_NETIO_H
#define EP_NETIO_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "onsight/sock.h"

/* Resolves host (name or literal) for port; 0 or an errno/EAI mapped to EHOSTUNREACH. */
int netio_resolve(const char *host, unsigned port, int socktype, struct sock_addr *sa)
        __attribute__((warn_unused_result));
/* Connects TCP within timeout_ms; returns a non-blocking fd or -errno. */
int netio_connect(const struct sock_addr *sa, unsigned timeout_ms);
/* Opens a tunnel through an HTTP proxy with CONNECT host:port (RFC 9110 §9.3.6); the
 * proxy's status line goes to status (e.g. 200, 403). Returns fd or -errno. */
int netio_connect_via_proxy(const char *proxy_host, unsigned proxy_port, const char *host,
                            unsigned port, unsigned timeout_ms, int *status);
/* TLS client handshake on fd within timeout_ms, verifying host (unless ctx verifies
 * nothing). Returns 0 and *sslp, or EACCES (certificate), ETIMEDOUT, EPROTO. reason gets
 * OpenSSL's words. */
int netio_tls(SSL_CTX *ctx, int fd, const char *host, unsigned timeout_ms, SSL **sslp, char *reason,
              size_t rlen) __attribute__((warn_unused_result));
/* Writes all of buf (TLS when ssl) within timeout_ms. */
int netio_write_all(int fd, SSL *ssl, const void *buf, size_t len, unsigned timeout_ms)
        __attribute__((warn_unused_result));
/* Reads what is there, waiting up to timeout_ms for something. Returns bytes, 0 on EOF,
 * -ETIMEDOUT or -errno. */
long netio_read(int fd, SSL *ssl, void *buf, size_t cap, unsigned timeout_ms);
/* Milliseconds left until deadline (monotonic ms), 0 when past. */
unsigned netio_left(uint64_t deadline);

#endif
