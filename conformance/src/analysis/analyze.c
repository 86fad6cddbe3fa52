/* analyze.c - verdicts of a scenario's checks over a timeline, and the `analyze` subcommand. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis_int.h"

struct result_int {
	struct conform_result pub;
	char *expected, *observed, *reason;
	struct conform_evidence ev[8];
	char *summary[8];
	char *kind[8], *src[8], *capture[8];
};

struct conform_results {
	char *scenario;
	struct result_int *r;
	size_t n;
};

const char *conform_verdict_name(enum conform_verdict v)
{
	switch (v) {
	case CONFORM_PASS:
		return "pass";
	case CONFORM_FAIL:
		return "fail";
	case CONFORM_NA:
		return "n/a";
	default:
		return "error";
	}
}

static bool has_cap(const char *const *caps, const char *c)
{
	if (!caps)
		return true;
	for (; *caps; caps++)
		if (!strcmp(*caps, c))
			return true;
	return false;
}

/* The first capability in list that caps lacks, or NULL. */
static const char *missing_cap(const char *const *list, const char *const *caps)
{
	for (; list && *list; list++)
		if (!has_cap(caps, *list))
			return *list;
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void fill_evidence(struct result_int *ri, struct conform_timeline *t,
                          const struct rule_out *o)
{
	ri->pub.n_evidence = 0;
	for (size_t k = 0; k < o->n_ev && k < 8; k++) {
		const json_t *ev = t->ev[o->ev_idx[k]].ev;
		struct conform_evidence *e = &ri->ev[k];

		ri->kind[k] = dup_or_null(json_string_value(json_object_get(ev, "kind")));
		ri->src[k] = dup_or_null(json_string_value(json_object_get(ev, "src")));
		ri->capture[k] = dup_or_null(json_string_value(json_object_get(ev, "capture")));
		ri->summary[k] = event_summary(ev);
		e->t = t->ev[o->ev_idx[k]].t;
		e->kind = ri->kind[k] ? ri->kind[k] : "";
		e->src = ri->src[k] ? ri->src[k] : "";
		e->capture = ri->capture[k];
		e->frame = (long)json_integer_value(json_object_get(ev, "frame"));
		e->summary = ri->summary[k] ? ri->summary[k] : "";
		ri->pub.n_evidence++;
	}
	ri->pub.evidence = ri->ev;
}

int conform_analyze(struct conform_results **rp, const struct conform_scenario *s,
                    struct conform_timeline *t, const char *const *caps)
{
	struct conform_results *r = NULL;
	size_t n = conform_scenario_check_count(s);
	int err = 0;

	if (!rp || !s || !t)
		return EINVAL;
	conform_timeline_finish(t);
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->scenario = strdup(conform_scenario_id(s));
	r->r = calloc(n ? n : 1, sizeof(*r->r));
	if (!r->scenario || !r->r) {
		err = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct result_int *ri = &r->r[i];
		const struct conform_check_info *ci = conform_scenario_check(s, i);
		const char *miss = missing_cap(conform_scenario_requires(s), caps);
		char buf[160];

		r->n++;
		ri->pub.check = ci;
		ri->pub.needs = scenario_check_needs(s, i);
		if (!miss)
			miss = missing_cap(ci->requires, caps);
		if (miss) {
			snprintf(buf, sizeof(buf), "capability %s not declared", miss);
			ri->pub.verdict = CONFORM_NA;
			ri->reason = strdup(buf);
			ri->expected = strdup("");
			ri->observed = strdup("");
		} else {
			struct rule_out o;

			scenario_check_eval(s, i, t, &o);
			ri->pub.verdict = o.verdict;
			ri->pub.unwitnessed = o.verdict == CONFORM_FAIL && o.unwitnessed;
			ri->expected = o.expected;
			ri->observed = o.observed;
			ri->reason = o.reason;
			if (!ri->reason && o.verdict == CONFORM_ERROR)
				ri->reason = strdup(o.observed ? o.observed : "rule error");
			else if (!ri->reason && o.verdict == CONFORM_NA)
				ri->reason = strdup(o.observed ? o.observed : "not applicable");
			fill_evidence(ri, t, &o);
		}
		ri->pub.expected = ri->expected ? ri->expected : "";
		ri->pub.observed = ri->observed ? ri->observed : "";
		ri->pub.reason = ri->reason;
	}
	*rp = r;
	r = NULL;
out:
	conform_results_free(r);
	return err;
}

void conform_results_free(struct conform_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->r && i < r->n; i++) {
		struct result_int *ri = &r->r[i];

		free(ri->expected);
		free(ri->observed);
		free(ri->reason);
		for (size_t k = 0; k < 8; k++) {
			free(ri->summary[k]);
			free(ri->kind[k]);
			free(ri->src[k]);
			free(ri->capture[k]);
		}
	}
	free(r->r);
	free(r->scenario);
	free(r);
}

