/* eptunnel.h - the endpoint's TeamLink tunnel: one tunnel, one SIP channel, UDP channels
 * for media (docs/protocol/teamlink.md), on top of the teamlink client library. */
#ifndef EP_EPTUNNEL_H
#define EP_EPTUNNEL_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct rtp;
struct eptunnel;

struct eptunnel_cbs {
	/* The tunnel is up (101 done). */
	void (*up)(void *arg);
	/* The tunnel failed to open or went away; no callback after this one. */
	void (*down)(void *arg, const char *reason);
	/* The SIP channel opened (or failed: ok = 0, reason given). */
	void (*sip_open)(void *arg, int ok, const char *reason);
	/* Bytes of the SIP stream (unframed). */
	void (*sip_data)(void *arg, const uint8_t *buf, size_t len);
	void *arg;
};

struct eptunnel_opts {
	const char *server; /* TeamLink server host */
	unsigned port;
	const char *scheme; /* "https" | "http" */
	const char *token;
	const char *proxy; /* "HOST:PORT" or NULL */
	SSL_CTX *tls;
	unsigned timeout_ms;
};

int eptunnel_open(struct eptunnel **tp, struct evloop *loop, const struct eptunnel_opts *o,
                  const struct eptunnel_cbs *cbs) __attribute__((warn_unused_result));
void eptunnel_free(struct eptunnel *t);
/* OPEN_SIP to the SIP server; transport "tcp" | "tls". */
int eptunnel_sip(struct eptunnel *t, const char *host, unsigned port, const char *transport)
        __attribute__((warn_unused_result));
/* Closes the SIP channel (CLOSE); another may be opened after. */
void eptunnel_sip_close(struct eptunnel *t);
int eptunnel_sip_send(struct eptunnel *t, const char *buf, size_t len)
        __attribute__((warn_unused_result));
/* OPEN_UDP to host:port carrying r's packets both ways. */
int eptunnel_media(struct eptunnel *t, struct rtp *r, const char *host, unsigned port)
        __attribute__((warn_unused_result));
void eptunnel_media_close(struct eptunnel *t, struct rtp *r);
/* After a failed open: 1 when a proxy was used and never answered (could not be resolved or
 * connected), so going direct is the only way left. */
int eptunnel_proxy_unreachable(const struct eptunnel *t);
/* Our address on the tunnel's socket (for Via/Contact/SDP). */
void eptunnel_local(const struct eptunnel *t, char *host, size_t len, unsigned *port);

#endif
