/* teamlink/client.h - teamlink.v1 tunnel client on the common event loop (static library
 * target `teamlink-client`; protocol in docs/protocol/teamlink.md).
 *
 * tlc_open connects (directly, or through a web proxy with CONNECT), runs TLS with the CA of
 * the given context and host-name verification, sends the upgrade with the Bearer token and
 * reports OPEN or FAILED through the state handler. Channels carry a SIP byte stream (the
 * server connects TCP/TLS to a SIP server) or datagrams (the server relays to host:port).
 * Nothing here blocks except host-name resolution (getaddrinfo, inside httpc).
 */
#ifndef TEAMLINK_CLIENT_H
#define TEAMLINK_CLIENT_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct tlc;
struct tlc_chan;

enum tlc_state {
	TLC_OPEN, /* upgrade accepted: channels may be opened */
	TLC_CLOSED, /* an open tunnel ended (server close, connection lost, keepalive) */
	TLC_FAILED, /* never opened: see tlc_error, tlc_http_status, tlc_proxy_status */
};

struct tlc_opts {
	const char *url; /* https://HOST[:PORT]/teamlink/v1/tunnel or http://... */
	const char *token; /* OAM token (JWT) */
	SSL_CTX *tls; /* client context (tls_client_ctx with the lab CA); borrowed */
	const char *proxy; /* web proxy "HOST:PORT", or NULL for direct */
	const char *connect_to; /* numeric "ADDR:PORT" to use instead of resolving HOST */
	unsigned timeout_ms; /* connect + upgrade deadline; 0: 10000 */
	unsigned ping_ms; /* keepalive ping interval; 0: 20000 (closed after 3 silent intervals) */
	size_t max_pending; /* SIP bytes queued per channel waiting for window; 0: 256 KiB */
};

/* Called on every state change; reason is human text. The handler may call tlc_free. On
 * TLC_CLOSED every channel has already had its closed callback. */
typedef void(tlc_state_h)(struct tlc *t, enum tlc_state st, const char *reason, void *arg);

int tlc_open(struct tlc **tp, struct evloop *loop, const struct tlc_opts *o, tlc_state_h *h,
             void *arg) __attribute__((warn_unused_result));
/* Closes the tunnel (WebSocket close 1000 with reason, at most 123 bytes; best effort) and
 * frees it and its channels without calling any handler. NULL is a no-op. Do not call it from
 * a channel callback (the state handler may). */
void tlc_close(struct tlc *t, const char *reason);
/* tlc_close(t, NULL). */
void tlc_free(struct tlc *t);

const char *tlc_error(const struct tlc *t);
/* HTTP status of the server's answer to the upgrade (101, 401, 503...), 0 if none came. */
int tlc_http_status(const struct tlc *t);
/* The proxy's answer to CONNECT (200, 403...), 0 without a proxy or before it answered. */
int tlc_proxy_status(const struct tlc *t);

struct tlc_stats {
	uint64_t bytes_tx, bytes_rx; /* payload bytes of data messages */
	uint64_t msgs_tx, msgs_rx;
	uint64_t dropped_tx; /* datagrams refused because the tunnel queue was full */
};
void tlc_get_stats(const struct tlc *t, struct tlc_stats *s);

struct tlc_chan_handlers {
	/* The server connected (SIP) or bound (UDP); server_addr is its local "ADDR:PORT". */
	void (*opened)(struct tlc_chan *c, const char *server_addr, void *arg);
	/* SIP: the next bytes of the stream; UDP: exactly one datagram. */
	void (*data)(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg);
	/* The channel ended: code 0 for CLOSE (remote closed), else an ERROR code (TL_E_* of
	 * teamlink/msg.h). The channel is freed when this returns. */
	void (*closed)(struct tlc_chan *c, int code, const char *text, void *arg);
};

/* Opens a channel; *cp is valid until its closed callback or tlc_chan_close. Returns 0,
 * ENOTCONN when the tunnel is not open, EMFILE when no channel id is free, EINVAL. */
int tlc_open_sip(struct tlc *t, struct tlc_chan **cp, const char *host, uint16_t port, int tls,
                 const struct tlc_chan_handlers *h, void *arg) __attribute__((warn_unused_result));
int tlc_open_udp(struct tlc *t, struct tlc_chan **cp, const char *host, uint16_t port,
                 const struct tlc_chan_handlers *h, void *arg) __attribute__((warn_unused_result));

/* SIP: queues bytes (sent as the server's window allows; ENOBUFS past max_pending).
 * UDP: one datagram (<= 16384 bytes); ENOBUFS when the tunnel's queue is full (dropped). */
int tlc_send(struct tlc_chan *c, const void *p, size_t n);
/* Sends CLOSE and frees the channel at once (no closed callback). */
void tlc_chan_close(struct tlc_chan *c);
/* The same with a reason in the CLOSE (NULL or at most 125 bytes; journalled by the server). */
void tlc_chan_close_reason(struct tlc_chan *c, const char *reason);
uint16_t tlc_chan_id(const struct tlc_chan *c);

#endif
