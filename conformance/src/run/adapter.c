/* adapter.c - adapter files: strict parsing, placeholder expansion, argv/env/files. */
#include "adapter.h"

#include "onsight/jsoncfg.h"
#include "onsight/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct arg {
	char **parts; /* one template, or several for an optional group */
	size_t n;
	int optional;
};

struct afile {
	char *path;
	char *content;
};

struct adapter {
	char *name;
	struct arg args[ADAPTER_MAX_ARGS];
	size_t nargs;
	char *env_keys[ADAPTER_MAX_ENV];
	char *env_vals[ADAPTER_MAX_ENV];
	size_t nenv;
	struct afile files[ADAPTER_MAX_FILES];
	size_t nfiles;
	unsigned caps;
	enum adapter_ready_kind ready;
	char *ready_pattern;
	char *ready_event;
	json_t *ready_fields; /* READY_JOURNAL: field -> value the event must have, or NULL */
	regex_t re;
	int re_ok;
	int ready_timeout_s;
	int stop_signal;
	int stop_grace_ms;
};

static const struct {
	const char *name;
	unsigned cap;
} caps[] = {
        {"oam-login", CAP_OAM_LOGIN},     {"teamlink", CAP_TEAMLINK}, {"tls", CAP_TLS},
        {"auto-answer", CAP_AUTO_ANSWER}, {"call-out", CAP_CALL_OUT},
};

unsigned adapter_cap_parse(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(caps); i++)
		if (!strcmp(caps[i].name, name))
			return caps[i].cap;
	return 0;
}

const char *adapter_cap_name(unsigned cap)
{
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		if (caps[i].cap == cap)
			return caps[i].name;
	return NULL;
}

