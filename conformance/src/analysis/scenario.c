/* scenario.c - scenario files (docs/scenarios.md): strict loading and access. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rule_int.h"

#define SCENARIO_MAX_FILE (1024 * 1024)
#define SCENARIO_MAX_CHECKS 256
#define SCENARIO_MAX_STEPS 256
#define SCENARIO_MAX_LIST 64

/* Without a "witness": any packet the endpoint sent, from either side of the firewall. */
static const char default_witness[] =
        "{\"src_ip\": {\"host\": [\"endpoint-inside\", \"endpoint-outside\"]}}";

struct check_int {
	struct conform_check_info info;
	const char **req, **requires, **catches; /* NULL-terminated, strings borrowed from doc */
	struct rule *rule;
	char *needs; /* what evidence the rule needs, in words */
};

struct conform_scenario {
	json_t *doc;
	char *path;
	const char **requires, **note;
	struct conform_step *steps;
	size_t nsteps;
	struct check_int *checks;
	size_t nchecks;
	struct match *witness; /* an event proving the endpoint did something */
};

static int serr(char *err, size_t errlen, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int serr(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", name);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return EINVAL;
}

void conform_scenario_free(struct conform_scenario *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nchecks; i++) {
		free(s->checks[i].req);
		free(s->checks[i].requires);
		free(s->checks[i].catches);
		rule_free(s->checks[i].rule);
		free(s->checks[i].needs);
	}
	match_free(s->witness);
	free(s->checks);
	free(s->steps);
	free(s->requires);
	free(s->note);
	free(s->path);
	json_decref(s->doc);
	free(s);
}

/* A list of strings into a NULL-terminated array (strings borrowed from the document). */
static int str_list(const json_t *v, const char ***out, const char *name, const char *where,
                    char *err, size_t errlen)
{
	size_t i, n = 0;
	json_t *x;
	const char **a;

	if (v && (!json_is_array(v) || json_array_size(v) > SCENARIO_MAX_LIST))
		return serr(err, errlen, name, "%s: a list of at most %d strings", where,
		            SCENARIO_MAX_LIST);
	n = v ? json_array_size(v) : 0;
	a = calloc(n + 1, sizeof(*a));
	if (!a)
		return ENOMEM;
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x) || !json_string_length(x)) {
			free(a);
			return serr(err, errlen, name, "%s[%zu]: a non-empty string", where, i);
		}
		a[i] = json_string_value(x);
	}
	*out = a;
	return 0;
}

static bool key_in(const char *key, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(key, *allowed))
			return true;
	return false;
}

static int strict_keys(const json_t *o, const char *const *allowed, const char *name,
                       const char *where, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v)
	{
		if (!key_in(key, allowed)) {
			char list[256] = "";

			for (const char *const *a = allowed; *a; a++) {
				strncat(list, *a, sizeof(list) - strlen(list) - 1);
				if (a[1])
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			return serr(err, errlen, name, "%s: unknown key \"%s\" (allowed: %s)",
			            where, key, list);
		}
	}
	return 0;
}

static const struct {
	const char *name;
	enum conform_step_kind kind;
	const char *const keys[6];
} step_defs[] = {
        {"wait", CONFORM_STEP_WAIT, {"do", "for", "timeout_s", NULL}},
        {"call-in", CONFORM_STEP_CALL_IN, {"do", "seconds", "timeout_s", NULL}},
        {"call-out", CONFORM_STEP_CALL_OUT, {"do", "uri", "seconds", "timeout_s", NULL}},
        {"hangup", CONFORM_STEP_HANGUP, {"do", NULL}},
        {"migrate", CONFORM_STEP_MIGRATE, {"do", "to", NULL}},
        {"apply", CONFORM_STEP_APPLY, {"do", "profile", NULL}},
        {"sleep", CONFORM_STEP_SLEEP, {"do", "seconds", NULL}},
        {"stop", CONFORM_STEP_STOP, {"do", NULL}},
};

