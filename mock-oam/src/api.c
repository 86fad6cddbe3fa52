/* api.c - routes and handlers of the account service. */
#define LOG_TAG "api"
#include "api.h"

#include "onsight/jwt.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct api {
	struct api_conf conf;
	struct accounts *accounts;
	struct journal *j;
	struct ratelimit *rl;
	char *revoked[API_REVOKED_MAX]; /* jti of logged-out tokens, a ring */
	size_t revoked_next;
};

int api_alloc(struct api **ap, const struct api_conf *conf, struct accounts *accounts,
              struct journal *j)
{
	struct api *a;
	int err;

	if (!ap || !conf || !conf->secret || !conf->secretlen || conf->token_ttl_s <= 0)
		return EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return ENOMEM;
	a->conf = *conf;
	a->accounts = accounts;
	a->j = j;
	err = ratelimit_alloc(&a->rl, &conf->rl);
	if (err) {
		free(a);
		return err;
	}
	*ap = a;
	return 0;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < API_REVOKED_MAX; i++)
		free(a->revoked[i]);
	ratelimit_free(a->rl);
	free(a);
}

struct accounts *api_set_accounts(struct api *a, struct accounts *accounts)
{
	struct accounts *old = a->accounts;

	a->accounts = accounts;
	return old;
}

static void respond(struct api_resp *rs, int status, json_t *body)
{
	rs->status = status;
	rs->body = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(body);
}

static void respond_error(struct api_resp *rs, int status, const char *code, const char *detail)
{
	respond(rs, status,
	        detail ? json_pack("{s:s, s:s}", "error", code, "detail", detail)
	               : json_pack("{s:s}", "error", code));
}

/* --- login -------------------------------------------------------------------------- */

static int copy_field(char *dst, const char *src, size_t srclen, const char *name, char *err,
                      size_t errlen)
{
	if (srclen == 0 || srclen > API_FIELD_MAX) {
		snprintf(err, errlen, "%s must be 1 to %d characters", name, API_FIELD_MAX);
		return EINVAL;
	}
	for (size_t i = 0; i < srclen; i++) {
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) {
			snprintf(err, errlen, "%s contains a control character", name);
			return EINVAL;
		}
	}
	memcpy(dst, src, srclen);
	dst[srclen] = '\0';
	return 0;
}

int api_parse_login(const char *body, size_t len, struct login_req *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	const char *u, *p, *d;
	size_t ul, pl, dl;
	int rc = EINVAL;

	if (!body || len == 0) {
		snprintf(err, errlen, "empty body; expected a JSON object");
		return EINVAL;
	}
	if (len > API_MAX_BODY) {
		snprintf(err, errlen, "body larger than %d bytes", API_MAX_BODY);
		return EINVAL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line,
		         jerr.column, jerr.text);
		return EINVAL;
	}
	if (json_unpack_ex(root, &jerr, JSON_STRICT, "{s:s%, s:s%, s:s%}", "username", &u, &ul,
	                   "password", &p, &pl, "device_id", &d, &dl)) {
		snprintf(err, errlen, "%s", jerr.text);
		goto out;
	}
	if (copy_field(out->username, u, ul, "username", err, errlen) ||
	    copy_field(out->password, p, pl, "password", err, errlen) ||
	    copy_field(out->device_id, d, dl, "device_id", err, errlen))
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static char *new_jti(void)
{
	uint8_t r[12];
	char *s = malloc(25);

	if (!s || RAND_bytes(r, sizeof(r)) != 1) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(s + 2 * i, 3, "%02x", r[i]);
	return s;
}

/* Host header, if it looks like a host (and optional port), else a fixed name. */
static const char *public_host(const char *host)
{
	if (!host || !*host || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
	            strlen(host))
		return "localhost";
	return host;
}

