#include "api.h"
#include "testutil.h"

#include "onsight/jwt.h"
#include "onsight/util.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t secret[] = "test-secret";
static const time_t t0 = 1800000000;

struct fixture {
	struct api *api;
	struct accounts *acc;
	struct journal *j;
	char *dir, *events;
};

static void setup(struct fixture *f)
{
	struct api_conf c = {
	        .secret = secret,
	        .secretlen = sizeof(secret) - 1,
	        .token_ttl_s = 600,
	        .rl = {.max_failures = 3, .window_s = 60, .lockout_s = 120, .max_clients = 16}};
	char err[256];

	memset(f, 0, sizeof(*f));
	f->dir = tu_mkdtemp();
	ck_assert_int_ge(asprintf(&f->events, "%s/events.jsonl", f->dir), 0);
	ck_assert_int_eq(journal_open(&f->j, f->events, "mock-oam"), 0);
	ck_assert_int_eq(accounts_load(&f->acc,
	                               ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json", err,
	                               sizeof(err)),
	                 0);
	ck_assert_int_eq(api_alloc(&f->api, &c, f->acc, f->j), 0);
}

static void teardown(struct fixture *f)
{
	api_free(f->api);
	accounts_free(f->acc);
	journal_close(f->j);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->events);
}

static int call(struct fixture *f, const char *method, const char *path, const char *auth,
                const char *body, time_t now, struct api_resp *rs)
{
	struct api_req rq = {.method = method,
	                     .path = path,
	                     .host = "onsight.librestream.com",
	                     .authorization = auth,
	                     .client = "203.0.113.9",
	                     .scheme = "https",
	                     .body = body,
	                     .bodylen = body ? strlen(body) : 0};

	api_handle(f->api, &rq, now, rs);
	return rs->status;
}

static char *login(struct fixture *f, time_t now)
{
	struct api_resp rs;
	json_t *b;
	char *tok;

	ck_assert_int_eq(call(f, "POST", "/api/v1/login", NULL,
	                      "{\"username\":\"bob\",\"password\":\"bob-pw\",\"device_id\":\"d1\"}",
	                      now, &rs),
	                 200);
	b = json_loads(rs.body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(b, "config_url")),
	                 "https://onsight.librestream.com/api/v1/config");
	ck_assert_int_eq(json_integer_value(json_object_get(b, "expires_in")), 600);
	tok = strdup(json_string_value(json_object_get(b, "token")));
	json_decref(b);
	free(rs.body);
	return tok;
}

START_TEST(test_api_login_issues_token_that_fetches_config)
{
	struct fixture f;
	struct api_resp rs;
	char *tok, auth[2048];
	json_t *claims = NULL, *cfg;

	setup(&f);
	tok = login(&f, t0);
	ck_assert_int_eq(jwt_verify(secret, sizeof(secret) - 1, tok, t0, &claims), JWT_OK);
	ck_assert_str_eq(json_string_value(json_object_get(claims, "sub")), "bob");
	ck_assert_str_eq(json_string_value(json_object_get(claims, "device_id")), "d1");
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	ck_assert_int_eq(call(&f, "GET", "/api/v1/config", auth, NULL, t0 + 1, &rs), 200);
	cfg = json_loads(rs.body, 0, NULL);
	ck_assert(json_is_true(json_object_get(json_object_get(cfg, "teamlink"), "enabled")));
	ck_assert_int_eq(oamcfg_validate(cfg, "$", auth, sizeof(auth)), 0);
	json_decref(cfg);
	json_decref(claims);
	free(rs.body);
	free(tok);
	teardown(&f);
}
END_TEST

START_TEST(test_api_config_rejects_missing_forged_and_expired_tokens)
{
	struct fixture f;
	struct api_resp rs;
	char *tok, auth[2048];

	setup(&f);
	tok = login(&f, t0);
	ck_assert_int_eq(call(&f, "GET", "/api/v1/config", NULL, NULL, t0, &rs), 401);
	ck_assert_int_eq(rs.www_authenticate, 1);
	free(rs.body);
	ck_assert_int_eq(call(&f, "GET", "/api/v1/config", "Basic eDp5", NULL, t0, &rs), 401);
	free(rs.body);
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	auth[strlen(auth) - 2] ^= 1; /* tamper with the signature */
	ck_assert_int_eq(call(&f, "GET", "/api/v1/config", auth, NULL, t0, &rs), 401);
	ck_assert_ptr_nonnull(strstr(rs.body, "bad signature"));
	free(rs.body);
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	ck_assert_int_eq(call(&f, "GET", "/api/v1/config", auth, NULL, t0 + 600, &rs), 401);
	ck_assert_ptr_nonnull(strstr(rs.body, "expired"));
	ck_assert_str_eq(rs.www_error, "invalid_token");
	free(rs.body);
	free(tok);
	teardown(&f);
}
END_TEST

