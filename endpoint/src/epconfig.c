/* epconfig.c - strict parser of the OAM endpoint configuration document. */
#include "epconfig.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct pctx {
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct pctx *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return EINVAL;
}

/* Every member of obj must be one of names (NULL-terminated). */
static int only_keys(struct pctx *p, const json_t *obj, const char *path, const char *const *names)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		size_t i;
		int known = 0;

		(void)v;
		for (i = 0; names[i]; i++)
			if (strcmp(names[i], k) == 0)
				known = 1;
		if (!known)
			return fail(p, "%s.%.64s: unknown member", path, k);
	}
	return 0;
}

static const json_t *member(struct pctx *p, const json_t *obj, const char *path, const char *key,
                            json_type type, int *err)
{
	const json_t *v = json_object_get(obj, key);

	if (!v) {
		*err = fail(p, "%s.%s: missing", path, key);
		return NULL;
	}
	if (json_typeof(v) != type) {
		*err = fail(p, "%s.%s: wrong type", path, key);
		return NULL;
	}
	return v;
}

static int get_str(struct pctx *p, const json_t *obj, const char *path, const char *key, char *out,
                   size_t cap, int nonempty)
{
	int err = 0;
	const json_t *v = member(p, obj, path, key, JSON_STRING, &err);
	size_t n;

	if (!v)
		return err;
	n = json_string_length(v);
	if (n >= cap)
		return fail(p, "%s.%s: longer than %zu characters", path, key, cap - 1);
	if (nonempty && n == 0)
		return fail(p, "%s.%s: empty", path, key);
	if (memchr(json_string_value(v), '\0', n))
		return fail(p, "%s.%s: contains NUL", path, key);
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

static int get_int(struct pctx *p, const json_t *obj, const char *path, const char *key,
                   long long min, long long max, unsigned *out)
{
	int err = 0;
	const json_t *v = member(p, obj, path, key, JSON_INTEGER, &err);
	long long n;

	if (!v)
		return err;
	n = json_integer_value(v);
	if (n < min || n > max)
		return fail(p, "%s.%s: %lld is outside %lld..%lld", path, key, n, min, max);
	*out = (unsigned)n;
	return 0;
}

static int get_enum(struct pctx *p, const json_t *obj, const char *path, const char *key,
                    const char *const *names, int *out)
{
	char buf[32];
	int err = get_str(p, obj, path, key, buf, sizeof(buf), 1);
	int i;

	if (err)
		return err;
	for (i = 0; names[i]; i++) {
		if (strcmp(names[i], buf) == 0) {
			*out = i;
			return 0;
		}
	}
	return fail(p, "%s.%s: \"%s\" is not an allowed value", path, key, buf);
}

/* A host name: no spaces, slashes, backslashes, '@' or control characters. */
static int host_ok(const char *h)
{
	const unsigned char *s = (const unsigned char *)h;

	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s == '/' || *s == '\\' || *s == '@' || *s == 0x7f)
			return 0;
	return 1;
}

static int get_hostport(struct pctx *p, const json_t *obj, const char *path, const char *key,
                        int nullable, struct epc_hostport *hp)
{
	static const char *const keys[] = {"host", "port", NULL};
	const json_t *v = json_object_get(obj, key);
	char sub[64];
	int err;

	memset(hp, 0, sizeof(*hp));
	if (!v)
		return fail(p, "%s.%s: missing", path, key);
	if (json_is_null(v)) {
		if (!nullable)
			return fail(p, "%s.%s: must not be null", path, key);
		return 0;
	}
	if (!json_is_object(v))
		return fail(p, "%s.%s: wrong type", path, key);
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	err = only_keys(p, v, sub, keys);
	if (!err)
		err = get_str(p, v, sub, "host", hp->host, sizeof(hp->host), 1);
	if (!err && !host_ok(hp->host))
		err = fail(p, "%s.host: not a host name", sub);
	if (!err)
		err = get_int(p, v, sub, "port", 1, 65535, &hp->port);
	if (!err)
		hp->set = 1;
	return err;
}

