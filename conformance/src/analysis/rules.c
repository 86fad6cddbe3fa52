/* rules.c - declarative checks over the timeline (docs/scenarios.md): expect / forbid / order /
 * all / any compiled once into typed nodes, windows, the witness that makes an absence mean
 * something, and the texts of a verdict (expected, observed, reason, needs).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_int.h"

#define MAX_EVIDENCE 8

/* ---- texts -------------------------------------------------------------------------------- */

void sb_printf(struct sbuf *b, const char *fmt, ...)
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

char *sb_take(struct sbuf *b)
{
	char *p = b->p ? b->p : strdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

int verr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return EINVAL;
}

static void summary_addr(struct sbuf *b, const json_t *ev, const char *ip, const char *port,
                         const char *host)
{
	const char *h = json_string_value(json_object_get(ev, host));

	sb_printf(b, "%s:%" JSON_INTEGER_FORMAT, json_string_value(json_object_get(ev, ip)) ?: "?",
	          json_integer_value(json_object_get(ev, port)));
	if (h)
		sb_printf(b, " (%.80s)", h);
}

char *event_summary(const json_t *ev)
{
	static const char *const keys[] = {"method", "status",    "sni",    "uri",  "host",
	                                   "port",   "result",    "state",  "user", "scheme",
	                                   "at",     "via_proxy", "chosen", "path", "packets",
	                                   "source", "client"};
	struct sbuf b = {0};
	char buf[64];
	const char *s;

	sb_printf(&b, "%s", json_string_value(json_object_get(ev, "kind")) ?: "?");
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		s = rule_str_of(json_object_get(ev, keys[i]), buf, sizeof(buf));
		if (s)
			sb_printf(&b, " %s=%.80s", keys[i], s);
	}
	if (json_object_get(ev, "src_ip")) {
		sb_printf(&b, " ");
		summary_addr(&b, ev, "src_ip", "src_port", "src_host");
		sb_printf(&b, " -> ");
		summary_addr(&b, ev, "dst_ip", "dst_port", "dst_host");
	}
	sb_printf(&b, " (%s)", json_string_value(json_object_get(ev, "src")) ?: "?");
	return sb_take(&b);
}

/* ---- the compiled rule -------------------------------------------------------------------- */

struct window {
	struct match *after, *before;
	double within_s;
	bool has_within, last;
	char *json; /* as written, for expected texts */
};

struct rule_op;
struct ectx;

struct rule {
	const struct rule_op *op;
	struct match *match; /* expect, forbid */
	struct match **seq; /* order */
	struct rule **sub; /* all, any */
	size_t n; /* seq or sub entries */
	struct window *win;
	enum conform_verdict if_missing;
	char *because; /* why absence is the expected outcome (if_missing pass / n/a) */
	long long min, max; /* expect / forbid counts; max < 0: no upper bound */
};

struct rule_op {
	const char *name;
	int (*compile)(struct rule *r, const json_t *rule, const char *path, char *err,
	               size_t errlen, int depth);
	void (*eval)(struct ectx *c, const struct rule *r, struct rule_out *o);
	void (*needs)(const struct rule *r, const struct match *witness, struct sbuf *b);
};

struct ectx {
	struct conform_timeline *t;
	const struct match *witness;
	int witnessed; /* -1 not looked yet, 0 no witness event, 1 one exists */
};

static void window_free(struct window *w)
{
	if (!w)
		return;
	match_free(w->after);
	match_free(w->before);
	free(w->json);
	free(w);
}

void rule_free(struct rule *r)
{
	if (!r)
		return;
	match_free(r->match);
	for (size_t i = 0; r->seq && i < r->n; i++)
		match_free(r->seq[i]);
	free(r->seq);
	for (size_t i = 0; r->sub && i < r->n; i++)
		rule_free(r->sub[i]);
	free(r->sub);
	window_free(r->win);
	free(r->because);
	free(r);
}

/* A forbid, or an expect allowing zero events, proves something only if the endpoint did
 * something at all: such rules are judged only when a witness event exists. */
static bool wants_witness(const struct rule *r)
{
	return r->match && r->max == 0;
}

/* ---- windows ------------------------------------------------------------------------------ */

struct win {
	size_t lo, hi; /* [lo, hi) indexes of the sorted timeline */
	const struct match *missing; /* the anchor that never happened, or NULL */
	bool missing_end;
};

