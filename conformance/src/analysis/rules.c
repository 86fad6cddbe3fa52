/* rules.c - declarative checks over the timeline (docs/scenarios.md): matchers, windows,
 * expect / forbid / order / all / any, and the expected-vs-observed texts of a verdict.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis_int.h"
#include "onsight/util.h"

#define MAX_EVIDENCE 8
#define MAX_RX 64
#define MAX_DEPTH 16

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

static bool parse_cidr(const char *cidr, int *af, unsigned char *net, int *bits)
{
	char tmp[64];
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
	char *end = NULL;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, cidr, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, net) == 1)
		*af = AF_INET;
	else if (inet_pton(AF_INET6, tmp, net) == 1)
		*af = AF_INET6;
	else
		return false;
	*bits = *af == AF_INET ? 32 : 128;
	if (slash) {
		long b = strtol(slash + 1, &end, 10);

		if (!slash[1] || *end || b < 0 || b > *bits)
			return false;
		*bits = (int)b;
	}
	return true;
}

bool cidr_match(const char *cidr, const char *value)
{
	unsigned char net[16], a[16];
	char addr[64];
	int af, bits;

	if (!parse_cidr(cidr, &af, net, &bits) || !addr_part(value, addr, sizeof(addr)))
		return false;
	if (inet_pton(af, addr, a) != 1)
		return false;
	for (int i = 0; i < bits / 8; i++)
		if (a[i] != net[i])
			return false;
	if (bits % 8) {
		unsigned char m = (unsigned char)(0xff << (8 - bits % 8));

		if ((a[bits / 8] & m) != (net[bits / 8] & m))
			return false;
	}
	return true;
}

/* ---- evaluation context ------------------------------------------------------------------ */

struct ectx {
	struct conform_timeline *t;
	struct {
		const json_t *key;
		regex_t re;
		bool ok;
	} rx[MAX_RX];
	size_t nrx;
};

static regex_t *rx_get(struct ectx *c, const json_t *pat)
{
	for (size_t i = 0; i < c->nrx; i++)
		if (c->rx[i].key == pat)
			return c->rx[i].ok ? &c->rx[i].re : NULL;
	if (c->nrx == MAX_RX)
		return NULL;
	c->rx[c->nrx].key = pat;
	/* Scenario loading has refused what regex_too_costly names (matcher_validate). */
	c->rx[c->nrx].ok =
	        regcomp(&c->rx[c->nrx].re, json_string_value(pat), REG_EXTENDED | REG_NOSUB) == 0;
	c->nrx++;
	return c->rx[c->nrx - 1].ok ? &c->rx[c->nrx - 1].re : NULL;
}

static void ectx_done(struct ectx *c)
{
	for (size_t i = 0; i < c->nrx; i++)
		if (c->rx[i].ok)
			regfree(&c->rx[i].re);
	c->nrx = 0;
}

/* ---- matchers ----------------------------------------------------------------------------- */

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

