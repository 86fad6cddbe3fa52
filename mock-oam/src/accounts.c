/* accounts.c - accounts file loading and endpoint configuration validation. */
#include "accounts.h"

#include "onsight/jsoncfg.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct account {
	char *username;
	char *password;
	json_t *config;
};

struct accounts {
	struct account *v;
	size_t n;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return EINVAL;
}

/* json_unpack_ex with "!" names the offending key in its text; prefix our path. */
static int unpack(const json_t *o, const char *path, char *err, size_t errlen, const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = json_vunpack_ex((json_t *)o, &jerr, 0, fmt, ap);
	va_end(ap);
	if (rc == 0)
		return 0;
	return fail(err, errlen, "%s: %s", path, jerr.text);
}

static int check_port(json_int_t port, const char *path, char *err, size_t errlen)
{
	if (port < 1 || port > 65535)
		return fail(err, errlen, "%s: port %lld is out of range [1, 65535]", path,
		            (long long)port);
	return 0;
}

static int check_hostport(const json_t *v, const char *path, int nullable, char *err, size_t errlen)
{
	const char *host;
	json_int_t port;

	if (json_is_null(v) && nullable)
		return 0;
	if (unpack(v, path, err, errlen, "{s:s, s:I !}", "host", &host, "port", &port))
		return EINVAL;
	if (!*host || strlen(host) > 253 || strpbrk(host, " /\\@"))
		return fail(err, errlen, "%s.host: \"%s\" is not a host name or address", path,
		            host);
	return check_port(port, path, err, errlen);
}

static int check_enum(const char *v, const char *const *allowed, const char *path, char *err,
                      size_t errlen)
{
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(v, allowed[i]) == 0)
			return 0;
	return fail(err, errlen, "%s: \"%s\" is not one of the allowed values", path, v);
}

static int check_hostlist(const json_t *v, const char *path, int min, char *err, size_t errlen)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return fail(err, errlen, "%s: expected an array of host names", path);
	if (json_array_size(v) < (size_t)min || json_array_size(v) > 32)
		return fail(err, errlen, "%s: expected %d to 32 host names", path, min);
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 253)
			return fail(err, errlen, "%s[%zu]: expected a host name", path, i);
	}
	return 0;
}

static int check_user(const json_t *u, const char *path, char *err, size_t errlen)
{
	const char *uri, *name;

	if (unpack(u, path, err, errlen, "{s:s, s:s !}", "sip_uri", &uri, "display_name", &name))
		return EINVAL;
	if (strncmp(uri, "sip:", 4) != 0 && strncmp(uri, "sips:", 5) != 0)
		return fail(err, errlen, "%s.sip_uri: \"%s\" is not a sip: or sips: URI", path,
		            uri);
	if (!strchr(uri, '@'))
		return fail(err, errlen, "%s.sip_uri: \"%s\" has no user part", path, uri);
	return 0;
}

