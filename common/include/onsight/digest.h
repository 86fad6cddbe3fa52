/* digest.h - HTTP/SIP Digest authentication, MD5 with qop=auth (RFC 2617, RFC 3261 §22.4).
 *
 * Client side: parse a WWW-Authenticate/Proxy-Authenticate challenge and build the
 * Authorization value. Server side: a nonce store that issues nonces, expires them after a
 * time to live, and rejects a nonce-count that does not increase (replay). The store is a
 * fixed ring of slots (bounded memory); an evicted nonce is answered as stale.
 */
#ifndef ONSIGHT_DIGEST_H
#define ONSIGHT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_MAX_PARAM 256 /* longest parameter value kept; longer values are refused */

struct digest_params {
	char username[DIGEST_MAX_PARAM];
	char realm[DIGEST_MAX_PARAM];
	char nonce[DIGEST_MAX_PARAM];
	char uri[DIGEST_MAX_PARAM];
	char response[DIGEST_MAX_PARAM];
	char opaque[DIGEST_MAX_PARAM];
	char algorithm[32];
	char qop[64]; /* challenge: the offered list, "auth,auth-int"; credentials: the one chosen */
	char cnonce[DIGEST_MAX_PARAM];
	char nc[16];
	int stale;
};

/* Parses "Digest k=v, k=\"v\", ..." (a challenge or credentials). Unknown parameters are
 * skipped. Returns 0, EPROTONOSUPPORT for another scheme, EINVAL for bad syntax or a value
 * longer than its field. */
int digest_parse(const char *value, struct digest_params *p) __attribute__((warn_unused_result));

/* HA1 = MD5(user:realm:password) as 32 hex digits and NUL. */
void digest_ha1(const char *user, const char *realm, const char *password, char out[33]);
/* response per RFC 2617 §3.2.2.1 (qop NULL or "" gives the RFC 2069 form). */
void digest_response(const char *ha1, const char *nonce, const char *nc, const char *cnonce,
                     const char *qop, const char *method, const char *uri, char out[33]);

/* Client: writes an Authorization value answering ch for method/uri with the nc'th use of
 * the nonce and cnonce. qop=auth is used when offered. Returns 0 or ENOSPC. */
int digest_authorization(char *buf, size_t cap, const struct digest_params *ch, const char *user,
                         const char *password, const char *method, const char *uri, uint32_t nc,
                         const char *cnonce) __attribute__((warn_unused_result));

/* Server side. */
struct digest_server;

enum digest_verdict {
	DIGEST_OK = 0,
	DIGEST_STALE, /* nonce expired or unknown (evicted): challenge again with stale=true */
	DIGEST_REPLAY, /* nonce-count not above the last accepted one */
	DIGEST_BAD, /* wrong response, realm, or malformed credentials */
};

const char *digest_verdict_str(enum digest_verdict v);

/* ttl_ms: nonce lifetime; slots: nonces remembered at once (oldest evicted first). */
int digest_server_alloc(struct digest_server **sp, uint64_t ttl_ms, size_t slots)
        __attribute__((warn_unused_result));
void digest_server_free(struct digest_server *s);
/* Issues a fresh nonce at time now_ms into out (at least 41 bytes). */
int digest_server_nonce(struct digest_server *s, uint64_t now_ms, char *out, size_t len)
        __attribute__((warn_unused_result));
/* Verifies credentials c for method with the user's password (or ha1 when password is NULL)
 * in realm. On DIGEST_OK the nonce-count is recorded (a repeat becomes DIGEST_REPLAY). Without
 * qop (RFC 2069) a nonce is good for one use. */
enum digest_verdict digest_server_check(struct digest_server *s, uint64_t now_ms,
                                        const struct digest_params *c, const char *method,
                                        const char *realm, const char *password, const char *ha1);
/* Writes a challenge value: Digest realm="..", nonce="..", algorithm=MD5, qop="auth"[, stale=true]. */
int digest_server_challenge(struct digest_server *s, uint64_t now_ms, const char *realm, int stale,
                            char *buf, size_t cap) __attribute__((warn_unused_result));

#endif
