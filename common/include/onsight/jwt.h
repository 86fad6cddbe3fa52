/* jwt.h - JSON Web Tokens, HS256 only (RFC 7519, RFC 7515).
 *
 * Verification refuses every algorithm but HS256 ("none" included), compares signatures in
 * constant time, and checks "exp" (required) and "iat"/"nbf" against the given clock with
 * a small leeway.
 */
#ifndef ONSIGHT_JWT_H
#define ONSIGHT_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JWT_MAX_LEN 4096 /* longest token accepted */
#define JWT_LEEWAY_S 30 /* clock skew tolerated for iat/nbf */

enum jwt_err {
	JWT_OK = 0,
	JWT_EMALFORMED, /* not three base64url parts, bad JSON, too long */
	JWT_EALG, /* header alg is not HS256 */
	JWT_ESIG, /* signature does not match */
	JWT_EEXPIRED, /* exp missing, or in the past */
	JWT_ENOTYET, /* iat or nbf in the future */
};

const char *jwt_strerror(enum jwt_err e);

/* Signs claims (borrowed) into a new token; caller frees *tokenp with free(). */
int jwt_sign(const uint8_t *key, size_t keylen, const json_t *claims, char **tokenp)
        __attribute__((warn_unused_result));
/* Verifies token; on JWT_OK and claimsp != NULL, *claimsp is a new reference. */
enum jwt_err jwt_verify(const uint8_t *key, size_t keylen, const char *token, time_t now,
                        json_t **claimsp) __attribute__((warn_unused_result));

#endif