const char *adapter_caps_str(unsigned c, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		if (!(c & caps[i].cap))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", caps[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

static const struct {
	const char *name;
	int signo;
} sigs[] = {{"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},
            {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1}};

/* Offsets of each placeholder's value in struct adapter_vars. */
static const struct {
	const char *name;
	size_t off;
} vars[] = {
#define V(n) \
	{ \
#n, offsetof(struct adapter_vars, n) \
	}
        V(oam_url),    V(username),     V(password),   V(password_file), V(ca_file),
        V(proxy),      V(workdir),      V(call_uri),   V(events),        V(sip_uri),
        V(sip_user),   V(sip_password), V(sip_domain), V(sip_server),    V(sip_transport),
        V(call_after), V(call_hold),    V(fault),      V(keylog),
#undef V
};

/* Looks up a placeholder: -1 unknown, else its index in vars[]. */
static int var_index(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		if (strlen(vars[i].name) == len && !strncmp(vars[i].name, name, len))
			return (int)i;
	return -1;
}

static const char *var_value(const struct adapter_vars *v, int idx)
{
	const char *const *p = (const char *const *)((const char *)v + vars[idx].off);
	return *p;
}

/* Walks tmpl; with v == NULL only validates. */
static int expand(const char *tmpl, const struct adapter_vars *v, char **outp, const char **missing)
{
	size_t cap = 256, len = 0;
	char *out = NULL;
	int err = 0;

	if (outp) {
		out = malloc(cap);
		if (!out)
			return ENOMEM;
	}
	for (const char *p = tmpl; *p;) {
		const char *piece = p;
		size_t plen = 1;

		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			p += 2;
		} else if (p[0] == '}') {
			err = EINVAL;
			goto out;
		} else if (p[0] == '{') {
			const char *end = strchr(p + 1, '}');
			int idx;

			if (!end) {
				err = EINVAL;
				goto out;
			}
			idx = var_index(p + 1, (size_t)(end - p - 1));
			if (idx < 0) {
				err = EINVAL;
				goto out;
			}
			p = end + 1;
			if (!v)
				continue;
			piece = var_value(v, idx);
			if (!piece || !*piece) {
				if (missing)
					*missing = vars[idx].name;
				err = ENOENT;
				goto out;
			}
			plen = strlen(piece);
		} else {
			p++;
		}
		if (!outp)
			continue;
		if (len + plen + 1 > ADAPTER_MAX_EXPANDED) {
			err = E2BIG;
			goto out;
		}
		while (len + plen + 1 > cap)
			cap *= 2;
		char *n = realloc(out, cap);
		if (!n) {
			err = ENOMEM;
			goto out;
		}
		out = n;
		memcpy(out + len, piece, plen);
		len += plen;
	}
	if (outp) {
		out[len] = '\0';
		*outp = out;
		out = NULL;
	}
out:
	free(out);
	return err;
}

int adapter_expand(const char *tmpl, const struct adapter_vars *v, char **outp,
                   const char **missing)
{
	if (!tmpl || !v || !outp)
		return EINVAL;
	return expand(tmpl, v, outp, missing);
}

void adapter_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void adapter_free(struct adapter *a)
{
	if (!a)
		return;
	free(a->name);
	for (size_t i = 0; i < a->nargs; i++) {
		for (size_t j = 0; j < a->args[i].n; j++)
			free(a->args[i].parts[j]);
		free(a->args[i].parts);
	}
	for (size_t i = 0; i < a->nenv; i++) {
		free(a->env_keys[i]);
		free(a->env_vals[i]);
	}
	for (size_t i = 0; i < a->nfiles; i++) {
		free(a->files[i].path);
		free(a->files[i].content);
	}
	free(a->ready_pattern);
	free(a->ready_event);
	json_decref(a->ready_fields);
	if (a->re_ok)
		regfree(&a->re);
	free(a);
}

/* Rejects keys of obj that are not in allowed (NULL-terminated). */
static int strict_keys(const json_t *obj, const char *const *allowed, const char *where,
                       const char *name, char *err, size_t errlen)
{
	const char *key;
	const json_t *val;

	json_object_foreach((json_t *)obj, key, val)
	{
		size_t i;
		(void)val;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(allowed[i], key))
				break;
		if (!allowed[i]) {
			err_set(err, errlen, "%s: %s.%s: unknown key", name, where, key);
			return EINVAL;
		}
	}
	return 0;
}

static int template_dup(const json_t *j, char **outp, const char *name, const char *where,
                        char *err, size_t errlen)
{
	const char *s = json_string_value(j);
	int e;

	if (!json_is_string(j)) {
		err_set(err, errlen, "%s: %s: must be a string", name, where);
		return EINVAL;
	}
	e = expand(s, NULL, NULL, NULL);
	if (e) {
		err_set(err, errlen,
		        "%s: %s: bad template \"%s\" (unknown placeholder or unbalanced "
		        "brace; write {{ and }} for literal braces)",
		        name, where, s);
		return e;
	}
	*outp = strdup(s);
	return *outp ? 0 : ENOMEM;
}

static int parse_command(struct adapter *a, const json_t *cmd, const char *name, char *err,
                         size_t errlen)
{
	size_t i;
	const json_t *el;
	char where[64];
	int e;

	if (!json_is_array(cmd) || json_array_size(cmd) == 0) {
		err_set(err, errlen, "%s: $.command: must be a non-empty array", name);
		return EINVAL;
	}
	if (json_array_size(cmd) > ADAPTER_MAX_ARGS) {
		err_set(err, errlen, "%s: $.command: more than %u arguments", name,
		        ADAPTER_MAX_ARGS);
		return E2BIG;
	}
	json_array_foreach(cmd, i, el)
	{
		struct arg *ar = &a->args[a->nargs];
		size_t n = json_is_array(el) ? json_array_size(el) : 1;

		snprintf(where, sizeof(where), "$.command[%zu]", i);
		if (json_is_array(el) && (n == 0 || n > 8 || i == 0)) {
			err_set(err, errlen,
			        "%s: %s: an optional group holds 1 to 8 strings and "
			        "cannot be the program",
			        name, where);
			return EINVAL;
		}
		ar->parts = calloc(n, sizeof(char *));
		if (!ar->parts)
			return ENOMEM;
		ar->optional = json_is_array(el);
		a->nargs++;
		for (size_t k = 0; k < n; k++) {
			e = template_dup(ar->optional ? json_array_get(el, k) : el, &ar->parts[k],
			                 name, where, err, errlen);
			if (e)
				return e;
			ar->n++;
		}
	}
	return 0;
}