size_t conform_results_count(const struct conform_results *r)
{
	return r ? r->n : 0;
}

const struct conform_result *conform_results_get(const struct conform_results *r, size_t i)
{
	return r && i < r->n ? &r->r[i].pub : NULL;
}

enum conform_verdict conform_results_worst(const struct conform_results *r)
{
	bool err = false;

	for (size_t i = 0; r && i < r->n; i++) {
		if (r->r[i].pub.verdict == CONFORM_FAIL)
			return CONFORM_FAIL;
		if (r->r[i].pub.verdict == CONFORM_ERROR)
			err = true;
	}
	return err ? CONFORM_ERROR : CONFORM_PASS;
}

static json_t *str_array(const char *const *l)
{
	json_t *a = json_array();

	for (; a && l && *l; l++)
		json_array_append_new(a, json_string(*l));
	return a;
}

json_t *conform_results_json(const struct conform_results *r)
{
	json_t *checks, *out;
	int cnt[4] = {0};

	if (!r)
		return NULL;
	checks = json_array();
	for (size_t i = 0; checks && i < r->n; i++) {
		const struct conform_result *c = &r->r[i].pub;
		json_t *ev = json_array();

		for (size_t k = 0; ev && k < c->n_evidence; k++) {
			const struct conform_evidence *e = &c->evidence[k];

			json_array_append_new(
			        ev,
			        json_pack("{s:f, s:s, s:s, s:s?, s:I, s:s}", "t", e->t, "kind",
			                  e->kind, "src", e->src, "capture", e->capture, "frame",
			                  (json_int_t)e->frame, "summary", e->summary));
		}
		cnt[c->verdict]++;
		json_t *cj = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o}", "id",
		                       c->check->id, "req", str_array(c->check->req), "description",
		                       c->check->description, "verdict",
		                       conform_verdict_name(c->verdict), "expected", c->expected,
		                       "observed", c->observed, "reason", c->reason, "needs",
		                       c->needs, "evidence", ev);
		if (cj && c->unwitnessed)
			json_object_set_new(cj, "unwitnessed", json_true());
		json_array_append_new(checks, cj);
	}
	out = json_pack("{s:s, s:o, s:{s:i, s:i, s:i, s:i}, s:s}", "scenario", r->scenario,
	                "checks", checks, "summary", "pass", cnt[CONFORM_PASS], "fail",
	                cnt[CONFORM_FAIL], "na", cnt[CONFORM_NA], "error", cnt[CONFORM_ERROR],
	                "verdict", conform_verdict_name(conform_results_worst(r)));
	return out;
}

void conform_results_print(const struct conform_results *r, FILE *f)
{
	if (!r || !f)
		return;
	for (size_t i = 0; i < r->n; i++) {
		const struct conform_result *c = &r->r[i].pub;

		fprintf(f, "%-5s %s %-10s %s", conform_verdict_name(c->verdict), r->scenario,
		        c->check->id, c->check->description);
		fputc('\n', f);
		if (c->verdict == CONFORM_PASS)
			continue;
		if (c->reason)
			fprintf(f, "      reason:   %s\n", c->reason);
		if (c->needs)
			fprintf(f, "      needs:    %s\n", c->needs);
		if (c->verdict == CONFORM_NA)
			continue;
		fprintf(f, "      expected: %s\n      observed: %s\n", c->expected, c->observed);
		for (size_t k = 0; k < c->n_evidence; k++)
			fprintf(f, "      event:    %s\n", c->evidence[k].summary);
	}
}

/* ---- analyze subcommand ------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: onsight-conform analyze CAPTURE... --scenario ID|FILE\n"
	      "         [--events [SERVICE=]FILE]... [--caps a,b,...] [--scenarios DIR]\n"
	      "         [--timeline FILE] [--json FILE] [--hosts FILE] [--quiet]\n"
	      "  CAPTURE is PATH or NAME=PATH (NAME: the link, e.g. ep, fw-wan).\n"
	      "  --hosts: the lab plan (default: hosts.json beside the first capture, else the\n"
	      "  built-in plan)\n"
	      "  exit: 0 pass, 1 a check failed, 2 usage/configuration, 3 unreadable input\n",
	      f);
}

/* Splits "NAME=PATH" (NAME without '/'); name NULL when there is none. */
static void split_named(char *arg, char **name, char **path)
{
	char *eq = strchr(arg, '=');

	if (eq && eq != arg && !memchr(arg, '/', (size_t)(eq - arg))) {
		*eq = '\0';
		*name = arg;
		*path = eq + 1;
	} else {
		*name = NULL;
		*path = arg;
	}
}

/* The run's address plan: --hosts FILE, else hosts.json beside the first capture (arg, which
 * may be NAME=PATH) when there is one; else the timeline keeps the built-in plan. */