static void login_ok(struct api *a, const struct api_req *rq, const struct login_req *lr,
                     time_t now, struct api_resp *rs)
{
	char *jti = new_jti(), *tok = NULL, url[512];
	json_t *claims = NULL;

	claims = json_pack("{s:s, s:s, s:I, s:I, s:s?}", "sub", lr->username, "device_id",
	                   lr->device_id, "iat", (json_int_t)now, "exp",
	                   (json_int_t)(now + a->conf.token_ttl_s), "jti", jti);
	if (!claims || jwt_sign(a->conf.secret, a->conf.secretlen, claims, &tok)) {
		respond_error(rs, 500, "internal_error", NULL);
		goto out;
	}
	snprintf(url, sizeof(url), "%s://%s/api/v1/config", rq->scheme, public_host(rq->host));
	respond(rs, 200,
	        json_pack("{s:s, s:I, s:s}", "token", tok, "expires_in",
	                  (json_int_t)a->conf.token_ttl_s, "config_url", url));
	journal_emit(a->j, "login", "{s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:s*}", "client",
	             rq->client, "scheme", rq->scheme, "user", lr->username, "device_id",
	             lr->device_id, "status", 200, "result", "ok", "jti", jti, "local", rq->local);
out:
	json_decref(claims);
	free(tok);
	free(jti);
}

static void login_fail(struct api *a, const struct api_req *rq, const char *user, int status,
                       const char *result, time_t now)
{
	unsigned lock = 0;

	if (status == 401)
		lock = ratelimit_fail(a->rl, rq->client, now);
	journal_emit(a->j, "login", "{s:s, s:s, s:s?, s:i, s:s, s:s*}", "client", rq->client,
	             "scheme", rq->scheme, "user", user, "status", status, "result", result,
	             "local", rq->local);
	if (lock)
		journal_emit(a->j, "ratelimit.lockout", "{s:s, s:i, s:s*}", "client", rq->client,
		             "seconds", (int)lock, "local", rq->local);
}

static void handle_login(struct api *a, const struct api_req *rq, time_t now, struct api_resp *rs)
{
	struct login_req lr;
	char why[256];
	unsigned wait = ratelimit_locked(a->rl, rq->client, now);

	/* Checked first: a locked-out client learns nothing about its guesses. */
	if (wait) {
		rs->retry_after = wait;
		respond_error(rs, 429, "too_many_attempts", NULL);
		login_fail(a, rq, NULL, 429, "rate_limited", now);
		return;
	}
	if (rq->body_too_large) {
		snprintf(why, sizeof(why), "body larger than %d bytes", API_MAX_BODY);
		respond_error(rs, 413, "body_too_large", why);
		login_fail(a, rq, NULL, 413, "body_too_large", now);
		return;
	}
	if (api_parse_login(rq->body, rq->bodylen, &lr, why, sizeof(why))) {
		respond_error(rs, 400, "bad_request", why);
		login_fail(a, rq, NULL, 400, "bad_request", now);
		return;
	}
	if (!accounts_check(a->accounts, lr.username, lr.password)) {
		respond_error(rs, 401, "invalid_credentials", NULL);
		login_fail(a, rq, lr.username, 401, "invalid_credentials", now);
		return;
	}
	ratelimit_success(a->rl, rq->client);
	login_ok(a, rq, &lr, now, rs);
}

/* --- token-protected routes ---------------------------------------------------------- */

static int is_revoked(const struct api *a, const char *jti)
{
	for (size_t i = 0; jti && i < API_REVOKED_MAX; i++)
		if (a->revoked[i] && strcmp(a->revoked[i], jti) == 0)
			return 1;
	return 0;
}

/* Verifies the bearer token; on failure fills rs (401) and returns NULL. */
static json_t *authorize(struct api *a, const struct api_req *rq, time_t now, struct api_resp *rs,
                         const char **result)
{
	const char *auth = rq->authorization;
	json_t *claims = NULL;
	enum jwt_err e;

	rs->www_authenticate = 1;
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
		*result = "missing_token";
		respond_error(rs, 401, "missing_token", "Authorization: Bearer TOKEN required");
		return NULL;
	}
	e = jwt_verify(a->conf.secret, a->conf.secretlen, auth + 7, now, &claims);
	if (e == JWT_OK && !json_is_string(json_object_get(claims, "sub")))
		e = JWT_EMALFORMED;
	if (e == JWT_OK && is_revoked(a, json_string_value(json_object_get(claims, "jti")))) {
		json_decref(claims);
		*result = "revoked";
		str_copy(rs->www_error, "invalid_token", sizeof(rs->www_error));
		respond_error(rs, 401, "invalid_token", "token was logged out");
		return NULL;
	}
	if (e != JWT_OK) {
		json_decref(claims);
		*result = e == JWT_EEXPIRED ? "expired"
		        : e == JWT_ESIG     ? "bad_signature"
		                            : "invalid_token";
		str_copy(rs->www_error, "invalid_token", sizeof(rs->www_error));
		respond_error(rs, 401, "invalid_token", jwt_strerror(e));
		return NULL;
	}
	rs->www_authenticate = 0;
	*result = "ok";
	return claims;
}