static void window_of(struct ectx *c, const struct window *w, struct win *out)
{
	struct conform_timeline *t = c->t;
	size_t start = 0;
	bool have_start = false;

	out->lo = 0;
	out->hi = t->n;
	out->missing = NULL;
	out->missing_end = false;
	if (!w)
		return;
	if (w->after) {
		for (size_t i = 0; i < t->n; i++) {
			if (match_event(w->after, t, t->ev[i].ev)) {
				start = i;
				have_start = true;
				if (!w->last)
					break;
			}
		}
		if (!have_start) {
			out->missing = w->after;
			return;
		}
		out->lo = start;
	}
	if (w->has_within && have_start) {
		double end = t->ev[start].t + w->within_s;
		size_t i = start;

		while (i < t->n && t->ev[i].t <= end)
			i++;
		out->hi = i;
	}
	if (w->before) {
		for (size_t i = have_start ? start + 1 : 0; i < out->hi; i++) {
			if (match_event(w->before, t, t->ev[i].ev)) {
				out->hi = i + 1;
				return;
			}
		}
		if (!w->has_within) {
			out->missing = w->before;
			out->missing_end = true;
		}
	}
}

static void window_text(struct sbuf *b, const struct window *w)
{
	if (w)
		sb_printf(b, " in window %s", w->json);
}

/* The verdict when a window anchor (or an order step) never happened; the reason says why
 * that is, or why it cannot count as evidence. */
static void missing_verdict(const struct rule *r, const struct win *win, struct rule_out *o)
{
	struct sbuf b = {0};

	o->verdict = r->if_missing;
	if (r->because) {
		o->reason = strdup(r->because);
	} else if (win && o->verdict == CONFORM_FAIL) {
		sb_printf(&b, "no evidence: the window's anchor %s ",
		          win->missing_end ? "before" : "after");
		match_describe(win->missing, &b);
		sb_printf(&b, " never happened");
		o->reason = sb_take(&b);
	}
}

