/* transport.h - SIP over UDP, TCP and TLS (RFC 3261 §18) on the event loop.
 *
 * A flow names where a message came from and how to answer: the UDP socket and source
 * address, or the stream connection. Streams are framed with sipframe (Content-Length);
 * a framing error closes the connection (RFC 3261 §18.3). Sending on a flow whose
 * connection is gone opens a new TCP connection to the peer address (never for TLS: the
 * peer is behind NAT or a tunnel and only its own connection reaches it).
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include "onsight/evloop.h"
#include "onsight/sock.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

enum tp_kind { TP_UDP = 0, TP_TCP, TP_TLS };

struct tp_flow {
	enum tp_kind kind;
	struct sock_addr peer; /* source address (received/rport) */
	struct sock_addr local; /* our address the flow arrived on */
	uint64_t conn; /* stream connection id; 0 for UDP */
};

struct tp_limits {
	size_t max_msg; /* one SIP message */
	size_t max_conns; /* stream connections, in and out */
	uint64_t idle_ms; /* stream idle timeout */
};

/* framing_err: a datagram whose Content-Length exceeds it (answer 400) - streams close
 * themselves instead. */
typedef void(tp_recv_h)(void *arg, const struct tp_flow *from, const char *msg, size_t len,
                        int framing_err);

struct tp;

int tp_alloc(struct tp **tpp, struct evloop *loop, SSL_CTX *tls, const struct tp_limits *lim,
             tp_recv_h *h, void *arg) __attribute__((warn_unused_result));
void tp_free(struct tp *t);
/* UDP and TCP on sip_port, TLS on tls_port (when a TLS context was given) of addr. Port 0
 * binds an ephemeral port (the same one is not guaranteed for UDP and TCP). */
int tp_listen(struct tp *t, const struct sock_addr *addr, uint16_t sip_port, uint16_t tls_port)
        __attribute__((warn_unused_result));
/* Sends one message on flow f. Returns 0, ENOTCONN (TLS flow gone), EMSGSIZE, ENOBUFS. */
int tp_send(struct tp *t, const struct tp_flow *f, const char *buf, size_t len);
/* The bound address of the i'th listener of kind k, for tests and the built-in peer. */
int tp_bound(const struct tp *t, size_t i, enum tp_kind k, struct sock_addr *out);
/* Our address for Via/Record-Route on a flow of kind k toward family fam. */
int tp_local(const struct tp *t, enum tp_kind k, int fam, struct sock_addr *out);
int tp_conn_alive(const struct tp *t, uint64_t id);
size_t tp_conn_count(const struct tp *t);
const char *tp_kind_name(enum tp_kind k);

#endif