static int num_field(const json_t *o, const char *key, double def, double max, double *out,
                     const char *name, const char *where, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);

	*out = def;
	if (!v)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > max)
		return serr(err, errlen, name, "%s.%s: a number from 0 to %g", where, key, max);
	*out = json_number_value(v);
	return 0;
}

static int load_step(const json_t *o, struct conform_step *st, const char *name, size_t idx,
                     char *err, size_t errlen)
{
	char where[64];
	const char *d;
	size_t k;
	int rc;

	snprintf(where, sizeof(where), "steps[%zu]", idx);
	if (!json_is_object(o))
		return serr(err, errlen, name, "%s: a step is an object", where);
	d = json_string_value(json_object_get(o, "do"));
	if (!d)
		return serr(err, errlen, name, "%s: \"do\" is required", where);
	for (k = 0; k < ARRAY_LEN(step_defs); k++)
		if (!strcmp(d, step_defs[k].name))
			break;
	if (k == ARRAY_LEN(step_defs))
		return serr(err, errlen, name,
		            "%s.do: unknown step \"%s\" (wait, call-in, call-out, hangup, migrate, "
		            "apply, sleep, stop)",
		            where, d);
	rc = strict_keys(o, step_defs[k].keys, name, where, err, errlen);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	st->kind = step_defs[k].kind;
	st->do_name = d;
	st->event = json_string_value(json_object_get(o, "for"));
	st->to = json_string_value(json_object_get(o, "to"));
	st->profile = json_string_value(json_object_get(o, "profile"));
	st->uri = json_string_value(json_object_get(o, "uri"));
	rc = num_field(o, "timeout_s", 10, 3600, &st->timeout_s, name, where, err, errlen);
	if (!rc)
		rc = num_field(o, "seconds", st->kind == CONFORM_STEP_SLEEP ? 1 : 3, 3600,
		               &st->seconds, name, where, err, errlen);
	if (rc)
		return rc;
	if (st->kind == CONFORM_STEP_WAIT && (!st->event || !*st->event))
		return serr(err, errlen, name, "%s.for: the endpoint event to wait for", where);
	if (st->kind == CONFORM_STEP_MIGRATE &&
	    (!st->to || (strcmp(st->to, "inside") && strcmp(st->to, "outside"))))
		return serr(err, errlen, name, "%s.to: \"inside\" or \"outside\"", where);
	if (st->kind == CONFORM_STEP_APPLY && (!st->profile || !*st->profile))
		return serr(err, errlen, name, "%s.profile: a firewall profile name", where);
	if (json_object_get(o, "uri") && !st->uri)
		return serr(err, errlen, name, "%s.uri: a string", where);
	if (st->kind == CONFORM_STEP_SLEEP && !json_object_get(o, "seconds"))
		return serr(err, errlen, name, "%s.seconds: required for sleep", where);
	return 0;
}