static int get_hostlist(struct pctx *p, const json_t *obj, const char *path, const char *key,
                        char (*out)[EPC_HOST_MAX + 1], size_t *n)
{
	int err = 0;
	const json_t *v = member(p, obj, path, key, JSON_ARRAY, &err);
	size_t i;

	*n = 0;
	if (!v)
		return err;
	if (json_array_size(v) > EPC_LIST_MAX)
		return fail(p, "%s.%s: more than %d entries", path, key, EPC_LIST_MAX);
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);
		size_t len;

		if (!json_is_string(e))
			return fail(p, "%s.%s[%zu]: wrong type", path, key, i);
		len = json_string_length(e);
		if (len == 0 || len > EPC_HOST_MAX || memchr(json_string_value(e), '\0', len))
			return fail(p, "%s.%s[%zu]: bad length", path, key, i);
		memcpy(out[i], json_string_value(e), len + 1);
		if (!host_ok(out[i]))
			return fail(p, "%s.%s[%zu]: not a host name", path, key, i);
	}
	*n = i;
	return 0;
}

static int parse_user(struct pctx *p, const json_t *root, struct epconfig *c)
{
	static const char *const keys[] = {"sip_uri", "display_name", NULL};
	int err = 0;
	const json_t *u = member(p, root, "$", "user", JSON_OBJECT, &err);

	if (!u)
		return err;
	err = only_keys(p, u, "$.user", keys);
	if (!err)
		err = get_str(p, u, "$.user", "sip_uri", c->sip_uri, sizeof(c->sip_uri), 1);
	if (!err && strncmp(c->sip_uri, "sip:", 4) != 0 && strncmp(c->sip_uri, "sips:", 5) != 0)
		err = fail(p, "$.user.sip_uri: not a sip: or sips: URI");
	if (!err && (!strchr(c->sip_uri, '@') || strpbrk(c->sip_uri, " \t\r\n<>\"")))
		err = fail(p, "$.user.sip_uri: expected sip:user@domain");
	if (!err)
		err = get_str(p, u, "$.user", "display_name", c->display_name,
		              sizeof(c->display_name), 0);
	if (!err && strpbrk(c->display_name, "\"\\\r\n"))
		err = fail(p, "$.user.display_name: quotes, backslashes or line breaks");
	return err;
}

static int parse_sip(struct pctx *p, const json_t *root, struct epconfig *c)
{
	static const char *const keys[] = {"auth_user", "auth_password",    "transport", "public",
	                                   "private",   "register_expires", NULL};
	static const char *const tnames[] = {"udp", "tcp", "tls", NULL};
	int err = 0, t = 0;
	const json_t *s = member(p, root, "$", "sip", JSON_OBJECT, &err);

	if (!s)
		return err;
	err = only_keys(p, s, "$.sip", keys);
	if (!err)
		err = get_str(p, s, "$.sip", "auth_user", c->auth_user, sizeof(c->auth_user), 1);
	if (!err)
		err = get_str(p, s, "$.sip", "auth_password", c->auth_password,
		              sizeof(c->auth_password), 0);
	if (!err && (strpbrk(c->auth_user, "\"\\\r\n")))
		err = fail(p, "$.sip.auth_user: quotes, backslashes or line breaks");
	if (!err)
		err = get_enum(p, s, "$.sip", "transport", tnames, &t);
	c->transport = (enum epc_transport)t;
	if (!err)
		err = get_hostport(p, s, "$.sip", "public", 1, &c->pub);
	if (!err)
		err = get_hostport(p, s, "$.sip", "private", 1, &c->priv);
	if (!err && !c->pub.set && !c->priv.set)
		err = fail(p, "$.sip: neither public nor private server is set");
	if (!err)
		err = get_int(p, s, "$.sip", "register_expires", 60, 86400, &c->register_expires);
	return err;
}

static int parse_media(struct pctx *p, const json_t *root, struct epconfig *c)
{
	static const char *const keys[] = {"port_min", "port_max", NULL};
	int err = 0;
	const json_t *m = member(p, root, "$", "media", JSON_OBJECT, &err);

	if (!m)
		return err;
	err = only_keys(p, m, "$.media", keys);
	if (!err)
		err = get_int(p, m, "$.media", "port_min", 1024, 65535, &c->port_min);
	if (!err)
		err = get_int(p, m, "$.media", "port_max", 1024, 65535, &c->port_max);
	/* RTP takes an even port and RTCP the next one (RFC 3550 §11): the range needs two. */
	if (!err && c->port_min + 1 > c->port_max)
		err = fail(p, "$.media: port_min %u must be below port_max %u", c->port_min,
		           c->port_max);
	return err;
}