static int parse_env(struct adapter *a, const json_t *env, const char *name, char *err,
                     size_t errlen)
{
	const char *key;
	json_t *val;
	char where[160];
	int e;

	if (!json_is_object(env)) {
		err_set(err, errlen, "%s: $.env: must be an object of strings", name);
		return EINVAL;
	}
	json_object_foreach((json_t *)env, key, val)
	{
		snprintf(where, sizeof(where), "$.env.%.100s", key);
		if (a->nenv >= ADAPTER_MAX_ENV) {
			err_set(err, errlen, "%s: $.env: more than %u variables", name,
			        ADAPTER_MAX_ENV);
			return E2BIG;
		}
		if (!*key || strchr(key, '=')) {
			err_set(err, errlen, "%s: %s: bad variable name", name, where);
			return EINVAL;
		}
		a->env_keys[a->nenv] = strdup(key);
		if (!a->env_keys[a->nenv])
			return ENOMEM;
		e = template_dup(val, &a->env_vals[a->nenv], name, where, err, errlen);
		a->nenv++;
		if (e)
			return e;
	}
	return 0;
}

/* "content" is a string or an array of lines (joined with newlines, one at the end). */
static int content_join(const json_t *c, char **outp)
{
	size_t total = 1, i;
	const json_t *el;
	char *s;

	if (json_is_string(c)) {
		*outp = strdup(json_string_value(c));
		return *outp ? 0 : ENOMEM;
	}
	if (!json_is_array(c))
		return EINVAL;
	json_array_foreach(c, i, el)
	{
		if (!json_is_string(el))
			return EINVAL;
		total += json_string_length(el) + 1;
	}
	s = malloc(total);
	if (!s)
		return ENOMEM;
	s[0] = '\0';
	size_t used = 0;
	json_array_foreach(c, i, el)
	{
		size_t l = json_string_length(el);
		memcpy(s + used, json_string_value(el), l);
		used += l;
		s[used++] = '\n';
	}
	s[used] = '\0';
	*outp = s;
	return 0;
}

static int parse_files(struct adapter *a, const json_t *files, const char *name, char *err,
                       size_t errlen)
{
	static const char *const keys[] = {"path", "content", NULL};
	size_t i;
	const json_t *el;
	char where[64];
	int e;

	if (!json_is_array(files) || json_array_size(files) > ADAPTER_MAX_FILES) {
		err_set(err, errlen, "%s: $.files: must be an array of at most %u files", name,
		        ADAPTER_MAX_FILES);
		return EINVAL;
	}
	json_array_foreach(files, i, el)
	{
		struct afile *f = &a->files[a->nfiles];
		char *joined = NULL;
		json_t *tmp;

		snprintf(where, sizeof(where), "$.files[%zu]", i);
		if (!json_is_object(el)) {
			err_set(err, errlen, "%s: %s: must be an object", name, where);
			return EINVAL;
		}
		e = strict_keys(el, keys, where, name, err, errlen);
		if (e)
			return e;
		a->nfiles++;
		snprintf(where, sizeof(where), "$.files[%zu].path", i);
		e = template_dup(json_object_get(el, "path"), &f->path, name, where, err, errlen);
		if (e)
			return e;
		if (!strstr(f->path, "{workdir}")) {
			err_set(err, errlen, "%s: %s: files are written under {workdir} only", name,
			        where);
			return EINVAL;
		}
		snprintf(where, sizeof(where), "$.files[%zu].content", i);
		e = content_join(json_object_get(el, "content"), &joined);
		if (e) {
			err_set(err, errlen, "%s: %s: must be a string or an array of strings",
			        name, where);
			return e;
		}
		tmp = json_string(joined);
		free(joined);
		if (!tmp)
			return ENOMEM;
		e = template_dup(tmp, &f->content, name, where, err, errlen);
		json_decref(tmp);
		if (e)
			return e;
	}
	return 0;
}

