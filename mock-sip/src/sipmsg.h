/* sipmsg.h - SIP messages: libosip2 parses and prints; validation, the fields every module
 * reads, and response construction are here.
 *
 * libosip2 accepts messages RFC 3261 forbids (a bare request line, repeated single-value
 * headers, a CSeq method unlike the request method); sipmsg_parse() adds those checks and
 * says which status the sender gets (RFC 4475 §3.1.2, §3.3).
 */
#ifndef SIPMSG_H
#define SIPMSG_H

#include <stddef.h>
#include <sys/time.h>
#include <stdlib.h>
#include <osip2/osip.h>

#define SIPMSG_TOKEN 256 /* longest Call-ID, tag, branch kept */

struct sipmsg {
	osip_message_t *m; /* owned */
	int is_request;
	const char *method; /* request method, or the CSeq method of a response */
	int status; /* responses */
	unsigned long cseq;
	int max_forwards; /* -1 when absent */
	char call_id[SIPMSG_TOKEN];
	char branch[SIPMSG_TOKEN]; /* top Via branch ("" when absent) */
	char from_tag[SIPMSG_TOKEN];
	char to_tag[SIPMSG_TOKEN];
	char from_uri[SIPMSG_TOKEN]; /* user@host of From (no scheme or parameters) */
	char to_uri[SIPMSG_TOKEN];
};

/* Initialises the parser once and routes libosip2's trace output to our log. */
void sipmsg_global_init(void);

enum sipmsg_verdict {
	SIPMSG_OK = 0,
	SIPMSG_DROP = -1, /* malformed response or unusable: discard silently */
};

/* Parses and validates one framed message. Returns SIPMSG_OK, SIPMSG_DROP, or the status a
 * request must be answered with (400, 416, 420, 505, ...) with *reason set. On any result
 * but SIPMSG_DROP, s->m may be set (free with sipmsg_clear). */
int sipmsg_parse(struct sipmsg *s, const char *buf, size_t len, const char **reason);
void sipmsg_clear(struct sipmsg *s);

/* A response to req: Via, From, To (with to_tag added if non-NULL and To has none),
 * Call-ID, CSeq copied. Caller frees *out with osip_message_free. */
int sipmsg_response(const struct sipmsg *req, int status, const char *reason, const char *to_tag,
                    osip_message_t **out) __attribute__((warn_unused_result));
/* A response from raw text when libosip2 could not parse it: copies Via, From, To, Call-ID,
 * CSeq lines. Returns the length, 0 when no Via (nothing to answer), -ENOSPC. */
int sipmsg_raw_response(const char *msg, size_t len, int status, const char *reason, char *out,
                        size_t cap);
/* Serialises m into a malloc'd buffer (caller frees with osip_free / free). */
int sipmsg_print(osip_message_t *m, char **buf, size_t *len) __attribute__((warn_unused_result));
/* Replaces the body (Content-Type and Content-Length follow). NULL body removes it. */
int sipmsg_set_body(osip_message_t *m, const char *body, size_t len, const char *ctype);
/* The first body and its length, or NULL. */
const char *sipmsg_body(const osip_message_t *m, size_t *len);
/* Value of header name (first occurrence) or NULL. */
const char *sipmsg_header(const osip_message_t *m, const char *name);
/* user part of a URI ("" when none) into out. */
void sipmsg_uri_user(const osip_uri_t *u, char *out, size_t cap);

#endif