static bool range_of(const json_t *r, double *lo, double *hi)
{
	if (json_is_array(r) && json_array_size(r) == 2)
		return num_of(json_array_get(r, 0), lo) && num_of(json_array_get(r, 1), hi) &&
		        *lo <= *hi;
	if (json_is_string(r)) {
		char *end = NULL;
		const char *s = json_string_value(r);

		*lo = strtod(s, &end);
		if (end == s || *end != '-')
			return false;
		s = end + 1;
		*hi = strtod(s, &end);
		return end != s && *end == '\0' && *lo <= *hi;
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

static const char *str_of(const json_t *v, char *buf, size_t len)
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

/* Matches one value (NULL = attribute absent) against a matcher. */
static bool match_value(struct ectx *c, const json_t *v, const json_t *m, int depth)
{
	const char *key;
	const json_t *arg;
	char buf[64];
	const char *s;

	if (depth > MAX_DEPTH)
		return false;
	if (!json_is_object(m))
		return scalar_eq(v, m);
	if (json_object_size(m) != 1)
		return false;
	json_object_foreach((json_t *)m, key, arg)
	{
		break;
	}
	if (!strcmp(key, "exists"))
		return json_is_true(arg) ? v != NULL : v == NULL;
	if (!strcmp(key, "not"))
		return !match_value(c, v, arg, depth + 1);
	if (!strcmp(key, "any_of") || !strcmp(key, "all_of")) {
		bool any = key[1] == 'n';
		size_t i;
		json_t *x;

		json_array_foreach(arg, i, x)
		{
			bool r = match_value(c, v, x, depth + 1);

			if (any && r)
				return true;
			if (!any && !r)
				return false;
		}
		return !any;
	}
	if (!v)
		return false;
	if (!strcmp(key, "eq"))
		return scalar_eq(v, arg);
	if (!strcmp(key, "one_of")) {
		size_t i;
		json_t *x;

		json_array_foreach(arg, i, x)
		{
			if (scalar_eq(v, x))
				return true;
		}
		return false;
	}
	if (!strcmp(key, "range")) {
		double lo, hi, x;

		return range_of(arg, &lo, &hi) && num_of(v, &x) && x >= lo && x <= hi;
	}
	s = str_of(v, buf, sizeof(buf));
	if (!s)
		return false;
	if (!strcmp(key, "regex")) {
		regex_t *re = rx_get(c, arg);

		return re && regexec(re, s, 0, NULL, 0) == 0;
	}
	if (!strcmp(key, "glob"))
		return fnmatch(json_string_value(arg), s, 0) == 0;
	if (!strcmp(key, "contains"))
		return strstr(s, json_string_value(arg)) != NULL;
	if (!strcmp(key, "cidr") || !strcmp(key, "host")) {
		bool cidr = key[0] == 'c';

		if (json_is_string(arg))
			return cidr ? cidr_match(json_string_value(arg), s)
			            : hosts_match(c->t, json_string_value(arg), s);
		size_t i;
		json_t *x;

		json_array_foreach(arg, i, x)
		{
			if (cidr ? cidr_match(json_string_value(x), s)
			         : hosts_match(c->t, json_string_value(x), s))
				return true;
		}
		return false;
	}
	return false;
}

/* Follows a dotted path; through arrays any element may match. */
static bool match_path(struct ectx *c, const json_t *node, const char *path, const json_t *m,
                       int depth)
{
	const char *dot;
	char comp[128];
	size_t n;

	if (depth > MAX_DEPTH)
		return false;
	if (json_is_array(node)) {
		size_t i;
		json_t *x;

		json_array_foreach(node, i, x)
		{
			if (match_path(c, x, path, m, depth + 1))
				return true;
		}
		return false;
	}
	if (!json_is_object(node))
		return match_value(c, NULL, m, 0);
	{
		const json_t *whole = json_object_get(node, path);

		if (whole)
			return match_value(c, whole, m, 0);
	}
	dot = strchr(path, '.');
	if (!dot)
		return match_value(c, NULL, m, 0);
	n = (size_t)(dot - path);
	if (n >= sizeof(comp))
		return false;
	memcpy(comp, path, n);
	comp[n] = '\0';
	node = json_object_get(node, comp);
	if (!node)
		return match_value(c, NULL, m, 0);
	if (json_is_array(node)) {
		size_t i;
		json_t *x;

		json_array_foreach(node, i, x)
		{
			if (match_path(c, x, dot + 1, m, depth + 1))
				return true;
		}
		return match_value(c, NULL, m, 0) && json_array_size(node) == 0;
	}
	return match_path(c, node, dot + 1, m, depth + 1);
}

static bool match_event(struct ectx *c, const json_t *ev, const json_t *match)
{
	const char *key;
	const json_t *m;

	json_object_foreach((json_t *)match, key, m)
	{
		if (!match_path(c, ev, key, m, 0))
			return false;
	}
	return true;
}

/* ---- texts -------------------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len > 16384)
		return; /* texts stay readable */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t nc = (b->len + (size_t)n + 1) * 2;
		char *np = realloc(b->p, nc);

		if (!np)
			return;
		b->p = np;
		b->cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static char *sb_take(struct sbuf *b)
{
	char *p = b->p ? b->p : strdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static char *dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	return s ? s : strdup("?");
}

char *event_summary(const json_t *ev)
{
	static const char *const keys[] = {
	        "method", "status", "sni",       "uri",    "host", "port",    "result", "state",
	        "user",   "scheme", "via_proxy", "chosen", "path", "packets", "source", "client"};
	struct sbuf b = {0};
	char buf[64];
	const char *s;

	sb_printf(&b, "%s", json_string_value(json_object_get(ev, "kind")) ?: "?");
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		s = str_of(json_object_get(ev, keys[i]), buf, sizeof(buf));
		if (s)
			sb_printf(&b, " %s=%.80s", keys[i], s);
	}
	if (json_object_get(ev, "src_ip")) {
		sb_printf(&b, " %s:%" JSON_INTEGER_FORMAT " -> %s:%" JSON_INTEGER_FORMAT,
		          json_string_value(json_object_get(ev, "src_ip")) ?: "?",
		          json_integer_value(json_object_get(ev, "src_port")),
		          json_string_value(json_object_get(ev, "dst_ip")) ?: "?",
		          json_integer_value(json_object_get(ev, "dst_port")));
	}
	sb_printf(&b, " (%s)", json_string_value(json_object_get(ev, "src")) ?: "?");
	return sb_take(&b);
}

/* ---- windows ------------------------------------------------------------------------------ */

struct win {
	size_t lo, hi; /* [lo, hi) indexes of the sorted timeline */
	bool missing;
	char *why; /* when missing */
};

static void window_of(struct ectx *c, const json_t *w, struct win *out)
{
	struct conform_timeline *t = c->t;
	const json_t *after = json_object_get(w, "after");
	const json_t *before = json_object_get(w, "before");
	const json_t *within = json_object_get(w, "within_s");
	bool last = json_is_string(json_object_get(w, "occurrence")) &&
	        !strcmp(json_string_value(json_object_get(w, "occurrence")), "last");
	size_t start = 0;
	bool have_start = false;

	out->lo = 0;
	out->hi = t->n;
	out->missing = false;
	out->why = NULL;
	if (!w)
		return;
	if (after) {
		for (size_t i = 0; i < t->n; i++) {
			if (match_event(c, t->ev[i].ev, after)) {
				start = i;
				have_start = true;
				if (!last)
					break;
			}
		}
		if (!have_start) {
			char *d = dump(after);
			struct sbuf b = {0};

			sb_printf(&b, "window anchor never happened: after %s", d);
			free(d);
			out->missing = true;
			out->why = sb_take(&b);
			return;
		}
		out->lo = start;
	}
	if (within && have_start) {
		double end = t->ev[start].t + json_number_value(within);
		size_t i = start;

		while (i < t->n && t->ev[i].t <= end)
			i++;
		out->hi = i;
	}
	if (before) {
		size_t i = have_start ? start + 1 : 0;

		for (; i < out->hi; i++) {
			if (match_event(c, t->ev[i].ev, before)) {
				out->hi = i + 1;
				return;
			}
		}
		if (!within) {
			char *d = dump(before);
			struct sbuf b = {0};

			sb_printf(&b, "window end anchor never happened: before %s", d);
			free(d);
			out->missing = true;
			out->why = sb_take(&b);
		}
	}
}

static void window_text(struct sbuf *b, const json_t *w)
{
	char *d;

	if (!w)
		return;
	d = dump(w);
	sb_printf(b, " in window %s", d);
	free(d);
}

static enum conform_verdict if_missing(const json_t *rule)
{
	const char *s = json_string_value(json_object_get(rule, "if_missing"));

	if (!s || !strcmp(s, "fail"))
		return CONFORM_FAIL;
	if (!strcmp(s, "pass"))
		return CONFORM_PASS;
	if (!strcmp(s, "n/a"))
		return CONFORM_NA;
	return CONFORM_ERROR;
}

/* ---- rules -------------------------------------------------------------------------------- */

static void add_ev(struct rule_out *o, size_t idx)
{
	for (size_t i = 0; i < o->n_ev; i++)
		if (o->ev_idx[i] == idx)
			return;
	if (o->n_ev < MAX_EVIDENCE)
		o->ev_idx[o->n_ev++] = idx;
}

static void eval(struct ectx *c, const json_t *rule, struct rule_out *o, int depth);

static void eval_count(struct ectx *c, const json_t *rule, struct rule_out *o, bool forbid)
{
	const json_t *match = json_object_get(rule, forbid ? "forbid" : "expect");
	const json_t *w = json_object_get(rule, "window");
	const json_t *ex = json_object_get(rule, "exactly");
	const json_t *al = json_object_get(rule, "at_least");
	const json_t *am = json_object_get(rule, "at_most");
	long long min = 1, max = -1, n = 0;
	struct sbuf e = {0}, ob = {0};
	struct win win;
	char *d = dump(match);

	if (forbid) {
		min = 0;
		max = 0;
	} else if (ex) {
		min = max = json_integer_value(ex);
	} else {
		if (am) {
			max = json_integer_value(am);
			min = 0;
		}
		if (al)
			min = json_integer_value(al);
	}
	if (forbid)
		sb_printf(&e, "no event matching %s", d);
	else if (min == max)
		sb_printf(&e, "exactly %lld event(s) matching %s", min, d);
	else if (max < 0)
		sb_printf(&e, "at least %lld event(s) matching %s", min, d);
	else
		sb_printf(&e, "%lld..%lld event(s) matching %s", min, max, d);
	window_text(&e, w);
	free(d);
	window_of(c, w, &win);
	if (win.missing) {
		o->verdict = if_missing(rule);
		sb_printf(&ob, "%s", win.why);
		free(win.why);
		goto out;
	}
	for (size_t i = win.lo; i < win.hi; i++) {
		if (match_event(c, c->t->ev[i].ev, match)) {
			n++;
			add_ev(o, i);
		}
	}
	o->verdict = (n >= min && (max < 0 || n <= max)) ? CONFORM_PASS : CONFORM_FAIL;
	sb_printf(&ob, "%lld matching event(s)", n);
	if (n == 0 && o->verdict == CONFORM_FAIL) {
		/* Point at what did happen: events of the same kind, other attributes. */
		const json_t *k = json_object_get(match, "kind");
		size_t same = 0;

		for (size_t i = win.lo; k && i < win.hi; i++) {
			if (match_value(c, json_object_get(c->t->ev[i].ev, "kind"), k, 0)) {
				same++;
				add_ev(o, i);
			}
		}
		if (same)
			sb_printf(&ob, "; %zu event(s) of that kind with other attributes (listed)",
			          same);
		else if (k)
			sb_printf(&ob, "; no event of that kind at all");
	}
out:
	o->expected = sb_take(&e);
	o->observed = sb_take(&ob);
}

static void eval_order(struct ectx *c, const json_t *rule, struct rule_out *o)
{
	const json_t *list = json_object_get(rule, "order");
	const json_t *w = json_object_get(rule, "window");
	struct sbuf e = {0}, ob = {0};
	struct win win;
	size_t i, prev = 0;
	bool have_prev = false;
	json_t *m;

	sb_printf(&e, "in this order:");
	json_array_foreach(list, i, m)
	{
		char *d = dump(m);

		sb_printf(&e, "%s %s", i ? " then" : "", d);
		free(d);
	}
	window_text(&e, w);
	window_of(c, w, &win);
	if (win.missing) {
		o->verdict = if_missing(rule);
		sb_printf(&ob, "%s", win.why);
		free(win.why);
		goto out;
	}
	o->verdict = CONFORM_PASS;
	json_array_foreach(list, i, m)
	{
		size_t k, found = SIZE_MAX;

		for (k = win.lo; k < win.hi; k++) {
			if (match_event(c, c->t->ev[k].ev, m)) {
				found = k;
				break;
			}
		}
		if (found == SIZE_MAX) {
			char *d = dump(m);

			sb_printf(&ob, "%sstep %zu never happened: %s", ob.len ? "; " : "", i + 1,
			          d);
			free(d);
			if (o->verdict == CONFORM_PASS)
				o->verdict = if_missing(rule);
			continue;
		}
		add_ev(o, found);
		/* Seconds since the timeline's first event, as the ladder and steps show them. */
		sb_printf(&ob, "%sstep %zu first at +%.3f s", ob.len ? "; " : "", i + 1,
		          c->t->ev[found].t - c->t->ev[0].t);
		if (have_prev && found < prev) {
			o->verdict = CONFORM_FAIL;
			sb_printf(&ob, " (before step %zu: wrong order)", i);
		}
		prev = found;
		have_prev = true;
	}
out:
	o->expected = sb_take(&e);
	o->observed = sb_take(&ob);
}

static int vrank(enum conform_verdict v)
{
	return v == CONFORM_FAIL ? 3 : v == CONFORM_ERROR ? 2 : v == CONFORM_PASS ? 1 : 0;
}

static void eval_group(struct ectx *c, const json_t *rule, struct rule_out *o, bool all, int depth)
{
	const json_t *list = json_object_get(rule, all ? "all" : "any");
	struct sbuf e = {0}, ob = {0};
	size_t i;
	json_t *sub;
	bool any_pass = false, any_applicable = false;
	enum conform_verdict worst = CONFORM_NA;

	json_array_foreach(list, i, sub)
	{
		struct rule_out so = {0};

		eval(c, sub, &so, depth + 1);
		sb_printf(&e, "%s(%zu) %s", i ? (all ? " AND " : " OR ") : "", i + 1, so.expected);
		if (so.verdict != CONFORM_PASS || !all)
			sb_printf(&ob, "%s(%zu) %s: %s", ob.len ? "; " : "", i + 1,
			          conform_verdict_name(so.verdict), so.observed);
		if (so.verdict == CONFORM_PASS)
			any_pass = true;
		if (so.verdict != CONFORM_NA)
			any_applicable = true;
		if (vrank(so.verdict) > vrank(worst))
			worst = so.verdict;
		/* Evidence: what failed in an all, what was seen in an any. */
		if (all ? so.verdict != CONFORM_PASS : true)
			for (size_t k = 0; k < so.n_ev; k++)
				add_ev(o, so.ev_idx[k]);
		free(so.expected);
		free(so.observed);
		free(so.reason);
	}
	if (all) {
		o->verdict = worst;
		if (worst == CONFORM_PASS && !ob.len)
			sb_printf(&ob, "all %zu parts hold", json_array_size(list));
	} else {
		o->verdict = any_pass ? CONFORM_PASS : any_applicable ? CONFORM_FAIL : CONFORM_NA;
	}
	o->expected = sb_take(&e);
	o->observed = sb_take(&ob);
}

static void eval(struct ectx *c, const json_t *rule, struct rule_out *o, int depth)
{
	memset(o, 0, sizeof(*o));
	if (depth > MAX_DEPTH) {
		o->verdict = CONFORM_ERROR;
		o->expected = strdup("rule");
		o->observed = strdup("rule nested too deeply");
		return;
	}
	if (json_object_get(rule, "expect"))
		eval_count(c, rule, o, false);
	else if (json_object_get(rule, "forbid"))
		eval_count(c, rule, o, true);
	else if (json_object_get(rule, "order"))
		eval_order(c, rule, o);
	else if (json_object_get(rule, "all"))
		eval_group(c, rule, o, true, depth);
	else if (json_object_get(rule, "any"))
		eval_group(c, rule, o, false, depth);
	else {
		o->verdict = CONFORM_ERROR;
		o->expected = strdup("a rule");
		o->observed = strdup("rule has no expect/forbid/order/all/any");
	}
}

void rule_eval(struct conform_timeline *t, const json_t *rule, struct rule_out *out)
{
	struct ectx c;

	memset(&c, 0, sizeof(c));
	c.t = t;
	conform_timeline_finish(t);
	eval(&c, rule, out, 0);
	ectx_done(&c);
}

/* ---- validation (at load time, so a typo is an error with its place, not a silent pass) -- */

static int verr(char *err, size_t errlen, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int verr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return EINVAL;
}

static int matcher_validate(const json_t *m, const char *path, char *err, size_t errlen, int depth)
{
	const char *key;
	const json_t *arg = NULL;
	char sub[512];

	if (depth > MAX_DEPTH)
		return verr(err, errlen, path, "matcher nested too deeply");
	if (!json_is_object(m)) {
		if (json_is_array(m))
			return verr(err, errlen, path,
			            "a list is not a matcher (use {\"one_of\": [...]})");
		return 0;
	}
	if (json_object_size(m) != 1)
		return verr(err, errlen, path, "a matcher object has exactly one key");
	json_object_foreach((json_t *)m, key, arg)
	{
		break;
	}
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!strcmp(key, "eq"))
		return json_is_object(arg) || json_is_array(arg)
		        ? verr(err, errlen, sub, "eq takes a string, number, bool or null")
		        : 0;
	if (!strcmp(key, "one_of")) {
		size_t i;
		json_t *x;

		if (!json_is_array(arg) || !json_array_size(arg))
			return verr(err, errlen, sub, "one_of takes a non-empty list");
		json_array_foreach(arg, i, x)
		{
			if (json_is_object(x) || json_is_array(x))
				return verr(err, errlen, sub, "one_of takes plain values");
		}
		return 0;
	}
	if (!strcmp(key, "regex")) {
		const char *why;
		regex_t re;
		int rc;

		if (!json_is_string(arg))
			return verr(err, errlen, sub, "regex takes a string");
		if ((why = regex_too_costly(json_string_value(arg))) != NULL)
			return verr(err, errlen, sub, "regular expression %s", why);
		rc = regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[128];

			regerror(rc, &re, msg, sizeof(msg));
			return verr(err, errlen, sub, "bad regular expression: %s", msg);
		}
		regfree(&re);
		return 0;
	}
	if (!strcmp(key, "glob") || !strcmp(key, "contains"))
		return json_is_string(arg) ? 0 : verr(err, errlen, sub, "takes a string");
	if (!strcmp(key, "cidr") || !strcmp(key, "host")) {
		size_t i;
		json_t *x;
		json_t *one =
		        json_is_string(arg) ? json_pack("[O]", arg) : json_incref((json_t *)arg);
		int rc = 0;

		if (!json_is_array(one) || !json_array_size(one))
			rc = verr(err, errlen, sub,
			          "takes a string or a non-empty list of strings");
		json_array_foreach(one, i, x)
		{
			unsigned char net[16];
			int af, bits;

			if (rc)
				break;
			if (!json_is_string(x))
				rc = verr(err, errlen, sub, "takes strings");
			else if (key[0] == 'c' &&
			         !parse_cidr(json_string_value(x), &af, net, &bits))
				rc = verr(err, errlen, sub,
				          "\"%s\" is not an address or CIDR prefix",
				          json_string_value(x));
		}
		json_decref(one);
		return rc;
	}
	if (!strcmp(key, "range")) {
		double lo, hi;

		return range_of(arg, &lo, &hi)
		        ? 0
		        : verr(err, errlen, sub, "range takes [low, high] or \"low-high\"");
	}
	if (!strcmp(key, "exists"))
		return json_is_boolean(arg) ? 0
		                            : verr(err, errlen, sub, "exists takes true or false");
	if (!strcmp(key, "not"))
		return matcher_validate(arg, sub, err, errlen, depth + 1);
	if (!strcmp(key, "any_of") || !strcmp(key, "all_of")) {
		size_t i;
		json_t *x;

		if (!json_is_array(arg) || !json_array_size(arg))
			return verr(err, errlen, sub, "takes a non-empty list of matchers");
		json_array_foreach(arg, i, x)
		{
			char p2[600];
			int rc;

			snprintf(p2, sizeof(p2), "%s[%zu]", sub, i);
			rc = matcher_validate(x, p2, err, errlen, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	return verr(err, errlen, path,
	            "unknown matcher \"%s\" (eq, one_of, regex, glob, contains, cidr, host, range, "
	            "exists, not, any_of, all_of)",
	            key);
}

static int match_validate(const json_t *m, const char *path, char *err, size_t errlen)
{
	const char *key;
	const json_t *v;

	if (!json_is_object(m) || !json_object_size(m))
		return verr(err, errlen, path,
		            "a match is a non-empty object of attribute: matcher");
	json_object_foreach((json_t *)m, key, v)
	{
		char sub[512];
		int rc;

		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		rc = matcher_validate(v, sub, err, errlen, 0);
		if (rc)
			return rc;
	}
	return 0;
}

static int window_validate(const json_t *w, const char *path, char *err, size_t errlen)
{
	const char *key;
	const json_t *v;

	if (!json_is_object(w))
		return verr(err, errlen, path, "window is an object");
	json_object_foreach((json_t *)w, key, v)
	{
		char sub[512];
		int rc = 0;

		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (!strcmp(key, "after") || !strcmp(key, "before"))
			rc = match_validate(v, sub, err, errlen);
		else if (!strcmp(key, "within_s"))
			rc = json_is_number(v) && json_number_value(v) >= 0
			        ? 0
			        : verr(err, errlen, sub, "within_s is a number >= 0");
		else if (!strcmp(key, "occurrence"))
			rc = json_is_string(v) &&
			                (!strcmp(json_string_value(v), "first") ||
			                 !strcmp(json_string_value(v), "last"))
			        ? 0
			        : verr(err, errlen, sub, "occurrence is \"first\" or \"last\"");
		else
			rc = verr(err, errlen, sub,
			          "unknown window key (after, before, within_s, occurrence)");
		if (rc)
			return rc;
	}
	if (json_object_get(w, "within_s") && !json_object_get(w, "after"))
		return verr(err, errlen, path, "within_s needs an \"after\" anchor");
	if (!json_object_get(w, "after") && !json_object_get(w, "before"))
		return verr(err, errlen, path, "a window needs \"after\" or \"before\"");
	return 0;
}

static int rule_validate_d(const json_t *rule, const char *path, char *err, size_t errlen,
                           int depth)
{
	static const char *const kinds[] = {"expect", "forbid", "order", "all", "any"};
	const char *key, *kind = NULL;
	const json_t *v;
	char sub[512];
	int rc;

	if (depth > MAX_DEPTH)
		return verr(err, errlen, path, "rules nested too deeply");
	if (!json_is_object(rule))
		return verr(err, errlen, path, "a rule is an object");
	json_object_foreach((json_t *)rule, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
			if (!strcmp(key, kinds[i])) {
				if (kind)
					return verr(err, errlen, path,
					            "rule has both \"%s\" and \"%s\"", kind, key);
				kind = kinds[i];
				known = true;
			}
		}
		if (known)
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (!strcmp(key, "window") || !strcmp(key, "if_missing") ||
		    !strcmp(key, "at_least") || !strcmp(key, "at_most") || !strcmp(key, "exactly"))
			continue;
		return verr(
		        err, errlen, sub,
		        "unknown rule key (expect, forbid, order, all, any, window, if_missing, "
		        "at_least, at_most, exactly)");
	}
	if (!kind)
		return verr(err, errlen, path, "rule needs one of expect, forbid, order, all, any");
	snprintf(sub, sizeof(sub), "%s.%s", path, kind);
	v = json_object_get(rule, kind);
	if (!strcmp(kind, "expect") || !strcmp(kind, "forbid")) {
		rc = match_validate(v, sub, err, errlen);
		if (rc)
			return rc;
	} else {
		size_t i;
		json_t *x;
		bool order = !strcmp(kind, "order");

		if (!json_is_array(v) || json_array_size(v) < (order ? 2u : 1u))
			return verr(err, errlen, sub, "takes a list of %s",
			            order ? "2 or more matches" : "rules");
		json_array_foreach(v, i, x)
		{
			char p2[600];

			snprintf(p2, sizeof(p2), "%s[%zu]", sub, i);
			rc = order ? match_validate(x, p2, err, errlen)
			           : rule_validate_d(x, p2, err, errlen, depth + 1);
			if (rc)
				return rc;
		}
	}
	if ((v = json_object_get(rule, "window"))) {
		if (!strcmp(kind, "all") || !strcmp(kind, "any"))
			return verr(err, errlen, path, "put the window on the parts of all/any");
		snprintf(sub, sizeof(sub), "%s.window", path);
		rc = window_validate(v, sub, err, errlen);
		if (rc)
			return rc;
	}
	if ((v = json_object_get(rule, "if_missing"))) {
		const char *s = json_string_value(v);

		if (!s ||
		    (strcmp(s, "fail") && strcmp(s, "pass") && strcmp(s, "n/a") &&
		     strcmp(s, "error")))
			return verr(err, errlen, path, "if_missing is fail, pass, n/a or error");
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const cnt[] = {"at_least", "at_most", "exactly"};

		v = json_object_get(rule, cnt[i]);
		if (!v)
			continue;
		if (strcmp(kind, "expect"))
			return verr(err, errlen, path, "%s belongs to expect rules", cnt[i]);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000000)
			return verr(err, errlen, path, "%s is a whole number >= 0", cnt[i]);
	}
	if (json_object_get(rule, "exactly") &&
	    (json_object_get(rule, "at_least") || json_object_get(rule, "at_most")))
		return verr(err, errlen, path, "exactly excludes at_least/at_most");
	return 0;
}

int rule_validate(const json_t *rule, const char *path, char *err, size_t errlen)
{
	return rule_validate_d(rule, path, err, errlen, 0);
}