static int parse_caps(struct adapter *a, const json_t *c, const char *name, char *err,
                      size_t errlen)
{
	size_t i;
	const json_t *el;

	if (!json_is_array(c)) {
		err_set(err, errlen, "%s: $.capabilities: must be an array", name);
		return EINVAL;
	}
	json_array_foreach(c, i, el)
	{
		unsigned cap = adapter_cap_parse(json_string_value(el));
		if (!cap) {
			err_set(err, errlen,
			        "%s: $.capabilities[%zu]: unknown capability (known: oam-login, "
			        "teamlink, tls, auto-answer, call-out)",
			        name, i);
			return EINVAL;
		}
		a->caps |= cap;
	}
	return 0;
}

/* "fields": {"result": "ok", ...}: values a journal event must have (strings, numbers,
 * booleans), so readiness can wait for the registration's 200, not its 401 challenge. */
static int parse_ready_fields(struct adapter *a, const json_t *fi, const char *name, char *err,
                              size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(fi) || json_object_size(fi) == 0 || json_object_size(fi) > 8) {
		err_set(err, errlen, "%s: $.ready.fields: an object of 1 to 8 field values", name);
		return EINVAL;
	}
	json_object_foreach((json_t *)fi, k, v)
	{
		if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v)) {
			err_set(err, errlen,
			        "%s: $.ready.fields.%s: a string, number or boolean to compare "
			        "with",
			        name, k);
			return EINVAL;
		}
	}
	a->ready_fields = json_deep_copy(fi);
	return a->ready_fields ? 0 : ENOMEM;
}

static int parse_ready(struct adapter *a, const json_t *r, const char *name, char *err,
                       size_t errlen)
{
	static const char *const keys[] = {"stdout", "journal",   "event",
	                                   "fields", "timeout_s", NULL};
	const json_t *so = json_object_get(r, "stdout"), *jo = json_object_get(r, "journal");
	const json_t *ev = json_object_get(r, "event"), *to = json_object_get(r, "timeout_s");
	const json_t *fi = json_object_get(r, "fields");
	int e;

	if (!json_is_object(r)) {
		err_set(err, errlen, "%s: $.ready: must be an object", name);
		return EINVAL;
	}
	e = strict_keys(r, keys, "$.ready", name, err, errlen);
	if (e)
		return e;
	if (so && jo) {
		err_set(err, errlen, "%s: $.ready: give either \"stdout\" or \"journal\"", name);
		return EINVAL;
	}
	if ((ev || fi) && !jo)
		goto bad;
	if (to &&
	    (!json_is_integer(to) || json_integer_value(to) < 1 || json_integer_value(to) > 300)) {
		err_set(err, errlen, "%s: $.ready.timeout_s: an integer from 1 to 300", name);
		return EINVAL;
	}
	a->ready_timeout_s = to ? (int)json_integer_value(to) : 15;
	if (so) {
		if (!json_is_string(so))
			goto bad;
		const char *lim = regex_too_costly(json_string_value(so));
		if (lim) {
			err_set(err, errlen, "%s: $.ready.stdout: regex %s", name, lim);
			return EINVAL;
		}
		if (!(a->ready_pattern = strdup(json_string_value(so))))
			return ENOMEM;
		int rc = regcomp(&a->re, a->ready_pattern, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[128];
			regerror(rc, &a->re, msg, sizeof(msg));
			err_set(err, errlen, "%s: $.ready.stdout: bad regex: %s", name, msg);
			return EINVAL;
		}
		a->re_ok = 1;
		a->ready = READY_STDOUT;
	} else if (jo) {
		const char *svc = json_string_value(jo);
		if (!svc ||
		    (strcmp(svc, "mock-sip") && strcmp(svc, "mock-oam") &&
		     strcmp(svc, "mock-teamlink"))) {
			err_set(err, errlen,
			        "%s: $.ready.journal: one of mock-sip, mock-oam, "
			        "mock-teamlink",
			        name);
			return EINVAL;
		}
		if (!json_is_string(ev)) {
			err_set(err, errlen,
			        "%s: $.ready.event: the journal event name is required", name);
			return EINVAL;
		}
		if (fi && (e = parse_ready_fields(a, fi, name, err, errlen)))
			return e;
		a->ready_pattern = strdup(svc);
		a->ready_event = strdup(json_string_value(ev));
		if (!a->ready_pattern || !a->ready_event)
			return ENOMEM;
		a->ready = READY_JOURNAL;
	}
	return 0;
bad:
	err_set(err, errlen,
	        "%s: $.ready: \"stdout\" is a regex string; \"event\" and \"fields\" go "
	        "with \"journal\"",
	        name);
	return EINVAL;
}

