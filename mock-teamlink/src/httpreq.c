/* httpreq.c - request head parsing and the upgrade checks. */
#include "httpreq.h"

#include "onsight/jwt.h"
#include "onsight/util.h"
#include "onsight/ws.h"
#include "teamlink/msg.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return s;
}

int http_req_parse(const char *head, size_t len, struct http_req *r)
{
	char *p, *end, *eol, *sp1, *sp2, *colon;

	memset(r, 0, offsetof(struct http_req, buf));
	if (len > HTTPREQ_MAX_HEAD)
		return 431;
	if (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4))
		return 400;
	memcpy(r->buf, head, len);
	r->buf[len] = '\0';
	if (memchr(r->buf, '\0', len))
		return 400;
	p = r->buf;
	end = r->buf + len;
	eol = strstr(p, "\r\n");
	*eol = '\0';
	/* request-line = method SP request-target SP HTTP-version */
	sp1 = strchr(p, ' ');
	if (!sp1)
		return 400;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || strchr(sp2 + 1, ' ') || strcmp(sp2 + 1, "HTTP/1.1"))
		return 400;
	*sp1 = *sp2 = '\0';
	for (char *q = p; *q; q++)
		if (!is_tchar((unsigned char)*q))
			return 400;
	if (!*p || sp1[1] != '/' || sp2 - sp1 - 1 >= (long)sizeof(r->path))
		return 400;
	for (char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f)
			return 400;
	r->method = p;
	r->target = sp1 + 1;
	memcpy(r->path, r->target, strcspn(r->target, "?"));
	p = eol + 2;
	while (p < end - 2) {
		eol = strstr(p, "\r\n");
		if (!eol || eol == p)
			return 400;
		*eol = '\0';
		if (*p == ' ' || *p == '\t')
			return 400; /* obs-fold (RFC 9112 §5.2) */
		colon = strchr(p, ':');
		if (!colon || colon == p)
			return 400;
		for (char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return 400;
		for (char *q = colon + 1; q < eol; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f || *q == '\n' ||
			    *q == '\r')
				return 400;
		if (r->n == HTTPREQ_MAX_HEADERS)
			return 431;
		*colon = '\0';
		r->name[r->n] = p;
		r->value[r->n] = trim(colon + 1, eol);
		r->n++;
		p = eol + 2;
	}
	return 0;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
	for (unsigned i = 0; i < r->n; i++)
		if (!strcasecmp(r->name[i], name))
			return r->value[i];
	return NULL;
}

int http_token_has(const char *list, const char *token)
{
	size_t tl = strlen(token);

	while (list && *list) {
		size_t n;
		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		n = strcspn(list, ",");
		while (n && (list[n - 1] == ' ' || list[n - 1] == '\t'))
			n--;
		if (n == tl && !strncasecmp(list, token, tl))
			return 1;
		list += strcspn(list, ",");
	}
	return 0;
}

int http_auth_bearer(const struct http_req *r, const uint8_t *secret, size_t seclen, time_t now,
                     char *user, size_t userlen, const char **error)
{
	const char *a = http_req_header(r, "Authorization");
	json_t *claims = NULL;
	enum jwt_err e;
	const char *sub;

	if (!a || strncasecmp(a, "Bearer ", 7) || !a[7]) {
		*error = "missing_token";
		return 401;
	}
	a += 7;
	while (*a == ' ')
		a++;
	e = jwt_verify(secret, seclen, a, now, &claims);
	if (e != JWT_OK) {
		*error = e == JWT_EEXPIRED || e == JWT_ENOTYET ? "expired_token" : "invalid_token";
		return 401;
	}
	sub = json_string_value(json_object_get(claims, "sub"));
	str_copy(user, sub ? sub : "", userlen);
	json_decref(claims);
	return 0;
}

static int reject(struct upgrade_res *res, int status, const char *error)
{
	res->status = status;
	res->error = error;
	return status;
}

int upgrade_check(const struct http_req *r, const uint8_t *secret, size_t seclen, time_t now,
                  struct upgrade_res *res)
{
	const char *v, *key, *error = NULL;

	memset(res, 0, sizeof(*res));
	if (strcmp(r->method, "GET"))
		return reject(res, 405, "method_not_allowed");
	if (strcmp(r->path, TL_PATH))
		return reject(res, 404, "not_found");
	if (http_req_header(r, "Content-Length") || http_req_header(r, "Transfer-Encoding"))
		return reject(res, 400, "bad_request");
	if (http_auth_bearer(r, secret, seclen, now, res->user, sizeof(res->user), &error))
		return reject(res, 401, error);
	v = http_req_header(r, "Upgrade");
	if (!v || !http_token_has(v, "websocket"))
		return reject(res, 426, "upgrade_required");
	v = http_req_header(r, "Connection");
	if (!v || !http_token_has(v, "upgrade"))
		return reject(res, 426, "upgrade_required");
	key = http_req_header(r, "Sec-WebSocket-Key");
	if (!key || !ws_key_valid(key))
		return reject(res, 400, "bad_websocket_key");
	v = http_req_header(r, "Sec-WebSocket-Version");
	if (!v || strcmp(v, "13"))
		return reject(res, 426, "bad_websocket_version");
	v = http_req_header(r, "Sec-WebSocket-Protocol");
	if (!v || !http_token_has(v, TL_SUBPROTOCOL))
		return reject(res, 400, "bad_subprotocol");
	res->via_proxy = http_req_header(r, "X-TeamLink-Proxy") || http_req_header(r, "Via") ||
	        http_req_header(r, "X-Forwarded-For");
	ws_accept(key, res->accept);
	res->status = 101;
	return 101;
}
