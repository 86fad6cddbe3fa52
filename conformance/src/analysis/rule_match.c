/* rule_match.c - matchers (docs/scenarios.md "Matchers"): one table of operators, each with
 * its compile step (argument checked and parsed once, errors with the JSON path), its
 * evaluation over one attribute value, and its description for the "needs" text.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onsight/util.h"
#include "rule_int.h"

/* ---- addresses -------------------------------------------------------------------------- */

bool addr_part(const char *value, char *out, size_t outlen)
{
	unsigned char buf[16];
	char tmp[64];
	size_t n = strlen(value);

	if (n == 0 || n >= sizeof(tmp))
		return false;
	if (value[0] == '[') {
		const char *rb = strchr(value, ']');

		if (!rb)
			return false;
		n = (size_t)(rb - value - 1);
		memcpy(tmp, value + 1, n);
		tmp[n] = '\0';
	} else {
		const char *c1 = strchr(value, ':');

		memcpy(tmp, value, n + 1);
		if (c1 && !strchr(c1 + 1, ':'))
			tmp[c1 - value] = '\0'; /* v4 "ip:port" (a v6 address has several ':') */
	}
	if (inet_pton(AF_INET, tmp, buf) != 1 && inet_pton(AF_INET6, tmp, buf) != 1)
		return false;
	if (strlen(tmp) >= outlen)
		return false;
	strcpy(out, tmp);
	return true;
}

struct cidr {
	int af, bits;
	unsigned char net[16];
};

static bool parse_cidr(const char *text, struct cidr *c)
{
	char tmp[64];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	char *end = NULL;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, text, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, c->net) == 1)
		c->af = AF_INET;
	else if (inet_pton(AF_INET6, tmp, c->net) == 1)
		c->af = AF_INET6;
	else
		return false;
	c->bits = c->af == AF_INET ? 32 : 128;
	if (slash) {
		long b = strtol(slash + 1, &end, 10);

		if (!slash[1] || *end || b < 0 || b > c->bits)
			return false;
		c->bits = (int)b;
	}
	return true;
}

static bool cidr_has(const struct cidr *c, const char *value)
{
	unsigned char a[16];
	char addr[64];

	if (!addr_part(value, addr, sizeof(addr)) || inet_pton(c->af, addr, a) != 1)
		return false;
	for (int i = 0; i < c->bits / 8; i++)
		if (a[i] != c->net[i])
			return false;
	if (c->bits % 8) {
		unsigned char m = (unsigned char)(0xff << (8 - c->bits % 8));

		if ((a[c->bits / 8] & m) != (c->net[c->bits / 8] & m))
			return false;
	}
	return true;
}

/* ---- values ------------------------------------------------------------------------------ */

static bool num_of(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;

		if (!*s)
			return false;
		*out = strtod(s, &end);
		return *end == '\0';
	}
	return false;
}

static bool scalar_eq(const json_t *v, const json_t *m)
{
	double a, b;

	if (!v)
		return false;
	if (json_is_string(m) && json_is_string(v))
		return !strcmp(json_string_value(m), json_string_value(v));
	if ((json_is_number(m) || json_is_number(v)) && num_of(m, &a) && num_of(v, &b))
		return a == b;
	if (json_is_boolean(m))
		return json_is_boolean(v) && json_is_true(m) == json_is_true(v);
	if (json_is_null(m))
		return json_is_null(v);
	return false;
}

