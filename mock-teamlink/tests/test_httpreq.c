#include "httpreq.h"
#include "onsight/jwt.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const uint8_t key[] = "k3y";

static char *token(long exp_in)
{
	json_t *c = json_pack("{s:s, s:I, s:I}", "sub", "alice", "iat", (json_int_t)time(NULL),
	                      "exp", (json_int_t)(time(NULL) + exp_in));
	char *t = NULL;

	ck_assert_int_eq(jwt_sign(key, 3, c, &t), 0);
	json_decref(c);
	return t;
}

static int check(const char *fmt, const char *tok, struct upgrade_res *u)
{
	char head[4096];
	struct http_req *r = malloc(sizeof(*r));
	int rc;

	snprintf(head, sizeof(head), fmt, tok ? tok : "");
	rc = http_req_parse(head, strlen(head), r);
	if (rc == 0)
		rc = upgrade_check(r, key, 3, time(NULL), u);
	free(r);
	return rc;
}

#define GOOD \
	"GET /teamlink/v1/tunnel?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\n" \
	"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, teamlink.v1\r\n" \
	"Authorization: Bearer %s\r\n"

START_TEST(test_upgrade_accepts_rfc_example_key)
{
	struct upgrade_res u;
	char *t = token(600);

	ck_assert_int_eq(check(GOOD "\r\n", t, &u), 101);
	ck_assert_str_eq(u.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	ck_assert_str_eq(u.user, "alice");
	ck_assert_int_eq(u.via_proxy, 0);
	ck_assert_int_eq(check(GOOD "Via: 1.1 proxy\r\n\r\n", t, &u), 101);
	ck_assert_int_eq(u.via_proxy, 1);
	free(t);
}
END_TEST

START_TEST(test_upgrade_checks_token_before_websocket_headers)
{
	struct upgrade_res u;
	char *old = token(-3600), *t = token(600);

	ck_assert_int_eq(check(GOOD "\r\n", old, &u), 401);
	ck_assert_str_eq(u.error, "expired_token");
	ck_assert_int_eq(check(GOOD "\r\n", "a.b.c", &u), 401);
	ck_assert_str_eq(u.error, "invalid_token");
	ck_assert_int_eq(check("GET /teamlink/v1/tunnel HTTP/1.1\r\nHost: a\r\n\r\n", NULL, &u),
	                 401);
	ck_assert_str_eq(u.error, "missing_token");
	ck_assert_int_eq(
	        check("GET /teamlink/v1/tunnel HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n", t,
	              &u),
	        426);
	ck_assert_int_eq(check("POST /teamlink/v1/tunnel HTTP/1.1\r\n\r\n", NULL, &u), 405);
	ck_assert_int_eq(check("GET /other HTTP/1.1\r\n\r\n", NULL, &u), 404);
	free(old);
	free(t);
}
END_TEST

START_TEST(test_upgrade_refuses_bad_key_version_subprotocol)
{
	struct upgrade_res u;
	char *t = token(600);
	char fmt[2048];

	snprintf(fmt, sizeof(fmt), "%s", GOOD "\r\n");
	memcpy(strstr(fmt, "dGhl"), "dGhl!", 5);
	ck_assert_int_eq(check(fmt, t, &u), 400);
	ck_assert_str_eq(u.error, "bad_websocket_key");
	snprintf(fmt, sizeof(fmt), "%s", GOOD "\r\n");
	memcpy(strstr(fmt, "Version: 13"), "Version: 12", 11);
	ck_assert_int_eq(check(fmt, t, &u), 426);
	snprintf(fmt, sizeof(fmt), "%s", GOOD "\r\n");
	memcpy(strstr(fmt, "teamlink.v1"), "teamlink.v2", 11);
	ck_assert_int_eq(check(fmt, t, &u), 400);
	ck_assert_str_eq(u.error, "bad_subprotocol");
	free(t);
}
END_TEST

START_TEST(test_request_parser_refuses_malformed_heads)
{
	struct http_req *r = malloc(sizeof(*r));
	const char *bad[] = {
	        "GET / HTTP/1.0\r\n\r\n",          "GET  / HTTP/1.1\r\n\r\n",
	        "GET / HTTP/1.1\r\n A: b\r\n\r\n", "GET / HTTP/1.1\r\nA b\r\n\r\n",
	        "GET x HTTP/1.1\r\n\r\n",          "GET / HTTP/1.1\r\nA: b\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(http_req_parse(bad[i], strlen(bad[i]), r) == 400, "%s", bad[i]);
	ck_assert_int_eq(http_req_parse("GET / HTTP/1.1\r\nX-A:  v \r\n\r\n", 28, r), 0);
	ck_assert_str_eq(http_req_header(r, "x-a"), "v");
	ck_assert(http_token_has("a, Upgrade ,b", "upgrade"));
	ck_assert(!http_token_has("upgrades", "upgrade"));
	free(r);
}
END_TEST

TU_SUITE("httpreq", test_upgrade_accepts_rfc_example_key,
         test_upgrade_checks_token_before_websocket_headers,
         test_upgrade_refuses_bad_key_version_subprotocol,
         test_request_parser_refuses_malformed_heads)