static void window_observed(const struct win *win, struct sbuf *ob)
{
	sb_printf(ob, "%s %s",
	          win->missing_end ? "window end anchor never happened: before"
	                           : "window anchor never happened: after",
	          win->missing->json);
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

static bool witnessed(struct ectx *c)
{
	if (c->witnessed < 0) {
		c->witnessed = 0;
		for (size_t i = 0; i < c->t->n && !c->witnessed; i++)
			c->witnessed = match_event(c->witness, c->t, c->t->ev[i].ev);
	}
	return c->witnessed;
}

static void no_witness(struct ectx *c, const struct rule *r, struct rule_out *o, struct sbuf *ob)
{
	struct sbuf b = {0};

	o->verdict = CONFORM_FAIL;
	o->unwitnessed = true;
	sb_printf(ob, "no witness event (%s) in the timeline", c->witness->json);
	sb_printf(&b, "no evidence: ");
	match_describe(c->witness, &b);
	sb_printf(&b, " never happened, so the absence of ");
	match_describe(r->match, &b);
	sb_printf(&b, " proves nothing");
	o->reason = sb_take(&b);
}

static void eval_count(struct ectx *c, const struct rule *r, struct rule_out *o)
{
	struct sbuf e = {0}, ob = {0};
	long long n = 0;
	struct win win;

	if (r->min == 0 && r->max == 0 && !strcmp(r->op->name, "forbid"))
		sb_printf(&e, "no event matching %s", r->match->json);
	else if (r->min == r->max)
		sb_printf(&e, "exactly %lld event(s) matching %s", r->min, r->match->json);
	else if (r->max < 0)
		sb_printf(&e, "at least %lld event(s) matching %s", r->min, r->match->json);
	else
		sb_printf(&e, "%lld..%lld event(s) matching %s", r->min, r->max, r->match->json);
	window_text(&e, r->win);
	window_of(c, r->win, &win);
	if (win.missing) {
		if (wants_witness(r) && !witnessed(c)) {
			no_witness(c, r, o, &ob);
			goto out;
		}
		window_observed(&win, &ob);
		missing_verdict(r, &win, o);
		goto out;
	}
	for (size_t i = win.lo; i < win.hi; i++) {
		if (match_event(r->match, c->t, c->t->ev[i].ev)) {
			n++;
			add_ev(o, i);
		}
	}
	o->verdict = (n >= r->min && (r->max < 0 || n <= r->max)) ? CONFORM_PASS : CONFORM_FAIL;
	/* A forbidden event seen is evidence whatever else happened; its absence proves
	 * something only once the witness shows the endpoint got that far. */
	if (o->verdict == CONFORM_PASS && wants_witness(r) && !witnessed(c)) {
		no_witness(c, r, o, &ob);
		goto out;
	}
	sb_printf(&ob, "%lld matching event(s)", n);
	if (n == 0 && o->verdict == CONFORM_FAIL) {
		/* Point at what did happen: events of the same kind, other attributes. */
		size_t same = 0;

		for (size_t i = win.lo; match_has_kind(r->match) && i < win.hi; i++) {
			if (match_kind_only(r->match, c->t, c->t->ev[i].ev)) {
				same++;
				add_ev(o, i);
			}
		}
		if (same)
			sb_printf(&ob, "; %zu event(s) of that kind with other attributes (listed)",
			          same);
		else if (match_has_kind(r->match))
			sb_printf(&ob, "; no event of that kind at all");
	}
out:
	o->expected = sb_take(&e);
	o->observed = sb_take(&ob);
}

static void eval_order(struct ectx *c, const struct rule *r, struct rule_out *o)
{
	struct sbuf e = {0}, ob = {0};
	struct win win;
	size_t prev = 0;
	bool have_prev = false, missing = false;

	sb_printf(&e, "in this order:");
	for (size_t i = 0; i < r->n; i++)
		sb_printf(&e, "%s %s", i ? " then" : "", r->seq[i]->json);
	window_text(&e, r->win);
	window_of(c, r->win, &win);
	if (win.missing) {
		window_observed(&win, &ob);
		missing_verdict(r, &win, o);
		goto out;
	}
	o->verdict = CONFORM_PASS;
	for (size_t i = 0; i < r->n; i++) {
		size_t k, found = SIZE_MAX;

		for (k = win.lo; k < win.hi; k++) {
			if (match_event(r->seq[i], c->t, c->t->ev[k].ev)) {
				found = k;
				break;
			}
		}
		if (found == SIZE_MAX) {
			sb_printf(&ob, "%sstep %zu never happened: %s", ob.len ? "; " : "", i + 1,
			          r->seq[i]->json);
			missing = true;
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
	if (missing && o->verdict == CONFORM_PASS)
		missing_verdict(r, NULL, o);
out:
	o->expected = sb_take(&e);
	o->observed = sb_take(&ob);
}

static int vrank(enum conform_verdict v)
{
	return v == CONFORM_FAIL ? 3 : v == CONFORM_ERROR ? 2 : v == CONFORM_PASS ? 1 : 0;
}

static void eval(struct ectx *c, const struct rule *r, struct rule_out *o);

static void eval_group(struct ectx *c, const struct rule *r, struct rule_out *o)
{
	bool all = !strcmp(r->op->name, "all");
	struct sbuf e = {0}, ob = {0};
	bool any_pass = false, any_applicable = false;
	enum conform_verdict worst = CONFORM_NA;
	struct rule_out *so = calloc(r->n, sizeof(*so));

	if (!so) {
		o->verdict = CONFORM_ERROR;
		o->expected = strdup("a rule");
		o->observed = strdup("out of memory");
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		eval(c, r->sub[i], &so[i]);
		sb_printf(&e, "%s(%zu) %s", i ? (all ? " AND " : " OR ") : "", i + 1,
		          so[i].expected);
		if (so[i].verdict != CONFORM_PASS || !all)
			sb_printf(&ob, "%s(%zu) %s: %s", ob.len ? "; " : "", i + 1,
			          conform_verdict_name(so[i].verdict), so[i].observed);
		if (so[i].verdict == CONFORM_PASS)
			any_pass = true;
		if (so[i].verdict != CONFORM_NA)
			any_applicable = true;
		if (vrank(so[i].verdict) > vrank(worst))
			worst = so[i].verdict;
		/* Evidence: what failed in an all, what was seen in an any. */
		if (all ? so[i].verdict != CONFORM_PASS : true)
			for (size_t k = 0; k < so[i].n_ev; k++)
				add_ev(o, so[i].ev_idx[k]);
	}
	if (all) {
		o->verdict = worst;
		if (worst == CONFORM_PASS && !ob.len)
			sb_printf(&ob, "all %zu parts hold", r->n);
	} else {
		o->verdict = any_pass ? CONFORM_PASS : any_applicable ? CONFORM_FAIL : CONFORM_NA;
	}
	/* A failed group is unwitnessed when every part that failed is: one part that saw the
	 * behaviour fail is evidence enough. */
	if (o->verdict == CONFORM_FAIL) {
		o->unwitnessed = true;
		for (size_t i = 0; i < r->n; i++)
			if (so[i].verdict == CONFORM_FAIL && !so[i].unwitnessed)
				o->unwitnessed = false;
	}
	/* The reason of the first part whose verdict became the group's (a "because" that
	 * applied, or a failure for want of evidence) is the group's. */
	for (size_t i = 0; i < r->n && !o->reason; i++)
		if (so[i].reason && so[i].verdict == o->verdict)
			o->reason = strdup(so[i].reason);
	for (size_t i = 0; i < r->n; i++) {
		free(so[i].expected);
		free(so[i].observed);
		free(so[i].reason);
	}
	free(so);
	o->expected = sb_take(&e);
	o->observed = sb_take(&ob);
}

static void eval(struct ectx *c, const struct rule *r, struct rule_out *o)
{
	memset(o, 0, sizeof(*o));
	r->op->eval(c, r, o);
}

void rule_eval(struct conform_timeline *t, const struct rule *r, const struct match *witness,
               struct rule_out *out)
{
	struct ectx c = {.t = t, .witness = witness, .witnessed = -1};

	conform_timeline_finish(t);
	eval(&c, r, out);
}

/* ---- needs: what evidence a check needs, in words ----------------------------------------- */

static void window_needs(const struct window *w, struct sbuf *b)
{
	if (!w)
		return;
	if (w->has_within)
		sb_printf(b, " within %g s", w->within_s);
	if (w->after) {
		sb_printf(b, " after %s", w->last ? "the last of " : "");
		match_describe(w->after, b);
	}
	if (w->before) {
		sb_printf(b, "%s before ", w->after ? " and" : "");
		match_describe(w->before, b);
	}
}

static void needs_count(const struct rule *r, const struct match *witness, struct sbuf *b)
{
	if (wants_witness(r)) {
		sb_printf(b, "a witness (");
		match_describe(witness, b);
		sb_printf(b, ") and then no event like ");
	} else if (r->min == r->max) {
		sb_printf(b, "exactly %lld of ", r->min);
	} else if (r->max >= 0) {
		sb_printf(b, "%lld to %lld of ", r->min, r->max);
	} else if (r->min != 1) {
		sb_printf(b, "at least %lld of ", r->min);
	}
	match_describe(r->match, b);
	window_needs(r->win, b);
}

static void needs_order(const struct rule *r, const struct match *witness, struct sbuf *b)
{
	(void)witness;
	for (size_t i = 0; i < r->n; i++) {
		sb_printf(b, "%s", i ? "; then " : "");
		match_describe(r->seq[i], b);
	}
	window_needs(r->win, b);
}

static void needs(const struct rule *r, const struct match *witness, struct sbuf *b);

static void needs_group(const struct rule *r, const struct match *witness, struct sbuf *b)
{
	bool all = !strcmp(r->op->name, "all");

	if (!all && r->n > 1)
		sb_printf(b, "either ");
	for (size_t i = 0; i < r->n; i++) {
		sb_printf(b, "%s", i == 0 ? "" : all ? "; and " : "; or ");
		if (r->n > 1)
			sb_printf(b, "(");
		needs(r->sub[i], witness, b);
		if (r->n > 1)
			sb_printf(b, ")");
	}
}

static void needs(const struct rule *r, const struct match *witness, struct sbuf *b)
{
	r->op->needs(r, witness, b);
}

char *rule_needs(const struct rule *r, const struct match *witness)
{
	struct sbuf b = {0};

	needs(r, witness, &b);
	return sb_take(&b);
}

/* ---- compiling (at load time, so a typo is an error with its place, not a silent pass) ---- */

static int window_compile(struct window **wp, const json_t *w, const char *path, char *err,
                          size_t errlen)
{
	struct window *win = NULL;
	const char *key;
	const json_t *v;
	int rc = 0;

	if (!json_is_object(w))
		return verr(err, errlen, path, "window is an object");
	win = calloc(1, sizeof(*win));
	if (!win)
		return ENOMEM;
	json_object_foreach((json_t *)w, key, v)
	{
		char sub[512];

		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (!strcmp(key, "after") || !strcmp(key, "before"))
			rc = match_compile(key[0] == 'a' ? &win->after : &win->before, v, sub, err,
			                   errlen);
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
			goto out;
	}
	if (json_object_get(w, "within_s") && !json_object_get(w, "after")) {
		rc = verr(err, errlen, path, "within_s needs an \"after\" anchor");
		goto out;
	}
	if (!json_object_get(w, "after") && !json_object_get(w, "before")) {
		rc = verr(err, errlen, path, "a window needs \"after\" or \"before\"");
		goto out;
	}
	win->has_within = json_object_get(w, "within_s") != NULL;
	win->within_s = json_number_value(json_object_get(w, "within_s"));
	win->last = !strcmp(json_string_value(json_object_get(w, "occurrence")) ?: "", "last");
	win->json = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
	if (!win->json) {
		rc = ENOMEM;
		goto out;
	}
	*wp = win;
	win = NULL;
out:
	window_free(win);
	return rc;
}

static int compile_d(struct rule **rp, const json_t *j, const char *path, char *err, size_t errlen,
                     int depth);

static int c_count(struct rule *r, const json_t *rule, const char *path, char *err, size_t errlen,
                   int depth)
{
	bool forbid = !strcmp(r->op->name, "forbid");
	const json_t *ex = json_object_get(rule, "exactly");
	const json_t *al = json_object_get(rule, "at_least");
	const json_t *am = json_object_get(rule, "at_most");
	char sub[512];

	(void)depth;
	snprintf(sub, sizeof(sub), "%s.%s", path, r->op->name);
	r->min = forbid ? 0 : 1;
	r->max = forbid ? 0 : -1;
	if (ex) {
		r->min = r->max = json_integer_value(ex);
	} else {
		if (am) {
			r->max = json_integer_value(am);
			r->min = 0;
		}
		if (al)
			r->min = json_integer_value(al);
	}
	return match_compile(&r->match, json_object_get(rule, r->op->name), sub, err, errlen);
}

static int c_order(struct rule *r, const json_t *rule, const char *path, char *err, size_t errlen,
                   int depth)
{
	const json_t *v = json_object_get(rule, "order");
	char sub[512];
	size_t i;
	json_t *x;

	(void)depth;
	snprintf(sub, sizeof(sub), "%s.order", path);
	if (!json_is_array(v) || json_array_size(v) < 2)
		return verr(err, errlen, sub, "takes a list of 2 or more matches");
	r->seq = calloc(json_array_size(v), sizeof(*r->seq));
	if (!r->seq)
		return ENOMEM;
	json_array_foreach(v, i, x)
	{
		char p2[600];
		int rc;

		snprintf(p2, sizeof(p2), "%s[%zu]", sub, i);
		rc = match_compile(&r->seq[i], x, p2, err, errlen);
		r->n++;
		if (rc)
			return rc;
	}
	return 0;
}

static int c_group(struct rule *r, const json_t *rule, const char *path, char *err, size_t errlen,
                   int depth)
{
	const json_t *v = json_object_get(rule, r->op->name);
	char sub[512];
	size_t i;
	json_t *x;

	snprintf(sub, sizeof(sub), "%s.%s", path, r->op->name);
	if (!json_is_array(v) || json_array_size(v) < 1)
		return verr(err, errlen, sub, "takes a list of rules");
	if (json_object_get(rule, "window"))
		return verr(err, errlen, path, "put the window on the parts of all/any");
	r->sub = calloc(json_array_size(v), sizeof(*r->sub));
	if (!r->sub)
		return ENOMEM;
	json_array_foreach(v, i, x)
	{
		char p2[600];
		int rc;

		snprintf(p2, sizeof(p2), "%s[%zu]", sub, i);
		rc = compile_d(&r->sub[i], x, p2, err, errlen, depth + 1);
		r->n++;
		if (rc)
			return rc;
	}
	return 0;
}

/* The rules: name (the rule's key), compile, evaluate, describe. */
static const struct rule_op rule_ops[] = {
        {"expect", c_count, eval_count, needs_count}, {"forbid", c_count, eval_count, needs_count},
        {"order", c_order, eval_order, needs_order},  {"all", c_group, eval_group, needs_group},
        {"any", c_group, eval_group, needs_group},
};

static const char *const rule_options[] = {"window",   "if_missing", "because",
                                           "at_least", "at_most",    "exactly"};

/* Which rule the object is; its other keys must be options. */
static int rule_kind(const json_t *rule, const char *path, const struct rule_op **opp, char *err,
                     size_t errlen)
{
	const char *key;
	const json_t *v;

	*opp = NULL;
	json_object_foreach((json_t *)rule, key, v)
	{
		bool known = false;
		char sub[512];

		for (size_t i = 0; i < ARRAY_LEN(rule_ops); i++) {
			if (strcmp(key, rule_ops[i].name))
				continue;
			if (*opp)
				return verr(err, errlen, path, "rule has both \"%s\" and \"%s\"",
				            (*opp)->name, key);
			*opp = &rule_ops[i];
			known = true;
		}
		for (size_t i = 0; i < ARRAY_LEN(rule_options); i++)
			known |= !strcmp(key, rule_options[i]);
		if (known)
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		return verr(
		        err, errlen, sub,
		        "unknown rule key (expect, forbid, order, all, any, window, if_missing, "
		        "because, at_least, at_most, exactly)");
	}
	if (!*opp)
		return verr(err, errlen, path, "rule needs one of expect, forbid, order, all, any");
	return 0;
}

static int options_compile(struct rule *r, const json_t *rule, const char *path, char *err,
                           size_t errlen)
{
	static const char *const cnt[] = {"at_least", "at_most", "exactly"};
	const char *s = json_string_value(json_object_get(rule, "if_missing"));
	const json_t *because = json_object_get(rule, "because");
	const json_t *v;
	char sub[512];

	if (json_object_get(rule, "if_missing") &&
	    (!s ||
	     (strcmp(s, "fail") && strcmp(s, "pass") && strcmp(s, "n/a") && strcmp(s, "error"))))
		return verr(err, errlen, path, "if_missing is fail, pass, n/a or error");
	r->if_missing = !s || !strcmp(s, "fail") ? CONFORM_FAIL
	        : !strcmp(s, "pass")             ? CONFORM_PASS
	        : !strcmp(s, "n/a")              ? CONFORM_NA
	                                         : CONFORM_ERROR;
	snprintf(sub, sizeof(sub), "%s.because", path);
	if (because && (!json_is_string(because) || !json_string_length(because)))
		return verr(err, errlen, sub,
		            "a non-empty text: why absence is the expected outcome");
	if ((r->if_missing == CONFORM_PASS || r->if_missing == CONFORM_NA) && !because)
		return verr(err, errlen, path,
		            "if_missing \"%s\" needs \"because\": why absence is the expected "
		            "outcome",
		            s);
	if (because && r->if_missing != CONFORM_PASS && r->if_missing != CONFORM_NA)
		return verr(err, errlen, sub, "explains if_missing \"pass\" or \"n/a\" only");
	if (because && !(r->because = strdup(json_string_value(because))))
		return ENOMEM;
	for (size_t i = 0; i < ARRAY_LEN(cnt); i++) {
		v = json_object_get(rule, cnt[i]);
		if (!v)
			continue;
		if (strcmp(r->op->name, "expect"))
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

static int compile_d(struct rule **rp, const json_t *j, const char *path, char *err, size_t errlen,
                     int depth)
{
	struct rule *r = NULL;
	const struct rule_op *op;
	const json_t *w;
	int rc;

	*rp = NULL;
	if (depth > RULE_MAX_DEPTH)
		return verr(err, errlen, path, "rules nested too deeply");
	if (!json_is_object(j))
		return verr(err, errlen, path, "a rule is an object");
	rc = rule_kind(j, path, &op, err, errlen);
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->op = op;
	/* Counts are read by the count rules' compile step: check them first. */
	rc = options_compile(r, j, path, err, errlen);
	if (!rc)
		rc = op->compile(r, j, path, err, errlen, depth);
	if (!rc && (w = json_object_get(j, "window"))) {
		char sub[512];

		snprintf(sub, sizeof(sub), "%s.window", path);
		rc = window_compile(&r->win, w, sub, err, errlen);
	}
	if (rc) {
		rule_free(r);
		return rc;
	}
	*rp = r;
	return 0;
}

int rule_compile(struct rule **rp, const json_t *rule, const char *path, char *err, size_t errlen)
{
	if (!rp)
		return EINVAL;
	return compile_d(rp, rule, path, err, errlen, 0);
}

const char *rule_op_name(size_t i)
{
	return i < ARRAY_LEN(rule_ops) ? rule_ops[i].name : NULL;
}