const char *rule_str_of(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%.17g", json_real_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

static bool plain(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

/* ---- the compiled matcher ------------------------------------------------------------------ */

struct matcher_op;

struct matcher {
	const struct matcher_op *op;
	json_t *val; /* literal: the value; one_of: the list (references kept) */
	regex_t re;
	bool have_re;
	char *text; /* regex source, glob, contains */
	struct cidr *cidr;
	char **names; /* host names or patterns */
	size_t n; /* cidr / names entries */
	double lo, hi; /* range */
	bool want; /* exists */
	struct matcher **sub; /* not (one), any_of, all_of */
	size_t nsub;
};

struct matcher_op {
	const char *name; /* the matcher object's key */
	int (*compile)(struct matcher *m, const json_t *arg, const char *path, char *err,
	               size_t errlen, int depth);
	bool (*eval)(const struct matcher *m, const struct conform_timeline *t, const json_t *v);
	void (*describe)(const struct matcher *m, struct sbuf *b);
	bool absent_too; /* judged on an absent attribute; the others never match one */
};

static int matcher_compile(struct matcher **mp, const json_t *j, const char *path, char *err,
                           size_t errlen, int depth);
static bool matcher_eval(const struct matcher *m, const struct conform_timeline *t,
                         const json_t *v);
static void matcher_describe(const struct matcher *m, struct sbuf *b);

static void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	json_decref(m->val);
	if (m->have_re)
		regfree(&m->re);
	free(m->text);
	free(m->cidr);
	for (size_t i = 0; m->names && i < m->n; i++)
		free(m->names[i]);
	free(m->names);
	for (size_t i = 0; i < m->nsub; i++)
		matcher_free(m->sub[i]);
	free(m->sub);
	free(m);
}

/* literal ("text", 5060, true, null) and {"eq": value} */
static int c_literal(struct matcher *m, const json_t *arg, const char *path, char *err,
                     size_t errlen, int depth)
{
	(void)depth;
	if (!plain(arg))
		return verr(err, errlen, path, "eq takes a string, number, bool or null");
	m->val = json_incref((json_t *)arg);
	return 0;
}

static bool e_literal(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	(void)t;
	return scalar_eq(v, m->val);
}

static void d_value(const json_t *v, struct sbuf *b)
{
	char buf[64];
	const char *s = rule_str_of(v, buf, sizeof(buf));

	sb_printf(b, "%s", s ? s : "null");
}

static void d_literal(const struct matcher *m, struct sbuf *b)
{
	d_value(m->val, b);
}

static int c_one_of(struct matcher *m, const json_t *arg, const char *path, char *err,
                    size_t errlen, int depth)
{
	size_t i;
	json_t *x;

	(void)depth;
	if (!json_is_array(arg) || !json_array_size(arg))
		return verr(err, errlen, path, "one_of takes a non-empty list");
	json_array_foreach(arg, i, x)
	{
		if (!plain(x))
			return verr(err, errlen, path, "one_of takes plain values");
	}
	m->val = json_incref((json_t *)arg);
	return 0;
}

static bool e_one_of(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	size_t i;
	json_t *x;

	(void)t;
	json_array_foreach(m->val, i, x)
	{
		if (scalar_eq(v, x))
			return true;
	}
	return false;
}

static void d_one_of(const struct matcher *m, struct sbuf *b)
{
	size_t i, n = json_array_size(m->val);
	json_t *x;

	json_array_foreach(m->val, i, x)
	{
		sb_printf(b, "%s", i == 0 ? "" : i + 1 == n ? " or " : ", ");
		d_value(x, b);
	}
}

static int c_regex(struct matcher *m, const json_t *arg, const char *path, char *err, size_t errlen,
                   int depth)
{
	const char *why;
	int rc;

	(void)depth;
	if (!json_is_string(arg))
		return verr(err, errlen, path, "regex takes a string");
	if ((why = regex_too_costly(json_string_value(arg))) != NULL)
		return verr(err, errlen, path, "regular expression %s", why);
	rc = regcomp(&m->re, json_string_value(arg), REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char msg[128];

		regerror(rc, &m->re, msg, sizeof(msg));
		return verr(err, errlen, path, "bad regular expression: %s", msg);
	}
	m->have_re = true;
	m->text = strdup(json_string_value(arg));
	return m->text ? 0 : ENOMEM;
}

static bool e_regex(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	char buf[64];
	const char *s = rule_str_of(v, buf, sizeof(buf));

	(void)t;
	return s && regexec(&m->re, s, 0, NULL, 0) == 0;
}

static void d_regex(const struct matcher *m, struct sbuf *b)
{
	sb_printf(b, "matching /%s/", m->text);
}

static int c_text(struct matcher *m, const json_t *arg, const char *path, char *err, size_t errlen,
                  int depth)
{
	(void)depth;
	if (!json_is_string(arg))
		return verr(err, errlen, path, "takes a string");
	m->text = strdup(json_string_value(arg));
	return m->text ? 0 : ENOMEM;
}

static bool e_glob(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	char buf[64];
	const char *s = rule_str_of(v, buf, sizeof(buf));

	(void)t;
	return s && fnmatch(m->text, s, 0) == 0;
}

static void d_glob(const struct matcher *m, struct sbuf *b)
{
	sb_printf(b, "like %s", m->text);
}

static bool e_contains(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	char buf[64];
	const char *s = rule_str_of(v, buf, sizeof(buf));

	(void)t;
	return s && strstr(s, m->text) != NULL;
}

static void d_contains(const struct matcher *m, struct sbuf *b)
{
	sb_printf(b, "containing \"%s\"", m->text);
}

/* cidr and host take a string or a non-empty list of strings. */
static int str_or_list(const json_t *arg, const char *path, char *err, size_t errlen,
                       json_t **listp)
{
	json_t *one = json_is_string(arg) ? json_pack("[O]", arg) : json_incref((json_t *)arg);
	size_t i;
	json_t *x;

	if (!one)
		return ENOMEM;
	if (!json_is_array(one) || !json_array_size(one)) {
		json_decref(one);
		return verr(err, errlen, path, "takes a string or a non-empty list of strings");
	}
	json_array_foreach(one, i, x)
	{
		if (!json_is_string(x)) {
			json_decref(one);
			return verr(err, errlen, path, "takes strings");
		}
	}
	*listp = one;
	return 0;
}

static int c_cidr(struct matcher *m, const json_t *arg, const char *path, char *err, size_t errlen,
                  int depth)
{
	json_t *list = NULL, *x;
	size_t i;
	int rc = str_or_list(arg, path, err, errlen, &list);

	(void)depth;
	if (rc)
		return rc;
	m->cidr = calloc(json_array_size(list), sizeof(*m->cidr));
	if (!m->cidr)
		rc = ENOMEM;
	json_array_foreach(list, i, x)
	{
		if (rc)
			break;
		if (!parse_cidr(json_string_value(x), &m->cidr[i]))
			rc = verr(err, errlen, path, "\"%s\" is not an address or CIDR prefix",
			          json_string_value(x));
		else
			m->n++;
	}
	if (!rc) {
		m->val = list; /* kept for the description */
		list = NULL;
	}
	json_decref(list);
	return rc;
}

static bool e_cidr(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	char buf[64];
	const char *s = rule_str_of(v, buf, sizeof(buf));

	(void)t;
	for (size_t i = 0; s && i < m->n; i++)
		if (cidr_has(&m->cidr[i], s))
			return true;
	return false;
}

static void d_names(const json_t *list, const char *prefix, struct sbuf *b)
{
	size_t i, n = json_array_size(list);
	json_t *x;

	sb_printf(b, "%s", prefix);
	json_array_foreach(list, i, x)
	{
		sb_printf(b, "%s%s",
		          i == 0               ? ""
		                  : i + 1 == n ? " or "
		                               : ", ",
		          json_string_value(x));
	}
}

static void d_cidr(const struct matcher *m, struct sbuf *b)
{
	d_names(m->val, "in ", b);
}

static int c_host(struct matcher *m, const json_t *arg, const char *path, char *err, size_t errlen,
                  int depth)
{
	json_t *list = NULL;
	int rc = str_or_list(arg, path, err, errlen, &list);

	(void)depth;
	if (!rc)
		m->val = list;
	return rc;
}

/* Host names resolve through the timeline's table: the address plan belongs to the run. */
static bool e_host(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	char buf[64];
	const char *s = rule_str_of(v, buf, sizeof(buf));
	size_t i;
	json_t *x;

	if (!s)
		return false;
	json_array_foreach(m->val, i, x)
	{
		if (hosts_match(t, json_string_value(x), s))
			return true;
	}
	return false;
}

static void d_host(const struct matcher *m, struct sbuf *b)
{
	d_names(m->val, "", b);
}

static int c_range(struct matcher *m, const json_t *arg, const char *path, char *err, size_t errlen,
                   int depth)
{
	bool ok = false;

	(void)depth;
	if (json_is_array(arg) && json_array_size(arg) == 2) {
		ok = num_of(json_array_get(arg, 0), &m->lo) &&
		        num_of(json_array_get(arg, 1), &m->hi) && m->lo <= m->hi;
	} else if (json_is_string(arg)) {
		char *end = NULL;
		const char *s = json_string_value(arg);

		m->lo = strtod(s, &end);
		if (end != s && *end == '-') {
			s = end + 1;
			m->hi = strtod(s, &end);
			ok = end != s && *end == '\0' && m->lo <= m->hi;
		}
	}
	return ok ? 0 : verr(err, errlen, path, "range takes [low, high] or \"low-high\"");
}

static bool e_range(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	double x;

	(void)t;
	return num_of(v, &x) && x >= m->lo && x <= m->hi;
}

static void d_range(const struct matcher *m, struct sbuf *b)
{
	sb_printf(b, "in %g..%g", m->lo, m->hi);
}

static int c_exists(struct matcher *m, const json_t *arg, const char *path, char *err,
                    size_t errlen, int depth)
{
	(void)depth;
	if (!json_is_boolean(arg))
		return verr(err, errlen, path, "exists takes true or false");
	m->want = json_is_true(arg);
	return 0;
}

static bool e_exists(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	(void)t;
	return m->want ? v != NULL : v == NULL;
}

static void d_exists(const struct matcher *m, struct sbuf *b)
{
	sb_printf(b, "%s", m->want ? "present" : "absent");
}

static int c_not(struct matcher *m, const json_t *arg, const char *path, char *err, size_t errlen,
                 int depth)
{
	m->sub = calloc(1, sizeof(*m->sub));
	if (!m->sub)
		return ENOMEM;
	m->nsub = 1;
	return matcher_compile(&m->sub[0], arg, path, err, errlen, depth + 1);
}

static bool e_not(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	return !matcher_eval(m->sub[0], t, v);
}

static void d_not(const struct matcher *m, struct sbuf *b)
{
	sb_printf(b, "not ");
	matcher_describe(m->sub[0], b);
}

static int c_list(struct matcher *m, const json_t *arg, const char *path, char *err, size_t errlen,
                  int depth)
{
	size_t i;
	json_t *x;

	if (!json_is_array(arg) || !json_array_size(arg))
		return verr(err, errlen, path, "takes a non-empty list of matchers");
	m->sub = calloc(json_array_size(arg), sizeof(*m->sub));
	if (!m->sub)
		return ENOMEM;
	json_array_foreach(arg, i, x)
	{
		char p2[600];
		int rc;

		snprintf(p2, sizeof(p2), "%s[%zu]", path, i);
		rc = matcher_compile(&m->sub[i], x, p2, err, errlen, depth + 1);
		m->nsub++;
		if (rc)
			return rc;
	}
	return 0;
}

static bool e_any_of(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	for (size_t i = 0; i < m->nsub; i++)
		if (matcher_eval(m->sub[i], t, v))
			return true;
	return false;
}

static bool e_all_of(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	for (size_t i = 0; i < m->nsub; i++)
		if (!matcher_eval(m->sub[i], t, v))
			return false;
	return true;
}

static void d_list(const struct matcher *m, const char *sep, struct sbuf *b)
{
	sb_printf(b, "(");
	for (size_t i = 0; i < m->nsub; i++) {
		sb_printf(b, "%s", i ? sep : "");
		matcher_describe(m->sub[i], b);
	}
	sb_printf(b, ")");
}

static void d_any_of(const struct matcher *m, struct sbuf *b)
{
	d_list(m, " or ", b);
}

static void d_all_of(const struct matcher *m, struct sbuf *b)
{
	d_list(m, " and ", b);
}

/* The operators, in the order docs/scenarios.md lists them. A bare value is "eq". */
static const struct matcher_op ops[] = {
        {"eq", c_literal, e_literal, d_literal, false},
        {"one_of", c_one_of, e_one_of, d_one_of, false},
        {"regex", c_regex, e_regex, d_regex, false},
        {"glob", c_text, e_glob, d_glob, false},
        {"contains", c_text, e_contains, d_contains, false},
        {"cidr", c_cidr, e_cidr, d_cidr, false},
        {"host", c_host, e_host, d_host, false},
        {"range", c_range, e_range, d_range, false},
        {"exists", c_exists, e_exists, d_exists, true},
        {"not", c_not, e_not, d_not, true},
        {"any_of", c_list, e_any_of, d_any_of, true},
        {"all_of", c_list, e_all_of, d_all_of, true},
};

const char *matcher_op_name(size_t i)
{
	return i < ARRAY_LEN(ops) ? ops[i].name : NULL;
}

static int unknown_op(const char *path, const char *key, char *err, size_t errlen)
{
	struct sbuf b = {0};
	char *names;
	int rc;

	for (size_t i = 0; i < ARRAY_LEN(ops); i++)
		sb_printf(&b, "%s%s", i ? ", " : "", ops[i].name);
	names = sb_take(&b);
	rc = verr(err, errlen, path, "unknown matcher \"%s\" (%s)", key, names ? names : "");
	free(names);
	return rc;
}

static int matcher_compile(struct matcher **mp, const json_t *j, const char *path, char *err,
                           size_t errlen, int depth)
{
	struct matcher *m = NULL;
	const json_t *arg = j;
	const char *key = "eq";
	char sub[512];
	size_t k;
	int rc;

	*mp = NULL;
	if (depth > RULE_MAX_DEPTH)
		return verr(err, errlen, path, "matcher nested too deeply");
	if (json_is_array(j))
		return verr(err, errlen, path, "a list is not a matcher (use {\"one_of\": [...]})");
	snprintf(sub, sizeof(sub), "%s", path);
	if (json_is_object(j)) {
		if (json_object_size(j) != 1)
			return verr(err, errlen, path, "a matcher object has exactly one key");
		json_object_foreach((json_t *)j, key, arg)
		{
			break;
		}
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
	}
	for (k = 0; k < ARRAY_LEN(ops); k++)
		if (!strcmp(key, ops[k].name))
			break;
	if (k == ARRAY_LEN(ops))
		return unknown_op(path, key, err, errlen);
	m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->op = &ops[k];
	rc = m->op->compile(m, arg, sub, err, errlen, depth);
	if (rc) {
		matcher_free(m);
		return rc;
	}
	*mp = m;
	return 0;
}

/* v NULL: the attribute is absent. */
static bool matcher_eval(const struct matcher *m, const struct conform_timeline *t, const json_t *v)
{
	if (!v && !m->op->absent_too)
		return false;
	return m->op->eval(m, t, v);
}

static void matcher_describe(const struct matcher *m, struct sbuf *b)
{
	m->op->describe(m, b);
}

/* ---- MATCH: attributes of an event ---------------------------------------------------------- */

void match_free(struct match *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->attr[i].path);
		matcher_free(m->attr[i].m);
	}
	free(m->attr);
	free(m->json);
	free(m);
}

