/* httpreq.h - the server's HTTP/1.1 request head parser (RFC 9112 §3, §5), capped, and the
 * checks that turn a request into a tunnel upgrade or a TCM call. */
#ifndef TEAMLINK_HTTPREQ_H
#define TEAMLINK_HTTPREQ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HTTPREQ_MAX_HEAD 8192
#define HTTPREQ_MAX_HEADERS 64

struct http_req {
	const char *method;
	const char *target; /* as sent */
	char path[1024]; /* target without query */
	const char *name[HTTPREQ_MAX_HEADERS];
	const char *value[HTTPREQ_MAX_HEADERS];
	unsigned n;
	char buf[HTTPREQ_MAX_HEAD + 1]; /* copy of the head; names/values point into it */
};

/* Parses a head of len bytes (ending in CRLFCRLF). 0, or 400 (malformed) / 431 (too big). */
int http_req_parse(const char *head, size_t len, struct http_req *r)
        __attribute__((warn_unused_result));
const char *http_req_header(const struct http_req *r, const char *name);
/* 1 if the comma-separated list has token (case-insensitive). */
int http_token_has(const char *list, const char *token);

/* Bearer token check with the shared secret: 0 and user filled on success, else 401 with
 * *error one of missing_token, invalid_token, expired_token. */
int http_auth_bearer(const struct http_req *r, const uint8_t *secret, size_t seclen, time_t now,
                     char *user, size_t userlen, const char **error);

struct upgrade_res {
	int status; /* 101 or the HTTP error status */
	const char *error; /* error code for the JSON body (docs §2.1) */
	char accept[32]; /* Sec-WebSocket-Accept on 101 */
	char user[128];
	int via_proxy;
};

/* Checks a tunnel upgrade request in the order of docs/protocol/teamlink.md §2.1 (method, path,
 * token, WebSocket headers). Fills res; returns res->status. */
int upgrade_check(const struct http_req *r, const uint8_t *secret, size_t seclen, time_t now,
                  struct upgrade_res *res);

#endif