static int check_sip(const json_t *s, const char *path, char *err, size_t errlen)
{
	static const char *const transports[] = {"udp", "tcp", "tls", NULL};
	const char *user, *pass, *transport;
	json_t *pub = NULL, *priv = NULL;
	json_int_t expires;
	char sub[128];

	if (unpack(s, path, err, errlen, "{s:s, s:s, s:s, s:o, s:o, s:I !}", "auth_user", &user,
	           "auth_password", &pass, "transport", &transport, "public", &pub, "private",
	           &priv, "register_expires", &expires))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.transport", path);
	if (check_enum(transport, transports, sub, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.public", path);
	if (check_hostport(pub, sub, 1, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.private", path);
	if (check_hostport(priv, sub, 1, err, errlen))
		return EINVAL;
	/* Note §4: at least one of the public and private servers is configured. */
	if (json_is_null(pub) && json_is_null(priv))
		return fail(err, errlen, "%s: neither a public nor a private server is set", path);
	if (expires < 60 || expires > 86400)
		return fail(err, errlen, "%s.register_expires: %lld is out of range [60, 86400]",
		            path, (long long)expires);
	return 0;
}

static int check_media(const json_t *m, const char *path, char *err, size_t errlen)
{
	json_int_t lo, hi;

	if (unpack(m, path, err, errlen, "{s:I, s:I !}", "port_min", &lo, "port_max", &hi))
		return EINVAL;
	if (lo < 1024 || hi > 65535 || lo > hi)
		return fail(err, errlen, "%s: port range %lld-%lld is not within 1024-65535", path,
		            (long long)lo, (long long)hi);
	return 0;
}

static int check_teamlink(const json_t *t, const char *path, char *err, size_t errlen)
{
	static const char *const conns[] = {"auto", "https", "http", NULL};
	static const char *const methods[] = {"tcm", "teamlink", "sip", NULL};
	const char *conn, *method;
	json_t *tcm = NULL, *servers = NULL, *proxy = NULL;
	int enabled;
	char sub[128];

	if (unpack(t, path, err, errlen, "{s:b, s:s, s:s, s:o, s:o, s:o !}", "enabled", &enabled,
	           "connection", &conn, "detect_method", &method, "tcm", &tcm, "servers", &servers,
	           "proxy", &proxy))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.connection", path);
	if (check_enum(conn, conns, sub, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.detect_method", path);
	if (check_enum(method, methods, sub, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.tcm", path);
	if (check_hostlist(tcm, sub, enabled && strcmp(method, "tcm") == 0, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.servers", path);
	if (check_hostlist(servers, sub, 0, err, errlen))
		return EINVAL;
	/* An enabled TeamLink needs somewhere to go: a TCM to ask, or a server. */
	if (enabled && json_array_size(tcm) == 0 && json_array_size(servers) == 0)
		return fail(err, errlen, "%s: enabled but neither tcm nor servers is set", path);
	if (enabled && strcmp(method, "teamlink") == 0 && json_array_size(servers) == 0)
		return fail(err, errlen, "%s: detect_method \"teamlink\" needs servers", path);
	snprintf(sub, sizeof(sub), "%s.proxy", path);
	return check_hostport(proxy, sub, 1, err, errlen);
}

int oamcfg_validate(const json_t *cfg, const char *path, char *err, size_t errlen)
{
	json_t *user = NULL, *sip = NULL, *media = NULL, *stun = NULL, *tl = NULL;
	char sub[128];

	if (!path)
		path = "$";
	if (unpack(cfg, path, err, errlen, "{s:o, s:o, s:o, s:o, s:o !}", "user", &user, "sip",
	           &sip, "media", &media, "stun", &stun, "teamlink", &tl))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.user", path);
	if (check_user(user, sub, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.sip", path);
	if (check_sip(sip, sub, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.media", path);
	if (check_media(media, sub, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.stun", path);
	if (check_hostport(stun, sub, 0, err, errlen))
		return EINVAL;
	snprintf(sub, sizeof(sub), "%s.teamlink", path);
	return check_teamlink(tl, sub, err, errlen);
}

static int load_one(struct account *acc, const json_t *e, const char *file, size_t i, char *err,
                    size_t errlen)
{
	const char *user, *pass;
	json_t *cfg = NULL;
	char path[64], msg[512];

	snprintf(path, sizeof(path), "$.accounts[%zu]", i);
	if (unpack(e, path, msg, sizeof(msg), "{s:s, s:s, s:o !}", "username", &user, "password",
	           &pass, "config", &cfg))
		return fail(err, errlen, "%s: %s", file, msg);
	if (!*user || strlen(user) > ACCOUNT_NAME_MAX || strpbrk(user, " :@\"\\"))
		return fail(err, errlen, "%s: %s.username: \"%s\" is not a valid user name", file,
		            path, user);
	if (!*pass || strlen(pass) > ACCOUNT_PASSWORD_MAX)
		return fail(err, errlen, "%s: %s.password: must be 1 to %d characters", file, path,
		            ACCOUNT_PASSWORD_MAX);
	snprintf(path, sizeof(path), "$.accounts[%zu].config", i);
	if (oamcfg_validate(cfg, path, msg, sizeof(msg)))
		return fail(err, errlen, "%s: %s", file, msg);
	acc->username = strdup(user);
	acc->password = strdup(pass);
	acc->config = json_deep_copy(cfg);
	if (!acc->username || !acc->password || !acc->config)
		return ENOMEM;
	return 0;
}

int accounts_load(struct accounts **ap, const char *path, char *err, size_t errlen)
{
	struct accounts *a = NULL;
	json_t *root = NULL, *list = NULL, *e;
	char msg[512];
	size_t i;
	int rc;

	if (!ap || !path)
		return EINVAL;
	rc = jcfg_load(path, &root, err, errlen);
	if (rc)
		return rc;
	rc = unpack(root, "$", msg, sizeof(msg), "{s:o !}", "accounts", &list);
	if (rc || !json_is_array(list)) {
		rc = fail(err, errlen, "%s: %s", path, rc ? msg : "$.accounts: expected an array");
		goto out;
	}
	if (json_array_size(list) > ACCOUNTS_MAX) {
		rc = fail(err, errlen, "%s: $.accounts: more than %d accounts", path, ACCOUNTS_MAX);
		goto out;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->v = calloc(json_array_size(list) + 1, sizeof(*a->v)))) {
		rc = ENOMEM;
		goto out;
	}
	json_array_foreach(list, i, e)
	{
		rc = load_one(&a->v[i], e, path, i, err, errlen);
		a->n = i + 1;
		if (rc)
			goto out;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(a->v[k].username, a->v[i].username) == 0) {
				rc = fail(err, errlen,
				          "%s: $.accounts[%zu].username: \"%s\" "
				          "repeats $.accounts[%zu]",
				          path, i, a->v[i].username, k);
				goto out;
			}
		}
	}
	*ap = a;
	a = NULL;
out:
	accounts_free(a);
	json_decref(root);
	return rc;
}

void accounts_free(struct accounts *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].username);
		free(a->v[i].password);
		json_decref(a->v[i].config);
	}
	free(a->v);
	free(a);
}

size_t accounts_count(const struct accounts *a)
{
	return a ? a->n : 0;
}

static const struct account *find(const struct accounts *a, const char *username)
{
	for (size_t i = 0; a && username && i < a->n; i++)
		if (strcmp(a->v[i].username, username) == 0)
			return &a->v[i];
	return NULL;
}

const json_t *accounts_config(const struct accounts *a, const char *username)
{
	const struct account *acc = find(a, username);

	return acc ? acc->config : NULL;
}

const json_t *accounts_check(const struct accounts *a, const char *username, const char *password)
{
	const struct account *acc = find(a, username);
	size_t n;

	if (!acc || !password)
		return NULL;
	n = strlen(password);
	/* Length first (it is not secret here), then a constant-time compare of the bytes. */
	if (n != strlen(acc->password) || CRYPTO_memcmp(acc->password, password, n) != 0)
		return NULL;
	return acc->config;
}
