/* oam.c - OAM and TCM requests over common/httpc. */
#include "oam.h"

#include "onsight/httpc.h"
#include "onsight/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OAM_MAX_BODY (256u << 10)

static int request(const struct oam_opts *o, const char *url, const char *method,
                   const char *const *headers, const char *body, struct httpc_resp **rp, char *err,
                   size_t errlen)
{
	struct httpc_opts h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.url = url;
	h.method = method;
	h.proxy = o->proxy && o->proxy[0] ? o->proxy : NULL;
	h.tls = o->tls;
	h.headers = headers;
	h.body = body;
	h.body_len = body ? strlen(body) : 0;
	h.max_body = OAM_MAX_BODY;
	h.timeout_ms = o->timeout_ms;
	rc = httpc_request(&h, rp, err, errlen);
	/* Through a proxy the only name we resolve and the only host we connect to is the
	 * proxy's: when that fails the proxy is not on this network (the endpoint left the LAN
	 * that has it), so the request goes direct. A proxy that answers is never bypassed. */
	if (rc && h.proxy && (strstr(err, "cannot resolve") || strstr(err, "connect to "))) {
		h.proxy = NULL;
		rc = httpc_request(&h, rp, err, errlen);
	}
	return rc;
}

/* The body's "error" member, or the status line, for a status line of ours. */
static void describe(const struct httpc_resp *r, char *err, size_t errlen)
{
	json_t *j = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;

	snprintf(err, errlen, "HTTP %d %s%s%s", r->status, r->reason, e ? ": " : "", e ? e : "");
	json_decref(j);
}

int oam_login(const struct oam_opts *o, const char *user, const char *password,
              const char *device_id, struct oam_session *s, int *http_status, char *err,
              size_t errlen)
{
	static const char *const hdrs[] = {"Content-Type: application/json",
	                                   "Accept: application/json", NULL};
	struct httpc_resp *r = NULL;
	json_t *req = NULL, *j = NULL;
	char url[600], *body = NULL;
	const char *tok, *cu;
	int rc;

	*http_status = 0;
	memset(s, 0, sizeof(*s));
	snprintf(url, sizeof(url), "%s/api/v1/login", o->base_url);
	req = json_pack("{s:s, s:s, s:s}", "username", user, "password", password, "device_id",
	                device_id);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body)
		return ENOMEM;
	rc = request(o, url, "POST", hdrs, body, &r, err, errlen);
	free(body);
	if (rc)
		return rc;
	*http_status = r->status;
	if (r->status != 200) {
		describe(r, err, errlen);
		rc = r->status == 401 ? EACCES : EPROTO;
		goto out;
	}
	j = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	tok = j ? json_string_value(json_object_get(j, "token")) : NULL;
	cu = j ? json_string_value(json_object_get(j, "config_url")) : NULL;
	if (!tok || !*tok || strlen(tok) >= sizeof(s->token) || strpbrk(tok, " \r\n")) {
		snprintf(err, errlen, "login answer without a usable token");
		rc = EPROTO;
		goto out;
	}
	str_copy(s->token, tok, sizeof(s->token));
	/* Only follow config_url on the server we logged in to: anything else could carry our
	 * token elsewhere. */
	if (cu && strncmp(cu, o->base_url, strlen(o->base_url)) == 0 &&
	    strlen(cu) < sizeof(s->config_url) && !strpbrk(cu, " \r\n"))
		str_copy(s->config_url, cu, sizeof(s->config_url));
	else
		snprintf(s->config_url, sizeof(s->config_url), "%s/api/v1/config", o->base_url);
	s->expires_in = (int)json_integer_value(json_object_get(j, "expires_in"));
	rc = 0;
out:
	json_decref(j);
	httpc_resp_free(r);
	return rc;
}

int oam_config(const struct oam_opts *o, const struct oam_session *s, char **bodyp, size_t *lenp,
               int *http_status, char *err, size_t errlen)
{
	struct httpc_resp *r = NULL;
	char auth[4200];
	const char *hdrs[] = {auth, "Accept: application/json", NULL};
	int rc;

	*http_status = 0;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->token);
	rc = request(o, s->config_url, "GET", hdrs, NULL, &r, err, errlen);
	if (rc)
		return rc;
	*http_status = r->status;
	if (r->status != 200) {
		describe(r, err, errlen);
		rc = r->status == 401 ? EACCES : EPROTO;
	} else if (!r->body) {
		snprintf(err, errlen, "empty configuration document");
		rc = EPROTO;
	} else {
		*bodyp = r->body;
		*lenp = r->body_len;
		r->body = NULL; /* taken */
	}
	httpc_resp_free(r);
	return rc;
}

int tcm_assign(const struct oam_opts *o, const char *tcm_host, const char *token,
               struct tcm_assignment *a, char *err, size_t errlen)
{
	struct httpc_resp *r = NULL;
	json_t *j = NULL;
	char url[400], auth[4200];
	const char *hdrs[] = {auth, "Accept: application/json", NULL};
	const char *srv, *scheme;
	json_int_t port;
	int rc;

	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "https://%s/tcm/v1/assign", tcm_host);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	rc = request(o, url, "GET", hdrs, NULL, &r, err, errlen);
	if (rc)
		return rc;
	if (r->status != 200) {
		describe(r, err, errlen);
		rc = EPROTO;
		goto out;
	}
	j = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	srv = j ? json_string_value(json_object_get(j, "server")) : NULL;
	scheme = j ? json_string_value(json_object_get(j, "scheme")) : NULL;
	port = j ? json_integer_value(json_object_get(j, "port")) : 0;
	if (!srv || !*srv || strlen(srv) >= sizeof(a->server) || strpbrk(srv, " /@\r\n") ||
	    port < 1 || port > 65535 || !scheme ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		snprintf(err, errlen, "TCM answer is not a usable assignment");
		rc = EPROTO;
		goto out;
	}
	str_copy(a->server, srv, sizeof(a->server));
	str_copy(a->scheme, scheme, sizeof(a->scheme));
	a->port = (unsigned)port;
out:
	json_decref(j);
	httpc_resp_free(r);
	return rc;
}