static void handle_config(struct api *a, const struct api_req *rq, time_t now, struct api_resp *rs)
{
	const char *result = "ok", *user = NULL;
	json_t *claims = authorize(a, rq, now, rs, &result);
	const json_t *cfg;

	if (claims) {
		user = json_string_value(json_object_get(claims, "sub"));
		cfg = accounts_config(a->accounts, user);
		if (cfg) {
			respond(rs, 200, json_deep_copy(cfg));
		} else {
			/* The account went away in a reload since the token was issued. */
			result = "unknown_account";
			rs->www_authenticate = 1;
			str_copy(rs->www_error, "invalid_token", sizeof(rs->www_error));
			respond_error(rs, 401, "invalid_token", "account no longer exists");
		}
	}
	journal_emit(a->j, "config", "{s:s, s:s, s:s?, s:i, s:s, s:s*}", "client", rq->client,
	             "scheme", rq->scheme, "user", user, "status", rs->status, "result", result,
	             "local", rq->local);
	json_decref(claims);
}

static void handle_logout(struct api *a, const struct api_req *rq, time_t now, struct api_resp *rs)
{
	const char *result = "ok", *user = NULL, *jti;
	json_t *claims = authorize(a, rq, now, rs, &result);

	if (claims) {
		user = json_string_value(json_object_get(claims, "sub"));
		jti = json_string_value(json_object_get(claims, "jti"));
		if (jti) {
			free(a->revoked[a->revoked_next]);
			a->revoked[a->revoked_next] = strdup(jti);
			a->revoked_next = (a->revoked_next + 1) % API_REVOKED_MAX;
		}
		respond(rs, 204, NULL);
	}
	journal_emit(a->j, "logout", "{s:s, s:s, s:s?, s:i, s:s, s:s*}", "client", rq->client,
	             "scheme", rq->scheme, "user", user, "status", rs->status, "result", result,
	             "local", rq->local);
	json_decref(claims);
}

static void handle_health(struct api *a, const struct api_req *rq, time_t now, struct api_resp *rs)
{
	(void)now;
	respond(rs, 200,
	        json_pack("{s:s, s:I}", "status", "ok", "accounts",
	                  (json_int_t)accounts_count(a->accounts)));
	journal_emit(a->j, "health", "{s:s, s:i, s:s*}", "client", rq->client, "status", 200,
	             "local", rq->local);
}

typedef void(route_h)(struct api *, const struct api_req *, time_t, struct api_resp *);

static const struct route {
	const char *path;
	const char *method;
	route_h *h;
} routes[] = {
        {"/api/v1/login", "POST", handle_login},
        {"/api/v1/config", "GET", handle_config},
        {"/api/v1/logout", "POST", handle_logout},
        {"/healthz", "GET", handle_health},
};

void api_handle(struct api *a, const struct api_req *rq, time_t now, struct api_resp *rs)
{
	memset(rs, 0, sizeof(*rs));
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (strcmp(rq->path, routes[i].path) != 0)
			continue;
		if (strcmp(rq->method, routes[i].method) == 0 ||
		    (strcmp(rq->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			routes[i].h(a, rq, now, rs);
			return;
		}
		rs->allow = strcmp(routes[i].method, "GET") == 0 ? "GET, HEAD" : "POST";
		respond_error(rs, 405, "method_not_allowed", NULL);
		journal_emit(a->j, "http.error", "{s:s, s:s, s:s, s:i, s:s*}", "client", rq->client,
		             "method", rq->method, "path", rq->path, "status", 405, "local",
		             rq->local);
		return;
	}
	respond_error(rs, 404, "not_found", NULL);
	journal_emit(a->j, "http.error", "{s:s, s:s, s:s, s:i, s:s*}", "client", rq->client,
	             "method", rq->method, "path", rq->path, "status", 404, "local", rq->local);
}
