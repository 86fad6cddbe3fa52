/* api.h - the account service API (docs/protocol/oam.md), independent of the HTTP server.
 *
 * The HTTP layer (httpd.c) turns a request into a struct api_req, calls api_handle, and
 * sends the struct api_resp back. Every request handled produces one journal line.
 */
#ifndef MOCK_OAM_API_H
#define MOCK_OAM_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "accounts.h"
#include "onsight/journal.h"
#include "ratelimit.h"

#define API_MAX_BODY 8192 /* largest request body accepted (413 beyond) */
#define API_REVOKED_MAX 4096 /* logged-out tokens remembered (oldest forgotten first) */
#define API_FIELD_MAX 128 /* longest username / password / device_id */

struct api;

struct api_conf {
	const uint8_t *secret; /* HS256 key (borrowed) */
	size_t secretlen;
	long token_ttl_s;
	struct ratelimit_conf rl;
};

struct api_req {
	const char *method;
	const char *path;
	const char *host; /* Host header, may be NULL */
	const char *authorization; /* may be NULL */
	const char *client; /* peer address, "203.0.113.7" */
	const char *local; /* our address the client reached, "203.0.113.10:443" (or NULL) */
	const char *scheme; /* "https" or "http" */
	const char *body;
	size_t bodylen;
	int body_too_large; /* the body went past API_MAX_BODY and was dropped */
};

struct api_resp {
	int status;
	char *body; /* JSON text, caller frees */
	const char *allow; /* Allow header for 405, or NULL */
	unsigned retry_after; /* Retry-After seconds for 429, or 0 */
	int www_authenticate; /* add WWW-Authenticate: Bearer … for 401 */
	char www_error[64];
};

/* accounts and journal are borrowed; api_set_accounts swaps them on reload. */
int api_alloc(struct api **ap, const struct api_conf *conf, struct accounts *accounts,
              struct journal *j) __attribute__((warn_unused_result));
void api_free(struct api *a);
/* Replaces the accounts (the caller frees the old set); returns the old one. */
struct accounts *api_set_accounts(struct api *a, struct accounts *accounts);

void api_handle(struct api *a, const struct api_req *rq, time_t now, struct api_resp *rs);

struct login_req {
	char username[API_FIELD_MAX + 1];
	char password[API_FIELD_MAX + 1];
	char device_id[API_FIELD_MAX + 1];
};

/* Parses and validates a login body: a JSON object with exactly the string members
 * username, password and device_id (1 to API_FIELD_MAX characters, no NUL or control
 * characters). Returns 0, or EINVAL with a message for the client in err. */
int api_parse_login(const char *body, size_t len, struct login_req *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