static int parse_stop(struct adapter *a, const json_t *s, const char *name, char *err,
                      size_t errlen)
{
	static const char *const keys[] = {"signal", "grace_s", NULL};
	const json_t *sig = json_object_get(s, "signal"), *g = json_object_get(s, "grace_s");
	int e;

	if (!json_is_object(s)) {
		err_set(err, errlen, "%s: $.stop: must be an object", name);
		return EINVAL;
	}
	e = strict_keys(s, keys, "$.stop", name, err, errlen);
	if (e)
		return e;
	if (sig) {
		size_t i;
		const char *n = json_string_value(sig);
		if (n && !strncmp(n, "SIG", 3))
			n += 3;
		for (i = 0; n && i < ARRAY_SIZE(sigs); i++)
			if (!strcmp(sigs[i].name, n))
				break;
		if (!n || i == ARRAY_SIZE(sigs)) {
			err_set(err, errlen,
			        "%s: $.stop.signal: one of TERM, INT, HUP, QUIT, KILL, "
			        "USR1",
			        name);
			return EINVAL;
		}
		a->stop_signal = sigs[i].signo;
	}
	if (g) {
		double v = json_number_value(g);
		if (!json_is_number(g) || v < 0 || v > 60) {
			err_set(err, errlen, "%s: $.stop.grace_s: a number from 0 to 60", name);
			return EINVAL;
		}
		a->stop_grace_ms = (int)(v * 1000);
	}
	return 0;
}

