/* sipconn.h - a direct SIP transport connection (UDP, TCP or TLS) on the event loop.
 *
 * Stream input is framed with common/sipframe (RFC 3261 §18.3) and handed over one message
 * at a time. A CRLFCRLF keep-alive is answered with CRLF (RFC 5626 §4.4.1). When the peer
 * closes, the close handler runs from a fresh loop iteration, so it may free the connection.
 */
#ifndef EP_SIPCONN_H
#define EP_SIPCONN_H

#include <openssl/ssl.h>
#include <stddef.h>

struct evloop;
struct sipconn;

typedef void(sipconn_msg_h)(void *arg, const char *msg, size_t len);
typedef void(sipconn_close_h)(void *arg, const char *reason);

struct sipconn_opts {
	const char *host;
	unsigned port;
	const char *transport; /* "udp" | "tcp" | "tls" */
	SSL_CTX *ctx; /* for tls */
	const char *proxy_host; /* non-NULL: reach the server through CONNECT (fault only) */
	unsigned proxy_port;
	unsigned timeout_ms;
};

/* Connects (blocking, bounded by timeout_ms). On failure reason says why. */
int sipconn_open(struct sipconn **cp, struct evloop *loop, const struct sipconn_opts *o,
                 sipconn_msg_h *onmsg, sipconn_close_h *onclose, void *arg, char *reason,
                 size_t rlen) __attribute__((warn_unused_result));
void sipconn_free(struct sipconn *c);
int sipconn_send(struct sipconn *c, const char *buf, size_t len)
        __attribute__((warn_unused_result));
/* Our address and port on this connection (for Via and Contact). */
void sipconn_local(const struct sipconn *c, char *host, size_t len, unsigned *port);
/* The server's address as "ip:port". */
const char *sipconn_remote(const struct sipconn *c);

#endif
