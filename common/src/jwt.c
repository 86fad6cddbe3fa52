/* jwt.c - HS256 JSON Web Tokens (RFC 7519 / RFC 7515 compact serialisation). */
#include "onsight/jwt.h"
#include "onsight/b64.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

const char *jwt_strerror(enum jwt_err e)
{
	switch (e) {
	case JWT_OK:
		return "ok";
	case JWT_EMALFORMED:
		return "malformed token";
	case JWT_EALG:
		return "algorithm not accepted";
	case JWT_ESIG:
		return "bad signature";
	case JWT_EEXPIRED:
		return "token expired";
	case JWT_ENOTYET:
		return "token not yet valid";
	}
	return "unknown error";
}

static int hs256(const uint8_t *key, size_t keylen, const char *data, size_t n, uint8_t mac[32])
{
	unsigned int maclen = 32;

	return HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, n, mac, &maclen) !=
	                NULL
	        ? 0
	        : EIO;
}

int jwt_sign(const uint8_t *key, size_t keylen, const json_t *claims, char **tokenp)
{
	char *payload = NULL, *tok = NULL;
	size_t hl = strlen(jwt_header), pl, off, cap;
	uint8_t mac[32];
	int err = 0;

	if (!key || !claims || !tokenp)
		return EINVAL;
	payload = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	if (!payload)
		return ENOMEM;
	pl = strlen(payload);
	cap = b64_enclen(hl, 1) + b64_enclen(pl, 1) + b64_enclen(32, 1) + 2;
	tok = malloc(cap);
	if (!tok) {
		err = ENOMEM;
		goto out;
	}
	off = b64_encode((const uint8_t *)jwt_header, hl, tok, 1);
	tok[off++] = '.';
	off += b64_encode((const uint8_t *)payload, pl, tok + off, 1);
	err = hs256(key, keylen, tok, off, mac);
	if (err)
		goto out;
	tok[off++] = '.';
	b64_encode(mac, sizeof(mac), tok + off, 1);
	*tokenp = tok;
	tok = NULL;
out:
	free(payload);
	free(tok);
	return err;
}

/* Decodes one base64url part into a JSON object, or NULL. */
static json_t *part_json(const char *p, size_t n)
{
	uint8_t buf[JWT_MAX_LEN];
	size_t len;
	json_t *j;

	if (b64_decode(p, n, buf, sizeof(buf), &len, 1))
		return NULL;
	j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static enum jwt_err check_header(const char *p, size_t n)
{
	json_t *h = part_json(p, n);
	const char *alg;
	enum jwt_err e;

	if (!h)
		return JWT_EMALFORMED;
	alg = json_string_value(json_object_get(h, "alg"));
	/* RFC 8725 §3.1: accept only the algorithm we issue; never "none". */
	e = (alg && strcmp(alg, "HS256") == 0) ? JWT_OK : JWT_EALG;
	if (e == JWT_OK && json_object_get(h, "crit"))
		e = JWT_EMALFORMED;
	json_decref(h);
	return e;
}

static enum jwt_err check_times(const json_t *c, time_t now)
{
	const json_t *exp = json_object_get(c, "exp");
	const json_t *iat = json_object_get(c, "iat");
	const json_t *nbf = json_object_get(c, "nbf");

	if (!json_is_integer(exp) || json_integer_value(exp) <= (json_int_t)now)
		return JWT_EEXPIRED;
	if (iat &&
	    (!json_is_integer(iat) || json_integer_value(iat) > (json_int_t)now + JWT_LEEWAY_S))
		return JWT_ENOTYET;
	if (nbf &&
	    (!json_is_integer(nbf) || json_integer_value(nbf) > (json_int_t)now + JWT_LEEWAY_S))
		return JWT_ENOTYET;
	return JWT_OK;
}

enum jwt_err jwt_verify(const uint8_t *key, size_t keylen, const char *token, time_t now,
                        json_t **claimsp)
{
	const char *d1, *d2;
	uint8_t mac[32], sig[64];
	size_t n, siglen;
	json_t *claims = NULL;
	enum jwt_err e;

	if (!key || !token)
		return JWT_EMALFORMED;
	n = strnlen(token, JWT_MAX_LEN + 1);
	if (n > JWT_MAX_LEN)
		return JWT_EMALFORMED;
	d1 = memchr(token, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token)))
		return JWT_EMALFORMED;
	e = check_header(token, (size_t)(d1 - token));
	if (e)
		return e;
	if (b64_decode(d2 + 1, n - (size_t)(d2 + 1 - token), sig, sizeof(sig), &siglen, 1) ||
	    siglen != sizeof(mac))
		return JWT_ESIG;
	if (hs256(key, keylen, token, (size_t)(d2 - token), mac))
		return JWT_ESIG;
	if (CRYPTO_memcmp(mac, sig, sizeof(mac)) != 0)
		return JWT_ESIG;
	/* Only a signed payload is parsed. */
	claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!claims)
		return JWT_EMALFORMED;
	e = check_times(claims, now);
	if (e == JWT_OK && claimsp) {
		*claimsp = claims;
		claims = NULL;
	}
	json_decref(claims);
	return e;
}