static int parse_teamlink(struct pctx *p, const json_t *root, struct epconfig *c)
{
	static const char *const keys[] = {
	        "enabled", "connection", "detect_method", "tcm", "servers", "proxy", NULL};
	static const char *const conn[] = {"auto", "https", "http", NULL};
	static const char *const det[] = {"sip", "tcm", "teamlink", NULL};
	int err = 0, e = 0;
	const json_t *t = member(p, root, "$", "teamlink", JSON_OBJECT, &err);
	const json_t *en;

	if (!t)
		return err;
	err = only_keys(p, t, "$.teamlink", keys);
	if (err)
		return err;
	en = json_object_get(t, "enabled");
	if (!en)
		return fail(p, "$.teamlink.enabled: missing");
	if (!json_is_boolean(en))
		return fail(p, "$.teamlink.enabled: wrong type");
	c->tl_enabled = json_is_true(en);
	err = get_enum(p, t, "$.teamlink", "connection", conn, &e);
	c->connection = (enum epc_connection)e;
	if (!err)
		err = get_enum(p, t, "$.teamlink", "detect_method", det, &e);
	c->detect_method = (enum epc_detect)e;
	if (!err)
		err = get_hostlist(p, t, "$.teamlink", "tcm", c->tcm, &c->ntcm);
	if (!err)
		err = get_hostlist(p, t, "$.teamlink", "servers", c->servers, &c->nservers);
	if (!err)
		err = get_hostport(p, t, "$.teamlink", "proxy", 1, &c->proxy);
	if (!err && c->tl_enabled && c->detect_method == EPC_DETECT_TCM && c->ntcm == 0)
		err = fail(p, "$.teamlink.tcm: detect_method tcm needs at least one TCM");
	if (!err && c->tl_enabled && c->detect_method == EPC_DETECT_TEAMLINK && c->nservers == 0)
		err = fail(p, "$.teamlink.servers: detect_method teamlink needs a server");
	if (!err && c->tl_enabled && c->ntcm == 0 && c->nservers == 0)
		err = fail(p, "$.teamlink: enabled without any TCM or TeamLink server");
	return err;
}

int epconfig_parse(struct epconfig *c, const char *buf, size_t len, char *err, size_t errlen)
{
	static const char *const keys[] = {"user", "sip", "media", "stun", "teamlink", NULL};
	struct pctx p = {err, errlen};
	json_error_t jerr;
	json_t *root = NULL;
	int rc;

	if (!c || !buf || !err || errlen == 0)
		return EINVAL;
	memset(c, 0, sizeof(*c));
	if (len > EPC_DOC_MAX)
		return fail(&p, "$: document larger than %u bytes", EPC_DOC_MAX);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(&p, "$: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		rc = fail(&p, "$: not an object");
		goto out;
	}
	rc = only_keys(&p, root, "$", keys);
	if (!rc)
		rc = parse_user(&p, root, c);
	if (!rc)
		rc = parse_sip(&p, root, c);
	if (!rc)
		rc = parse_media(&p, root, c);
	if (!rc)
		rc = get_hostport(&p, root, "$", "stun", 0, &c->stun);
	if (!rc)
		rc = parse_teamlink(&p, root, c);
out:
	json_decref(root);
	return rc;
}

const char *epc_transport_name(enum epc_transport t)
{
	return t == EPC_TLS ? "tls" : t == EPC_TCP ? "tcp" : "udp";
}

const char *epc_detect_name(enum epc_detect d)
{
	return d == EPC_DETECT_TCM ? "tcm" : d == EPC_DETECT_TEAMLINK ? "teamlink" : "sip";
}

const char *epc_connection_name(enum epc_connection c)
{
	return c == EPC_CONN_HTTPS ? "https" : c == EPC_CONN_HTTP ? "http" : "auto";
}