int match_compile(struct match **mp, const json_t *j, const char *path, char *err, size_t errlen)
{
	struct match *m = NULL;
	const char *key;
	const json_t *v;
	int rc = 0;

	if (!json_is_object(j) || !json_object_size(j))
		return verr(err, errlen, path,
		            "a match is a non-empty object of attribute: matcher");
	m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->attr = calloc(json_object_size(j), sizeof(*m->attr));
	m->json = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!m->attr || !m->json) {
		rc = ENOMEM;
		goto out;
	}
	json_object_foreach((json_t *)j, key, v)
	{
		char sub[512];

		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		m->attr[m->n].path = strdup(key);
		if (!m->attr[m->n].path) {
			rc = ENOMEM;
			goto out;
		}
		rc = matcher_compile(&m->attr[m->n].m, v, sub, err, errlen, 0);
		m->n++;
		if (rc)
			goto out;
	}
	*mp = m;
	m = NULL;
out:
	match_free(m);
	return rc;
}

/* Follows a dotted path; through arrays any element may match. A key containing dots is
 * tried whole first (journals may name fields "a.b"). */
static bool match_path(const struct matcher *m, const struct conform_timeline *t,
                       const json_t *node, const char *path, int depth)
{
	const json_t *whole;
	const char *dot;
	char comp[128];
	size_t n, i;
	json_t *x;

	if (depth > RULE_MAX_DEPTH)
		return false;
	if (json_is_array(node)) {
		json_array_foreach(node, i, x)
		{
			if (match_path(m, t, x, path, depth + 1))
				return true;
		}
		return false;
	}
	if (!json_is_object(node))
		return matcher_eval(m, t, NULL);
	if ((whole = json_object_get(node, path)) != NULL)
		return matcher_eval(m, t, whole);
	dot = strchr(path, '.');
	if (!dot)
		return matcher_eval(m, t, NULL);
	n = (size_t)(dot - path);
	if (n >= sizeof(comp))
		return false;
	memcpy(comp, path, n);
	comp[n] = '\0';
	node = json_object_get(node, comp);
	if (!node)
		return matcher_eval(m, t, NULL);
	if (json_is_array(node)) {
		json_array_foreach(node, i, x)
		{
			if (match_path(m, t, x, dot + 1, depth + 1))
				return true;
		}
		return json_array_size(node) == 0 && matcher_eval(m, t, NULL);
	}
	return match_path(m, t, node, dot + 1, depth + 1);
}