static bool id_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int load_check(struct conform_scenario *s, const json_t *o, struct check_int *c,
                      const char *name, size_t idx, char *err, size_t errlen)
{
	static const char *const keys[] = {"id",      "req",  "description", "requires",
	                                   "catches", "rule", NULL};
	char where[96];
	int rc;

	snprintf(where, sizeof(where), "checks[%zu]", idx);
	if (!json_is_object(o))
		return serr(err, errlen, name, "%s: a check is an object", where);
	rc = strict_keys(o, keys, name, where, err, errlen);
	if (rc)
		return rc;
	c->info.id = json_string_value(json_object_get(o, "id"));
	if (!id_ok(c->info.id))
		return serr(err, errlen, name, "%s.id: required; letters, digits, - _ . (max 64)",
		            where);
	snprintf(where, sizeof(where), "check %s", c->info.id);
	for (size_t i = 0; i < s->nchecks; i++)
		if (!strcmp(s->checks[i].info.id, c->info.id))
			return serr(err, errlen, name, "%s: duplicate check id", where);
	c->info.description = json_string_value(json_object_get(o, "description"));
	if (!c->info.description || !*c->info.description)
		return serr(err, errlen, name, "%s.description: required", where);
	rc = str_list(json_object_get(o, "req"), &c->req, name, "req", err, errlen);
	if (!rc && !c->req[0])
		rc = serr(err, errlen, name, "%s.req: at least one requirement ID", where);
	for (size_t i = 0; !rc && c->req[i]; i++)
		if (!conform_requirement_find(c->req[i]))
			rc = serr(err, errlen, name,
			          "%s.req: unknown requirement \"%s\" (see docs/requirements.md)",
			          where, c->req[i]);
	if (!rc)
		rc = str_list(json_object_get(o, "requires"), &c->requires, name, "requires", err,
		              errlen);
	if (!rc)
		rc = str_list(json_object_get(o, "catches"), &c->catches, name, "catches", err,
		              errlen);
	if (rc)
		return rc;
	c->info.req = c->req;
	c->info.requires = c->requires;
	c->info.catches = c->catches;
	if (!json_object_get(o, "rule"))
		return serr(err, errlen, name, "%s.rule: required", where);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s: %s.rule", name, where);
		rc = rule_compile(&c->rule, json_object_get(o, "rule"), path, err, errlen);
	}
	if (rc)
		return rc;
	c->needs = rule_needs(c->rule, s->witness);
	return c->needs ? 0 : ENOMEM;
}

/* The scenario's witness: its "witness" MATCH, or any packet the endpoint sent. */
static int load_witness(struct conform_scenario *s, const char *name, char *err, size_t errlen)
{
	const json_t *w = json_object_get(s->doc, "witness");
	json_t *def = NULL;
	char path[128];
	int rc;

	if (!w) {
		def = json_loads(default_witness, 0, NULL);
		if (!def)
			return ENOMEM;
		w = def;
	}
	snprintf(path, sizeof(path), "%s: witness", name);
	rc = match_compile(&s->witness, w, path, err, errlen);
	json_decref(def);
	return rc;
}

static int load_doc(struct conform_scenario *s, const char *name, char *err, size_t errlen)
{
	static const char *const keys[] = {"id",      "title",    "description", "note", "profile",
	                                   "account", "requires", "deadline_s",  "lab",  "steps",
	                                   "checks",  "witness",  NULL};
	const json_t *o = s->doc, *v;
	const char *id;
	size_t i;
	json_t *x;
	int rc;

	if (!json_is_object(o))
		return serr(err, errlen, name, "the file is a JSON object");
	rc = strict_keys(o, keys, name, "top level", err, errlen);
	if (rc)
		return rc;
	id = json_string_value(json_object_get(o, "id"));
	if (!id_ok(id))
		return serr(err, errlen, name, "id: required; letters, digits, - _ . (max 64)");
	if (!json_is_string(json_object_get(o, "title")))
		return serr(err, errlen, name, "title: required string");
	if (!json_is_string(json_object_get(o, "profile")))
		return serr(err, errlen, name, "profile: required string (firewall profile)");
	if (!json_is_string(json_object_get(o, "account")))
		return serr(err, errlen, name, "account: required string (mock-oam account)");
	if ((v = json_object_get(o, "description")) && !json_is_string(v))
		return serr(err, errlen, name, "description: a string");
	if ((v = json_object_get(o, "lab")) && !json_is_object(v))
		return serr(err, errlen, name, "lab: an object");
	if ((v = json_object_get(o, "deadline_s")) &&
	    (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 3600))
		return serr(err, errlen, name, "deadline_s: a number of seconds, 1..3600");
	rc = str_list(json_object_get(o, "requires"), &s->requires, name, "requires", err, errlen);
	if (!rc)
		rc = str_list(json_object_get(o, "note"), &s->note, name, "note", err, errlen);
	if (rc)
		return rc;
	v = json_object_get(o, "steps");
	if (!json_is_array(v) || json_array_size(v) > SCENARIO_MAX_STEPS)
		return serr(err, errlen, name, "steps: required list (at most %d)",
		            SCENARIO_MAX_STEPS);
	s->steps = calloc(json_array_size(v) + 1, sizeof(*s->steps));
	if (!s->steps)
		return ENOMEM;
	json_array_foreach(v, i, x)
	{
		rc = load_step(x, &s->steps[i], name, i, err, errlen);
		if (rc)
			return rc;
		s->nsteps++;
	}
	rc = load_witness(s, name, err, errlen);
	if (rc)
		return rc;
	v = json_object_get(o, "checks");
	if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > SCENARIO_MAX_CHECKS)
		return serr(err, errlen, name, "checks: required non-empty list (at most %d)",
		            SCENARIO_MAX_CHECKS);
	s->checks = calloc(json_array_size(v), sizeof(*s->checks));
	if (!s->checks)
		return ENOMEM;
	json_array_foreach(v, i, x)
	{
		rc = load_check(s, x, &s->checks[i], name, i, err, errlen);
		s->nchecks++; /* counted even on failure so free() releases its lists */
		if (rc)
			return rc;
	}
	return 0;
}