int adapter_parse(struct adapter **ap, const char *name, const char *text, size_t len, char *err,
                  size_t errlen)
{
	static const char *const keys[] = {"name",         "description", "command", "env", "files",
	                                   "capabilities", "ready",       "stop",    NULL};
	struct adapter *a = NULL;
	json_t *root = NULL, *j;
	int e;

	if (!ap || !text)
		return EINVAL;
	if (len > ADAPTER_MAX_FILE) {
		err_set(err, errlen, "%s: larger than %u bytes", name, ADAPTER_MAX_FILE);
		return EFBIG;
	}
	e = jcfg_loadb(name, text, len, &root, err, errlen);
	if (e)
		return e;
	e = EINVAL;
	if (!json_is_object(root)) {
		err_set(err, errlen, "%s: $: must be an object", name);
		goto out;
	}
	e = strict_keys(root, keys, "$", name, err, errlen);
	if (e)
		goto out;
	a = calloc(1, sizeof(*a));
	if (!a) {
		e = ENOMEM;
		goto out;
	}
	a->stop_signal = SIGTERM;
	a->stop_grace_ms = 3000;
	a->ready_timeout_s = 15;
	j = json_object_get(root, "name");
	if (!json_is_string(j) || !json_string_length(j) || json_string_length(j) > 64) {
		err_set(err, errlen, "%s: $.name: required, a string of 1 to 64 characters", name);
		e = EINVAL;
		goto out;
	}
	a->name = strdup(json_string_value(j));
	if (!a->name) {
		e = ENOMEM;
		goto out;
	}
	j = json_object_get(root, "description");
	if (j && !json_is_string(j)) {
		err_set(err, errlen, "%s: $.description: must be a string", name);
		e = EINVAL;
		goto out;
	}
	if ((e = parse_command(a, json_object_get(root, "command"), name, err, errlen)))
		goto out;
	if ((j = json_object_get(root, "env")) && (e = parse_env(a, j, name, err, errlen)))
		goto out;
	if ((j = json_object_get(root, "files")) && (e = parse_files(a, j, name, err, errlen)))
		goto out;
	if ((j = json_object_get(root, "capabilities")) &&
	    (e = parse_caps(a, j, name, err, errlen)))
		goto out;
	if ((j = json_object_get(root, "ready")) && (e = parse_ready(a, j, name, err, errlen)))
		goto out;
	if ((j = json_object_get(root, "stop")) && (e = parse_stop(a, j, name, err, errlen)))
		goto out;
	*ap = a;
	a = NULL;
	e = 0;
out:
	adapter_free(a);
	json_decref(root);
	return e;
}

int adapter_load(struct adapter **ap, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int e = file_read(path, ADAPTER_MAX_FILE, &buf, &len);

	if (e) {
		err_set(err, errlen, "%s: %s", path, strerror(e));
		return e;
	}
	e = adapter_parse(ap, path, buf, len, err, errlen);
	free(buf);
	return e;
}

const char *adapter_name(const struct adapter *a)
{
	return a->name;
}
unsigned adapter_caps(const struct adapter *a)
{
	return a->caps;
}
enum adapter_ready_kind adapter_ready_kind(const struct adapter *a)
{
	return a->ready;
}
const char *adapter_ready_pattern(const struct adapter *a)
{
	return a->ready_pattern;
}
const char *adapter_ready_event(const struct adapter *a)
{
	return a->ready_event;
}
int adapter_ready_timeout_s(const struct adapter *a)
{
	return a->ready_timeout_s;
}
int adapter_stop_signal(const struct adapter *a)
{
	return a->stop_signal;
}
int adapter_stop_grace_ms(const struct adapter *a)
{
	return a->stop_grace_ms;
}

int adapter_ready_journal_match(const struct adapter *a, const json_t *ev)
{
	const char *k;
	json_t *v;

	if (a->ready != READY_JOURNAL ||
	    strcmp(json_string_value(json_object_get(ev, "service")) ?: "", a->ready_pattern) ||
	    strcmp(json_string_value(json_object_get(ev, "event")) ?: "", a->ready_event))
		return 0;
	json_object_foreach(a->ready_fields, k, v)
	{
		if (!json_equal(json_object_get(ev, k), v))
			return 0;
	}
	return 1;
}

int adapter_ready_match(const struct adapter *a, const char *line)
{
	return a->re_ok && regexec(&a->re, line, 0, NULL, 0) == 0;
}