bool match_event(const struct match *m, const struct conform_timeline *t, const json_t *ev)
{
	for (size_t i = 0; i < m->n; i++)
		if (!match_path(m->attr[i].m, t, ev, m->attr[i].path, 0))
			return false;
	return true;
}

static const struct match_attr *kind_attr(const struct match *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->attr[i].path, "kind"))
			return &m->attr[i];
	return NULL;
}

bool match_has_kind(const struct match *m)
{
	return kind_attr(m) != NULL;
}

bool match_kind_only(const struct match *m, const struct conform_timeline *t, const json_t *ev)
{
	const struct match_attr *k = kind_attr(m);

	return k && matcher_eval(k->m, t, json_object_get(ev, "kind"));
}

/* Attributes said as a preposition when they name hosts: "to sip.librestream.com". */
static const char *preposition(const struct match_attr *a)
{
	static const struct {
		const char *path, *word;
	} words[] = {{"src_ip", "from"},
	             {"src_host", "from"},
	             {"dst_ip", "to"},
	             {"dst_host", "to"},
	             {"at", "at"}};

	if (strcmp(a->m->op->name, "host") && strcmp(a->m->op->name, "eq"))
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (!strcmp(a->path, words[i].path))
			return words[i].word;
	return NULL;
}

void match_describe(const struct match *m, struct sbuf *b)
{
	const struct match_attr *k = kind_attr(m);
	size_t with = 0;

	if (k && !strcmp(k->m->op->name, "eq") && json_is_string(k->m->val)) {
		const char *s = json_string_value(k->m->val);

		sb_printf(b, "%s %s", strchr("aeiou", s[0]) && s[0] ? "an" : "a", s);
	} else if (k) {
		sb_printf(b, "an event of kind ");
		matcher_describe(k->m, b);
	} else {
		sb_printf(b, "an event");
	}
	for (size_t i = 0; i < m->n; i++) {
		if (&m->attr[i] == k || preposition(&m->attr[i]))
			continue;
		sb_printf(b, "%s%s ", with++ ? ", " : " with ", m->attr[i].path);
		matcher_describe(m->attr[i].m, b);
	}
	for (size_t i = 0; i < m->n; i++) {
		const char *w = preposition(&m->attr[i]);

		if (!w)
			continue;
		sb_printf(b, " %s ", w);
		matcher_describe(m->attr[i].m, b);
	}
}
