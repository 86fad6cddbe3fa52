/* server.h - the TeamLink tunnel server and the TCM on one event loop.
 *
 * Listeners carry roles: tunnel (GET /teamlink/v1/tunnel upgrade, docs/protocol/teamlink.md)
 * and/or tcm (GET /tcm/v1/assign); GET /healthz is answered everywhere. HTTP/1.1 on our own
 * parser, TLS with OpenSSL, no threads.
 */
#ifndef TEAMLINK_SERVER_H
#define TEAMLINK_SERVER_H

#include "onsight/sock.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct journal;
struct tlsrv;

enum { TLSRV_ROLE_TUNNEL = 1, TLSRV_ROLE_TCM = 2 };

struct tlsrv_limits {
	unsigned max_tunnels; /* 256 */
	unsigned max_channels; /* per tunnel, 64 */
	size_t max_inflight; /* bytes queued towards one client, 1 MiB */
	unsigned head_timeout_ms; /* upgrade/TCM request head deadline, 10000 */
	unsigned connect_timeout_ms; /* SIP connect + TLS handshake, 5000 */
	unsigned ping_after_ms; /* keepalive ping after this much silence, 20000 */
	unsigned dead_after_ms; /* tunnel closed after this much silence, 60000 */
	unsigned udp_idle_ms; /* UDP channel idle, 120000 */
	unsigned health_interval_ms; /* TCM health checks, 5000 */
	unsigned max_conns; /* HTTP connections not yet upgraded, 512 */
};

void tlsrv_limits_default(struct tlsrv_limits *l);

/* tls_server may be NULL when no https listener is used; upstream_ca NULL: system store. All
 * borrowed pointers must outlive the server. */
int tlsrv_alloc(struct tlsrv **sp, struct evloop *loop, struct journal *j, SSL_CTX *tls_server,
                SSL_CTX *tls_upstream, const struct tlsrv_limits *lim)
        __attribute__((warn_unused_result));
void tlsrv_free(struct tlsrv *s);
/* Replaces the JWT secret (copied). */
int tlsrv_set_secret(struct tlsrv *s, const uint8_t *key, size_t len)
        __attribute__((warn_unused_result));
/* Listens on addr; bound gets the actual address (port 0 = ephemeral). */
int tlsrv_listen(struct tlsrv *s, const struct sock_addr *addr, int tls, int roles,
                 struct sock_addr *bound) __attribute__((warn_unused_result));
/* Adds a TeamLink server the TCM assigns: "HOST:PORT:SCHEME" (scheme https|http). */
int tlsrv_add_tcm_server(struct tlsrv *s, const char *spec) __attribute__((warn_unused_result));
/* Ends every tunnel (channels get ERROR 503, the WebSocket close 1001). */
void tlsrv_shutdown(struct tlsrv *s);
unsigned tlsrv_tunnels(const struct tlsrv *s);

/* Resolves a channel destination; returns 0 or an errno. The default accepts numeric
 * addresses and resolves names with getaddrinfo (blocking). */
typedef int(tlsrv_resolve_fn)(const char *host, uint16_t port, int socktype, struct sock_addr *out);
void tlsrv_set_resolver(struct tlsrv *s, tlsrv_resolve_fn *fn);
/* Serves an already connected socket as if accepted on a listener with these settings
 * (used by the fuzz harness over a socketpair). Takes fd. */
int tlsrv_adopt(struct tlsrv *s, int fd, int tls, int roles, const char *client)
        __attribute__((warn_unused_result));

#endif