static int strv_push(char ***vp, size_t *n, char *s)
{
	char **nv = realloc(*vp, (*n + 2) * sizeof(char *));

	if (!nv) {
		free(s);
		return ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*vp = nv;
	return 0;
}

int adapter_argv(const struct adapter *a, const struct adapter_vars *v, char ***argvp, char *err,
                 size_t errlen)
{
	char **out = NULL;
	size_t n = 0;
	int e = 0;

	if (!a || !v || !argvp)
		return EINVAL;
	for (size_t i = 0; i < a->nargs; i++) {
		const struct arg *ar = &a->args[i];
		char *ex[8] = {0};
		size_t k;
		const char *missing = NULL;

		for (k = 0; k < ar->n; k++) {
			e = expand(ar->parts[k], v, &ex[k], &missing);
			if (e)
				break;
		}
		if (e == ENOENT && ar->optional) {
			for (size_t m = 0; m < k; m++)
				free(ex[m]);
			e = 0;
			continue;
		}
		if (e) {
			for (size_t m = 0; m < k; m++)
				free(ex[m]);
			if (e == ENOENT)
				err_set(err, errlen,
				        "%s: command argument %zu needs {%s}, which this "
				        "scenario does not provide",
				        a->name, i, missing);
			else
				err_set(err, errlen, "%s: command argument %zu: %s", a->name, i,
				        strerror(e));
			goto out;
		}
		for (k = 0; k < ar->n; k++) {
			e = strv_push(&out, &n, ex[k]);
			if (e) {
				for (size_t m = k + 1; m < ar->n; m++)
					free(ex[m]);
				goto out;
			}
		}
	}
	*argvp = out;
	out = NULL;
out:
	adapter_strv_free(out);
	return e;
}

int adapter_envv(const struct adapter *a, const struct adapter_vars *v, char ***envp, char *err,
                 size_t errlen)
{
	char **out = NULL;
	size_t n = 0;
	int e = 0;

	if (!a || !v || !envp)
		return EINVAL;
	out = calloc(1, sizeof(char *));
	if (!out)
		return ENOMEM;
	for (size_t i = 0; i < a->nenv; i++) {
		char *val = NULL, *kv;
		const char *missing = NULL;

		e = expand(a->env_vals[i], v, &val, &missing);
		if (e == ENOENT) {
			/* A variable whose value is not available is simply not set. */
			e = 0;
			continue;
		}
		if (e) {
			err_set(err, errlen, "%s: $.env.%s: %s", a->name, a->env_keys[i],
			        strerror(e));
			goto out;
		}
		kv = malloc(strlen(a->env_keys[i]) + strlen(val) + 2);
		if (!kv) {
			free(val);
			e = ENOMEM;
			goto out;
		}
		sprintf(kv, "%s=%s", a->env_keys[i], val);
		free(val);
		if ((e = strv_push(&out, &n, kv)))
			goto out;
	}
	*envp = out;
	out = NULL;
out:
	adapter_strv_free(out);
	return e;
}

int adapter_write_files(const struct adapter *a, const struct adapter_vars *v, char *err,
                        size_t errlen)
{
	int e = 0;

	for (size_t i = 0; i < a->nfiles; i++) {
		char *path = NULL, *content = NULL;
		const char *missing = NULL;
		int fd = -1;

		e = expand(a->files[i].path, v, &path, &missing);
		if (!e)
			e = expand(a->files[i].content, v, &content, &missing);
		if (e) {
			err_set(err, errlen, "%s: $.files[%zu]: %s%s%s", a->name, i,
			        e == ENOENT ? "needs {" : strerror(e), e == ENOENT ? missing : "",
			        e == ENOENT ? "}" : "");
			goto next;
		}
		if (strstr(path, "/../")) {
			err_set(err, errlen, "%s: $.files[%zu]: path leaves {workdir}", a->name, i);
			e = EINVAL;
			goto next;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			e = errno;
			err_set(err, errlen, "%s: %s: %s", a->name, path, strerror(e));
			goto next;
		}
		size_t len = strlen(content), off = 0;
		while (off < len) {
			ssize_t w = write(fd, content + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				e = errno ? errno : EIO;
				err_set(err, errlen, "%s: %s: %s", a->name, path, strerror(e));
				break;
			}
			off += (size_t)w;
		}
	next:
		if (fd >= 0)
			close(fd);
		free(path);
		free(content);
		if (e)
			return e;
	}
	return 0;
}
