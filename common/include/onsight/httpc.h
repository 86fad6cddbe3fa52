/* httpc.h - a small non-blocking HTTP/1.1 client on the event loop.
 *
 * One request per connection: resolve and connect (directly, or to a web proxy and
 * `CONNECT host:port` through it, RFC 9110 §9.3.6), TLS with certificate verification against
 * the context's CA and the URL's host name (SNI too), send the request, read the response head
 * and body with caps. A 1xx/101 answer ends at its head, and the caller may take the
 * connection over (WebSocket upgrade). Also usable blocking, with a deadline.
 *
 * Name resolution uses getaddrinfo and blocks the loop for its duration (lab DNS is local).
 * A plain-http URL through a proxy also uses CONNECT (forwarding proxies do not pass upgrades).
 */
#ifndef ONSIGHT_HTTPC_H
#define ONSIGHT_HTTPC_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct httpc;

#define HTTPC_MAX_HEAD_DEFAULT 16384u
#define HTTPC_MAX_BODY_DEFAULT (1u << 20)
#define HTTPC_MAX_HEADERS 64
#define HTTPC_TIMEOUT_DEFAULT_MS 30000u

struct httpc_opts {
	const char *url; /* http://HOST[:PORT]/PATH or https://... (HOST may be [v6]) */
	const char *method; /* NULL: GET */
	const char *proxy; /* "HOST:PORT" of a web proxy, or NULL */
	/* Connect here instead of resolving HOST (like curl --resolve); "ADDR:PORT" numeric.
	 * Ignored with a proxy (the proxy resolves). NULL: resolve. */
	const char *connect_to;
	SSL_CTX *tls; /* client context (tls_client_ctx) for https; borrowed */
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
	const void *body;
	size_t body_len;
	size_t max_head; /* 0: HTTPC_MAX_HEAD_DEFAULT */
	size_t max_body; /* 0: HTTPC_MAX_BODY_DEFAULT */
	unsigned timeout_ms; /* whole exchange; 0: HTTPC_TIMEOUT_DEFAULT_MS */
};

struct httpc_header {
	char *name;
	char *value;
};

struct httpc_resp {
	int status;
	char reason[64];
	struct httpc_header headers[HTTPC_MAX_HEADERS];
	unsigned nheaders;
	char *body; /* NUL-terminated (not counted in body_len); NULL if none */
	size_t body_len;
};

/* Where a failed request stopped; with the errno it tells a user what to fix. */
enum httpc_stage {
	HTTPC_ST_RESOLVE = 1,
	HTTPC_ST_CONNECT,
	HTTPC_ST_PROXY, /* the proxy refused CONNECT: see httpc_proxy_status */
	HTTPC_ST_TLS,
	HTTPC_ST_REQUEST,
	HTTPC_ST_RESPONSE,
	HTTPC_ST_DONE
};

/* Called once. err 0: resp is the answer (borrowed; valid until httpc_free). Otherwise resp is
 * NULL and httpc_error(c) says why. The handler may call httpc_free(c). */
typedef void(httpc_done_h)(struct httpc *c, int err, const struct httpc_resp *resp, void *arg);

/* Starts the request. Strings in o are copied; o->tls is borrowed and must outlive c. */
int httpc_start(struct httpc **cp, struct evloop *loop, const struct httpc_opts *o, httpc_done_h *h,
                void *arg) __attribute__((warn_unused_result));
/* Cancels what is pending and frees c (NULL is a no-op). No callback after this. */
void httpc_free(struct httpc *c);

/* Human text of the failure, e.g. "proxy 127.0.0.1:3128 refused CONNECT localhost:443:
 * 403 Filtered" or "TLS: certificate verify failed (self-signed certificate)". */
const char *httpc_error(const struct httpc *c);
enum httpc_stage httpc_stage(const struct httpc *c);
/* The proxy's status for CONNECT (200 when it accepted), 0 if no proxy answer yet. */
int httpc_proxy_status(const struct httpc *c);

/* After a successful response (typically 101): hands over the connection. *fdp is the socket
 * (non-blocking), *sslp the TLS session or NULL, and *extrap, *extralenp the bytes received
 * after the response head (caller frees *extrap; may be NULL). c must still be freed; it no
 * longer owns the connection. */
int httpc_take_conn(struct httpc *c, int *fdp, SSL **sslp, uint8_t **extrap, size_t *extralenp)
        __attribute__((warn_unused_result));

/* Case-insensitive lookup; the first header of that name, or NULL. */
const char *httpc_resp_header(const struct httpc_resp *r, const char *name);

/* Blocking form on a private loop: *rp is a new response (httpc_resp_free) on success.
 * err gets httpc_error's text on failure. */
int httpc_request(const struct httpc_opts *o, struct httpc_resp **rp, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void httpc_resp_free(struct httpc_resp *r);

/* Parses a response head ("HTTP/1.1 200 OK\r\n...\r\n\r\n", len bytes including the blank
 * line) into r (headers allocated; release with httpc_resp_clear). Returns 0 or EINVAL.
 * Exposed for tests and the fuzzer. */
int httpc_parse_head(const char *buf, size_t len, struct httpc_resp *r)
        __attribute__((warn_unused_result));
void httpc_resp_clear(struct httpc_resp *r);

/* Decodes chunked transfer coding (RFC 9112 section 7.1) incrementally. The caller zeroes the
 * state struct. Consumes input from in[0..len), appends data to out (capacity cap, *outlen
 * in/out). Returns 1 when the last chunk and trailers are done, 0 if more input is needed,
 * EINVAL on bad syntax, EFBIG when the body exceeds cap. *used gets the bytes consumed. */
struct httpc_chunked {
	int state;
	uint64_t remain;
	unsigned digits;
	unsigned linelen;
};
int httpc_chunked_feed(struct httpc_chunked *st, const uint8_t *in, size_t len, size_t *used,
                       uint8_t *out, size_t cap, size_t *outlen)
        __attribute__((warn_unused_result));

/* Splits an http(s) URL. host gets the host without brackets. Returns 0 or EINVAL. */
int httpc_url_parse(const char *url, int *tlsp, char *host, size_t hostlen, uint16_t *portp,
                    char *path, size_t pathlen) __attribute__((warn_unused_result));

#endif