START_TEST(test_api_logout_revokes_token)
{
	struct fixture f;
	struct api_resp rs;
	char *tok, auth[2048];

	setup(&f);
	tok = login(&f, t0);
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	ck_assert_int_eq(call(&f, "POST", "/api/v1/logout", auth, NULL, t0, &rs), 204);
	free(rs.body);
	ck_assert_int_eq(call(&f, "GET", "/api/v1/config", auth, NULL, t0, &rs), 401);
	ck_assert_ptr_nonnull(strstr(rs.body, "logged out"));
	free(rs.body);
	free(tok);
	teardown(&f);
}
END_TEST

START_TEST(test_api_login_rejects_bad_bodies_with_400)
{
	static const char *const bad[] = {
	        "",
	        "{",
	        "[]",
	        "{\"username\":\"bob\",\"password\":\"bob-pw\"}",
	        "{\"username\":\"bob\",\"password\":\"bob-pw\",\"device_id\":\"d\",\"x\":1}",
	        "{\"username\":1,\"password\":\"bob-pw\",\"device_id\":\"d\"}",
	        "{\"username\":\"\",\"password\":\"bob-pw\",\"device_id\":\"d\"}",
	        "{\"username\":\"bob\",\"password\":\"bob-pw\",\"device_id\":\"d\\u0001\"}",
	        ("{\"username\":\"bob\",\"username\":\"bob\",\"password\":\"p\",\"device_id\":"
	         "\"d\"}"),
	};
	struct fixture f;
	struct api_resp rs;

	setup(&f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(call(&f, "POST", "/api/v1/login", NULL, bad[i], t0, &rs) == 400,
		              "body %zu: %d", i, rs.status);
		ck_assert_ptr_nonnull(strstr(rs.body, "bad_request"));
		free(rs.body);
	}
	teardown(&f);
}
END_TEST

START_TEST(test_api_login_oversized_body_gets_413)
{
	struct fixture f;
	struct api_resp rs;
	struct api_req rq = {.method = "POST",
	                     .path = "/api/v1/login",
	                     .client = "203.0.113.9",
	                     .scheme = "https",
	                     .body_too_large = 1};

	setup(&f);
	api_handle(f.api, &rq, t0, &rs);
	ck_assert_int_eq(rs.status, 413);
	free(rs.body);
	teardown(&f);
}
END_TEST

START_TEST(test_api_repeated_failures_get_429_with_retry_after)
{
	const char *badpw = "{\"username\":\"bob\",\"password\":\"nope\",\"device_id\":\"d\"}";
	const char *good = "{\"username\":\"bob\",\"password\":\"bob-pw\",\"device_id\":\"d\"}";
	struct fixture f;
	struct api_resp rs;
	char *text = NULL;

	setup(&f);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(call(&f, "POST", "/api/v1/login", NULL, badpw, t0 + i, &rs), 401);
		ck_assert_ptr_nonnull(strstr(rs.body, "invalid_credentials"));
		free(rs.body);
	}
	/* Locked out: even the right password gets 429 until the lockout ends. */
	ck_assert_int_eq(call(&f, "POST", "/api/v1/login", NULL, good, t0 + 3, &rs), 429);
	ck_assert_uint_eq(rs.retry_after, 119);
	free(rs.body);
	ck_assert_int_eq(call(&f, "POST", "/api/v1/login", NULL, good, t0 + 123, &rs), 200);
	free(rs.body);
	/* Every request left one journal line. */
	ck_assert_int_eq(file_read(f.events, 1 << 20, &text, NULL), 0);
	{
		int lines = 0;
		for (char *p = text; *p; p++)
			lines += *p == '\n';
		ck_assert_int_eq(lines, 6); /* 3 x 401, lockout, 429, 200 */
	}
	ck_assert_ptr_nonnull(strstr(text, "\"result\":\"rate_limited\""));
	ck_assert_ptr_nonnull(strstr(text, "\"event\":\"ratelimit.lockout\""));
	free(text);
	teardown(&f);
}
END_TEST

START_TEST(test_api_unknown_path_404_and_wrong_method_405)
{
	struct fixture f;
	struct api_resp rs;

	setup(&f);
	ck_assert_int_eq(call(&f, "GET", "/nope", NULL, NULL, t0, &rs), 404);
	free(rs.body);
	ck_assert_int_eq(call(&f, "GET", "/api/v1/login", NULL, NULL, t0, &rs), 405);
	ck_assert_str_eq(rs.allow, "POST");
	free(rs.body);
	ck_assert_int_eq(call(&f, "GET", "/healthz", NULL, NULL, t0, &rs), 200);
	free(rs.body);
	teardown(&f);
}
END_TEST

TU_SUITE("api", test_api_login_issues_token_that_fetches_config,
         test_api_config_rejects_missing_forged_and_expired_tokens, test_api_logout_revokes_token,
         test_api_login_rejects_bad_bodies_with_400, test_api_login_oversized_body_gets_413,
         test_api_repeated_failures_get_429_with_retry_after,
         test_api_unknown_path_404_and_wrong_method_405)