int conform_scenario_parse(struct conform_scenario **sp, const char *text, size_t len,
                           const char *name, char *err, size_t errlen)
{
	struct conform_scenario *s = NULL;
	json_error_t jerr;
	int rc;

	if (!sp || (!text && len))
		return EINVAL;
	if (!name)
		name = "scenario";
	if (len > SCENARIO_MAX_FILE)
		return serr(err, errlen, name, "larger than %d bytes", SCENARIO_MAX_FILE);
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->doc = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!s->doc) {
		rc = serr(err, errlen, name, "line %d column %d: %s", jerr.line, jerr.column,
		          jerr.text);
		goto out;
	}
	rc = load_doc(s, name, err, errlen);
	if (rc)
		goto out;
	s->path = strdup("");
	if (!s->path) {
		rc = ENOMEM;
		goto out;
	}
	*sp = s;
	s = NULL;
out:
	conform_scenario_free(s);
	return rc;
}

int conform_scenario_load(struct conform_scenario **sp, const char *path, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len;
	int rc;

	if (!sp || !path)
		return EINVAL;
	buf = malloc(SCENARIO_MAX_FILE + 1);
	if (!buf)
		return ENOMEM;
	f = fopen(path, "r");
	if (!f) {
		rc = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(rc));
		goto out;
	}
	len = fread(buf, 1, SCENARIO_MAX_FILE + 1, f);
	if (ferror(f)) {
		rc = serr(err, errlen, path, "read error");
		goto out;
	}
	rc = conform_scenario_parse(sp, buf, len, path, err, errlen);
	if (!rc) {
		char *p = strdup(path);

		if (!p) {
			conform_scenario_free(*sp);
			*sp = NULL;
			rc = ENOMEM;
			goto out;
		}
		free((*sp)->path);
		(*sp)->path = p;
	}
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}

static int cmp_scn(const void *a, const void *b)
{
	return strcmp(conform_scenario_id(*(struct conform_scenario *const *)a),
	              conform_scenario_id(*(struct conform_scenario *const *)b));
}

void conform_scenario_list_free(struct conform_scenario **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		conform_scenario_free(list[i]);
	free(list);
}

int conform_scenario_load_dir(struct conform_scenario ***listp, size_t *np, const char *dir,
                              char *err, size_t errlen)
{
	struct conform_scenario **list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (!listp || !np || !dir)
		return EINVAL;
	d = opendir(dir);
	if (!d) {
		rc = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(rc));
		return rc;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char path[4096];
		struct conform_scenario *s = NULL;

		if (l < 6 || strcmp(de->d_name + l - 5, ".json") || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = conform_scenario_load(&s, path, err, errlen);
		if (rc)
			goto out;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct conform_scenario **nl = realloc(list, nc * sizeof(*nl));

			if (!nl) {
				conform_scenario_free(s);
				rc = ENOMEM;
				goto out;
			}
			list = nl;
			cap = nc;
		}
		list[n++] = s;
		for (size_t i = 0; i + 1 < n; i++) {
			if (!strcmp(conform_scenario_id(list[i]), conform_scenario_id(s))) {
				rc = serr(err, errlen, path, "scenario id \"%s\" also used by %s",
				          conform_scenario_id(s), conform_scenario_path(list[i]));
				goto out;
			}
		}
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_scn);
	*listp = list;
	*np = n;
	list = NULL;
	n = 0;