static int load_plan(struct conform_timeline *t, const char *file, const char *arg, char *err,
                     size_t errlen)
{
	char path[4096], *name, *cap, *slash;

	if (file)
		return conform_hosts_load(t, file, err, errlen);
	if (!arg || snprintf(path, sizeof(path), "%s", arg) >= (int)sizeof(path))
		return 0;
	split_named(path, &name, &cap);
	memmove(path, cap, strlen(cap) + 1);
	slash = strrchr(path, '/');
	if (slash)
		snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "hosts.json");
	else
		snprintf(path, sizeof(path), "hosts.json");
	return access(path, F_OK) ? 0 : conform_hosts_load(t, path, err, errlen);
}

int conform_analyze_main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"scenario", required_argument, NULL, 's'},
	        {"events", required_argument, NULL, 'e'},
	        {"caps", required_argument, NULL, 'c'},
	        {"scenarios", required_argument, NULL, 'd'},
	        {"timeline", required_argument, NULL, 't'},
	        {"json", required_argument, NULL, 'j'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"hosts", required_argument, NULL, 'H'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *scenario = NULL, *dir = NULL, *tl_out = NULL, *json_out = NULL, *hosts = NULL;
	char **events = NULL, *capsbuf = NULL;
	const char **caps = NULL;
	size_t nevents = 0;
	bool quiet = false;
	struct conform_scenario *s = NULL;
	struct conform_timeline *t = NULL;
	struct conform_results *r = NULL;
	char err[1024] = "";
	int c, rc = 2;

	events = calloc((size_t)argc + 1, sizeof(*events));
	if (!events)
		return 3;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:e:c:d:t:j:H:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			scenario = optarg;
			break;
		case 'e':
			events[nevents++] = optarg;
			break;
		case 'c':
			free(capsbuf);
			free(caps);
			capsbuf = strdup(optarg);
			caps = calloc(strlen(optarg) + 2, sizeof(*caps));
			if (!capsbuf || !caps) {
				rc = 3;
				goto out;
			}
			{
				size_t k = 0;
				char *save = NULL;

				for (char *tok = strtok_r(capsbuf, ",", &save); tok;
				     tok = strtok_r(NULL, ",", &save))
					caps[k++] = tok;
			}
			break;
		case 'd':
			dir = optarg;
			break;
		case 't':
			tl_out = optarg;
			break;
		case 'j':
			json_out = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'H':
			hosts = optarg;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (!scenario || (optind >= argc && !nevents)) {
		usage(stderr);
		goto out;
	}
	if (conform_scenario_find(&s, dir, scenario, err, sizeof(err))) {
		fprintf(stderr, "analyze: %s\n", err);
		goto out;
	}
	if (conform_timeline_alloc(&t, NULL)) {
		rc = 3;
		goto out;
	}
	if (load_plan(t, hosts, optind < argc ? argv[optind] : NULL, err, sizeof(err))) {
		fprintf(stderr, "analyze: %s\n", err);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		char *name, *path;

		split_named(argv[i], &name, &path);
		err[0] = '\0';
		if (conform_timeline_add_pcap(t, path, name, err, sizeof(err))) {
			fprintf(stderr, "analyze: %s\n", err);
			rc = 3;
			goto out;
		}
		if (err[0])
			fprintf(stderr, "analyze: warning: %s\n", err);
	}
	for (size_t i = 0; i < nevents; i++) {
		char *name, *path;

		split_named(events[i], &name, &path);
		if (conform_timeline_add_journal(t, path, name, err, sizeof(err))) {
			fprintf(stderr, "analyze: %s\n", err);
			rc = 3;
			goto out;
		}
	}
	conform_timeline_finish(t);
	if (tl_out && conform_timeline_save(t, tl_out, err, sizeof(err))) {
		fprintf(stderr, "analyze: %s\n", err);
		rc = 3;
		goto out;
	}
	if (conform_analyze(&r, s, t, caps)) {
		rc = 3;
		goto out;
	}
	if (json_out) {
		json_t *j = conform_results_json(r);
		int w = j ? json_dump_file(j, json_out, JSON_INDENT(1) | JSON_REAL_PRECISION(16))
		          : -1;

		json_decref(j);
		if (w) {
			fprintf(stderr, "analyze: cannot write %s\n", json_out);
			rc = 3;
			goto out;
		}
	}
	if (!quiet) {
		struct conform_timeline_stats st;

		conform_timeline_stats(t, &st);
		conform_results_print(r, stdout);
		printf("%s: %zu events (%llu frames, %llu journal lines); verdict %s\n",
		       conform_scenario_id(s), conform_timeline_count(t), st.frames,
		       st.journal_lines, conform_verdict_name(conform_results_worst(r)));
	}
	rc = conform_results_worst(r) == CONFORM_FAIL       ? 1
	        : conform_results_worst(r) == CONFORM_ERROR ? 1
	                                                    : 0;
out:
	conform_results_free(r);
	conform_timeline_free(t);
	conform_scenario_free(s);
	free(events);
	free(caps);
	free(capsbuf);
	return rc;
}
