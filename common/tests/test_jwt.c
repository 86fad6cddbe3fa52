#include "onsight/b64.h"
#include "onsight/jwt.h"

#include "testutil.h"
#include <check.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t key[] = "lab-secret-0123456789";
#define KEYLEN (sizeof(key) - 1)
static const time_t now = 1800000000;

static char *make(json_int_t exp_off)
{
	json_t *c = json_pack("{s:s, s:I, s:I, s:s}", "sub", "alice", "iat", (json_int_t)now, "exp",
	                      (json_int_t)now + exp_off, "device_id", "dev1");
	char *tok = NULL;

	ck_assert_int_eq(jwt_sign(key, KEYLEN, c, &tok), 0);
	json_decref(c);
	return tok;
}

START_TEST(test_jwt_roundtrip_returns_claims)
{
	char *tok = make(300);
	json_t *claims = NULL;

	ck_assert_int_eq(jwt_verify(key, KEYLEN, tok, now, &claims), JWT_OK);
	ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), "alice");
	ck_assert_str_eq(json_string_value(json_object_get(claims, "device_id")), "dev1");
	json_decref(claims);
	free(tok);
}
END_TEST

START_TEST(test_jwt_rejects_expired_token)
{
	char *tok = make(300);

	ck_assert_int_eq(jwt_verify(key, KEYLEN, tok, now + 300, NULL), JWT_EEXPIRED);
	ck_assert_int_eq(jwt_verify(key, KEYLEN, tok, now + 299, NULL), JWT_OK);
	free(tok);
}
END_TEST

START_TEST(test_jwt_rejects_token_issued_in_future)
{
	char *tok = make(300);

	ck_assert_int_eq(jwt_verify(key, KEYLEN, tok, now - JWT_LEEWAY_S - 1, NULL), JWT_ENOTYET);
	free(tok);
}
END_TEST

START_TEST(test_jwt_rejects_wrong_key_and_tampered_payload)
{
	char *tok = make(300);
	char *dot;
	json_t *c2 = json_pack("{s:s, s:I}", "sub", "mallory", "exp", (json_int_t)now + 300);
	char body[256], forged[1024];

	ck_assert_int_eq(jwt_verify((const uint8_t *)"other", 5, tok, now, NULL), JWT_ESIG);
	/* Swap the payload for another one, keeping header and signature. */
	{
		char *p = json_dumps(c2, JSON_COMPACT);
		b64_encode((const uint8_t *)p, strlen(p), body, 1);
		free(p);
	}
	dot = strchr(tok, '.');
	*dot = '\0';
	snprintf(forged, sizeof(forged), "%s.%s.%s", tok, body, strrchr(dot + 1, '.') + 1);
	ck_assert_int_eq(jwt_verify(key, KEYLEN, forged, now, NULL), JWT_ESIG);
	json_decref(c2);
	free(tok);
}
END_TEST

START_TEST(test_jwt_rejects_alg_none_and_malformed)
{
	/* {"alg":"none"}.{"sub":"x","exp":9999999999}. */
	const char *none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.";
	char big[JWT_MAX_LEN + 10];

	ck_assert_int_eq(jwt_verify(key, KEYLEN, none, now, NULL), JWT_EALG);
	ck_assert_int_eq(jwt_verify(key, KEYLEN, "abc", now, NULL), JWT_EMALFORMED);
	ck_assert_int_eq(jwt_verify(key, KEYLEN, "a.b.c.d", now, NULL), JWT_EMALFORMED);
	ck_assert_int_eq(jwt_verify(key, KEYLEN, "!!.b.c", now, NULL), JWT_EMALFORMED);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(jwt_verify(key, KEYLEN, big, now, NULL), JWT_EMALFORMED);
	ck_assert_str_eq(jwt_strerror(JWT_EEXPIRED), "token expired");
}
END_TEST

START_TEST(test_jwt_requires_exp)
{
	json_t *c = json_pack("{s:s}", "sub", "alice");
	char *tok = NULL;

	ck_assert_int_eq(jwt_sign(key, KEYLEN, c, &tok), 0);
	ck_assert_int_eq(jwt_verify(key, KEYLEN, tok, now, NULL), JWT_EEXPIRED);
	json_decref(c);
	free(tok);
}
END_TEST

TU_SUITE("jwt", test_jwt_roundtrip_returns_claims, test_jwt_rejects_expired_token,
         test_jwt_rejects_token_issued_in_future, test_jwt_rejects_wrong_key_and_tampered_payload,
         test_jwt_rejects_alg_none_and_malformed, test_jwt_requires_exp)