out:
	closedir(d);
	conform_scenario_list_free(list, n);
	return rc;
}

int conform_scenario_find(struct conform_scenario **sp, const char *dir, const char *id_or_path,
                          char *err, size_t errlen)
{
	struct conform_scenario **list = NULL;
	struct stat st;
	size_t n = 0;
	int rc;

	if (!sp || !id_or_path)
		return EINVAL;
	if (stat(id_or_path, &st) == 0 && S_ISREG(st.st_mode))
		return conform_scenario_load(sp, id_or_path, err, errlen);
	rc = conform_scenario_load_dir(&list, &n, dir ? dir : conform_scenario_default_dir(), err,
	                               errlen);
	if (rc)
		return rc;
	rc = ENOENT;
	snprintf(err, errlen, "no scenario \"%s\" in %s", id_or_path,
	         dir ? dir : conform_scenario_default_dir());
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(conform_scenario_id(list[i]), id_or_path)) {
			*sp = list[i];
			list[i] = NULL;
			rc = 0;
			break;
		}
	}
	conform_scenario_list_free(list, n);
	return rc;
}

const char *conform_scenario_default_dir(void)
{
	const char *e = getenv("ONSIGHT_SCENARIOS");

	if (e && *e)
		return e;
#ifdef ONSIGHT_SOURCE_DIR
	return ONSIGHT_SOURCE_DIR "/conformance/scenarios";
#else
	return "conformance/scenarios";
#endif
}

#define SGET(name, key) \
	const char *conform_scenario_##name(const struct conform_scenario *s) \
	{ \
		return s ? json_string_value(json_object_get(s->doc, key)) : NULL; \
	}
SGET(id, "id")
SGET(title, "title")
SGET(profile, "profile")
SGET(account, "account")

const char *conform_scenario_path(const struct conform_scenario *s)
{
	return s ? s->path : NULL;
}

double conform_scenario_deadline(const struct conform_scenario *s)
{
	const json_t *v = s ? json_object_get(s->doc, "deadline_s") : NULL;

	return v ? json_number_value(v) : 60.0;
}

const char *const *conform_scenario_requires(const struct conform_scenario *s)
{
	return s ? s->requires : NULL;
}

const char *const *conform_scenario_note(const struct conform_scenario *s)
{
	return s ? s->note : NULL;
}

const json_t *conform_scenario_lab(const struct conform_scenario *s)
{
	return s ? json_object_get(s->doc, "lab") : NULL;
}

const json_t *conform_scenario_json(const struct conform_scenario *s)
{
	return s ? s->doc : NULL;
}

size_t conform_scenario_step_count(const struct conform_scenario *s)
{
	return s ? s->nsteps : 0;
}

const struct conform_step *conform_scenario_step(const struct conform_scenario *s, size_t i)
{
	return s && i < s->nsteps ? &s->steps[i] : NULL;
}

size_t conform_scenario_check_count(const struct conform_scenario *s)
{
	return s ? s->nchecks : 0;
}

const struct conform_check_info *conform_scenario_check(const struct conform_scenario *s, size_t i)
{
	return s && i < s->nchecks ? &s->checks[i].info : NULL;
}

void scenario_check_eval(const struct conform_scenario *s, size_t i, struct conform_timeline *t,
                         struct rule_out *out)
{
	rule_eval(t, s->checks[i].rule, s->witness, out);
}

const char *scenario_check_needs(const struct conform_scenario *s, size_t i)
{
	return s && i < s->nchecks ? s->checks[i].needs : NULL;
}
