/* sipframe.h - SIP message framing (RFC 3261 §18.3, §7.5) with caps.
 *
 * On a stream (TCP, TLS, a tunnel) a message ends Content-Length octets after the empty line
 * that ends its headers; Content-Length is mandatory there. In a datagram it may be absent
 * (the body is the rest), and octets past Content-Length are ignored. Lines may end in CRLF
 * or a bare LF. CRLFs before a start line are skipped (§7.5); a double CRLF on a stream is a
 * keep-alive ping (RFC 5626 §4.4.1) that the transport answers with one CRLF.
 */
#ifndef ONSIGHT_SIPFRAME_H
#define ONSIGHT_SIPFRAME_H

#include <stddef.h>

#define SIPFRAME_MAX_MSG 65535 /* default cap on one message (headers + body) */

enum sipframe_result {
	SIPFRAME_MORE = 0, /* need more octets */
	SIPFRAME_MSG = 1, /* a whole message */
	SIPFRAME_PING = 2, /* CRLFCRLF keep-alive: answer "\r\n" */
};

struct sipframe_info {
	size_t skip; /* leading CRLFs before the start line */
	size_t hdr_len; /* start line + headers + empty line */
	size_t body_len; /* per Content-Length (datagram: the rest when absent) */
	size_t total; /* octets consumed from the buffer: skip + hdr_len + body_len */
};

/* Frames one message at buf. stream selects the stream rules above. Returns a
 * sipframe_result, or -EMSGSIZE (headers or body beyond max), -EBADMSG (Content-Length
 * missing on a stream, negative, non-numeric, repeated, or larger than a datagram). */
int sipframe_scan(const char *buf, size_t len, size_t max, int stream, struct sipframe_info *fi);

/* The value of Content-Length ("l" compact form) in a header block, or -1 when absent,
 * -2 when malformed or repeated. */
long sipframe_content_length(const char *hdr, size_t len);

/* A stream reassembly buffer with a cap: feed what the socket read, take whole messages. */
struct sipframe;

int sipframe_alloc(struct sipframe **fp, size_t max) __attribute__((warn_unused_result));
void sipframe_free(struct sipframe *f);
/* Appends len octets. Returns 0, or ENOBUFS when the buffer would exceed its cap (the caller
 * closes the connection). */
int sipframe_feed(struct sipframe *f, const void *data, size_t len)
        __attribute__((warn_unused_result));
/* Takes the next message: returns SIPFRAME_MSG with *msg and *len pointing into the buffer
 * (valid until the next sipframe_feed or sipframe_next), SIPFRAME_PING, SIPFRAME_MORE, or a
 * negative errno as sipframe_scan (the stream cannot be resynchronised: close it). */
int sipframe_next(struct sipframe *f, const char **msg, size_t *len);
/* The value of the first header `name` (case-insensitive; no compact forms, no folded
 * lines) in the header block of a framed message msg[0..len), which need not end in NUL:
 * leading spaces and the line end removed, copied into out (cut to cap). NULL if absent. */
const char *sipframe_header(const char *msg, size_t len, const char *name, char *out, size_t cap);
/* Octets buffered and not yet returned. */
size_t sipframe_pending(const struct sipframe *f);

#endif
