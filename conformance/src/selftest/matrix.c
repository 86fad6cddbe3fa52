/* matrix.c - the kill matrix (selftest.h): fault runs and timeline mutations as columns,
 * every check of every scenario as a row. Mutations are judged offline from the fault-free
 * run's saved timelines: no lab, no root. */
#include "selftest.h"

#include "mutate.h"
#include "hosts.h"
#include "onsight/jsoncfg.h"
#include "onsight/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* results.json spells n/a "na"; the analysis library "n/a". */
static const char *verdict_word(enum conform_verdict v)
{
	return v == CONFORM_NA ? "na" : conform_verdict_name(v);
}

static const char *sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* A failure only for want of the scenario's witness ("no evidence: ...") shows that the rule
 * cannot pass on nothing, not that it sees the behaviour it judges: in the matrix it is its
 * own word, "unwitnessed", and kills nothing. */
static const char *kill_word(const char *verdict, int unwitnessed)
{
	return !strcmp(verdict, "fail") && unwitnessed ? "unwitnessed" : verdict;
}

/* One judgement: {CHECK: verdict}, or NULL with err set. */
static json_t *judge(const struct conform_scenario *sc, const json_t *events, const json_t *hosts,
                     const char *const *caps, char *err, size_t errlen)
{
	struct conform_timeline *t = NULL;
	struct conform_results *r = NULL;
	json_t *out = NULL, *h;
	size_t i;

	if (conform_timeline_alloc(&t, NULL))
		goto out;
	json_array_foreach(hosts, i, h)
	{
		if (json_is_string(json_object_get(h, "name")) &&
		    json_is_string(json_object_get(h, "addr")) &&
		    conform_hosts_add(t, sget(h, "name"), sget(h, "addr")))
			goto out;
	}
	if (conform_timeline_add_events_json(t, events, err, errlen))
		goto out;
	if (conform_analyze(&r, sc, t, caps)) {
		snprintf(err, errlen, "%s: judging failed", conform_scenario_id(sc));
		goto out;
	}
	out = json_object();
	for (i = 0; out && i < conform_results_count(r); i++) {
		const struct conform_result *c = conform_results_get(r, i);
		json_object_set_new(
		        out, c->check->id,
		        json_string(kill_word(verdict_word(c->verdict), c->unwitnessed)));
	}
out:
	conform_results_free(r);
	conform_timeline_free(t);
	return out;
}

json_t *selftest_judge_mutations(const struct conform_scenario *sc, const json_t *timeline,
                                 const json_t *hosts, const char *const *caps, char *err,
                                 size_t errlen)
{
	struct mutate_env env = {.hosts = hosts};
	json_t *clean = judge(sc, timeline, hosts, caps, err, errlen);
	json_t *cols = json_array(), *na = json_array();

	if (!clean || !cols || !na)
		goto fail;
	for (size_t i = 0; i < mutation_count(); i++) {
		const struct mutation *m = mutation_get(i);
		json_t *alt = NULL, *v;
		char by[96];
		int e = mutation_apply(m, timeline, &env, &alt);

		if (e == ENOENT) {
			json_array_append_new(na, json_string(m->name));
			continue;
		}
		if (e) {
			snprintf(err, errlen, "mutation %s: %s", m->name, strerror(e));
			goto fail;
		}
		v = judge(sc, alt, hosts, caps, err, errlen);
		json_decref(alt);
		if (!v)
			goto fail;
		snprintf(by, sizeof(by), "mutation:%s", m->name);
		json_array_append_new(cols, json_pack("{s:s,s:o}", "by", by, "verdicts", v));
	}
	return json_pack("{s:o,s:o,s:o}", "clean", clean, "columns", cols, "not_applicable", na);
fail:
	json_decref(clean);
	json_decref(cols);
	json_decref(na);
	return NULL;
}

static json_t *load_json(const char *path)
{
	json_error_t je;
	return json_load_file(path, 0, &je);
}

/* The run's own plan (hosts.json), or the built-in lab plan for a run written without one. */
static json_t *load_plan(const char *path)
{
	struct lab_host tab[HOSTS_MAX];
	json_t *plan = load_json(path);

	return plan ? plan : hosts_plan_json(tab, hosts_plan(tab, HOSTS_MAX, NULL));
}

/* The endpoint's capabilities as results.json lists them (NULL-terminated, borrowed). */
static const char **caps_of(const json_t *results)
{
	const json_t *a = json_object_get(json_object_get(results, "endpoint"), "capabilities");
	const char **caps;
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return NULL; /* all declared */
	caps = calloc(json_array_size(a) + 1, sizeof(*caps));
	json_array_foreach(a, i, v)
	{
		if (caps)
			caps[i] = json_string_value(v) ? json_string_value(v) : "";
	}
	return caps;
}

/* Adds {"by","verdicts"} of a fault run's result.json to cols[scenario]. */
static void fault_columns(const char *run_dir, const json_t *results, json_t *cols)
{
	const json_t *f, *run;
	size_t i, k;

	json_array_foreach(json_object_get(json_object_get(results, "selftest"), "faults"), i, f)
	{
		json_array_foreach(json_object_get(f, "runs"), k, run)
		{
			char path[PATH_MAX], by[128];
			json_t *res, *v = json_object(), *ch;
			size_t m;

			snprintf(path, sizeof(path), "%s/%s/result.json", run_dir,
			         sget(run, "dir"));
			if (!*sget(run, "dir") || !(res = load_json(path))) {
				json_decref(v);
				continue;
			}
			json_array_foreach(json_object_get(res, "checks"), m, ch)
			{
				json_object_set_new(
				        v, sget(ch, "id"),
				        json_string(kill_word(
				                sget(ch, "verdict"),
				                json_is_true(json_object_get(ch, "unwitnessed")))));
			}
			json_decref(res);
			snprintf(by, sizeof(by), "fault:%s", sget(f, "fault"));
			json_t *list = json_object_get(cols, sget(run, "scenario"));
			if (!list) {
				list = json_array();
				json_object_set_new(cols, sget(run, "scenario"), list);
			}
			json_array_append_new(list,
			                      json_pack("{s:s,s:o}", "by", by, "verdicts", v));
		}
	}
}

/* The rows: every check of every fault-free scenario, with the columns that kill it. */
static json_t *rows(const json_t *results, const json_t *cols, const json_t *offline)
{
	json_t *out = json_array(), *s, *ch;
	size_t i, k;

	json_array_foreach(json_object_get(results, "scenarios"), i, s)
	{
		const char *sid = sget(s, "id");
		const json_t *oc = json_object_get(json_object_get(offline, sid), "clean");

		json_array_foreach(json_object_get(s, "checks"), k, ch)
		{
			const char *cid = sget(ch, "id"), *clean = sget(ch, "verdict");
			json_t *killers = json_array(), *col;
			size_t m;
			int killed = 0;

			json_array_foreach(json_object_get(cols, sid), m, col)
			{
				const char *by = sget(col, "by");
				const char *v = sget(json_object_get(col, "verdicts"), cid);
				int mut = !strncmp(by, "mutation:", 9);
				/* A mutation's baseline is the offline judgement of the same
				 * timeline; it must pass too. */
				if (strcmp(clean, "pass") || (mut && strcmp(sget(oc, cid), "pass")))
					continue;
				if (strcmp(v, "fail") && strcmp(v, "error") &&
				    strcmp(v, "unwitnessed"))
					continue;
				killed |= !strcmp(v, "fail");
				json_array_append_new(
				        killers, json_pack("{s:s,s:s}", "by", by, "verdict", v));
			}
			json_array_append_new(
			        out,
			        json_pack("{s:s,s:s,s:O,s:s,s:b,s:o}", "scenario", sid, "check",
			                  cid, "req", json_object_get(ch, "req") ?: json_array(),
			                  "clean", clean, "killed", killed, "killed_by", killers));
		}
	}
	return out;
}

static int has_string(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;
	json_array_foreach(a, i, v)
	{
		if (json_string_value(v) && !strcmp(json_string_value(v), s))
			return 1;
	}
	return 0;
}

/* Requirements without a killed check: every known one when the run covered every scenario,
 * else those the judged checks name. */
static json_t *reqs_never_killed(const json_t *matrix_rows, int all)
{
	json_t *named = json_array(), *killed = json_array(), *out = json_array(), *r, *q;
	size_t i, k;

	json_array_foreach(matrix_rows, i, r)
	{
		json_array_foreach(json_object_get(r, "req"), k, q)
		{
			if (!has_string(named, json_string_value(q)))
				json_array_append(named, q);
			if (json_is_true(json_object_get(r, "killed")) &&
			    !has_string(killed, json_string_value(q)))
				json_array_append(killed, q);
		}
	}
	for (i = 0; i < conform_requirement_count(); i++) {
		const char *id = conform_requirement_get(i)->id;
		if ((all || has_string(named, id)) && !has_string(killed, id))
			json_array_append_new(out, json_string(id));
	}
	json_decref(named);
	json_decref(killed);
	return out;
}

int selftest_matrix_from_run(const char *run_dir, const json_t *results, const char *scen_dir,
                             json_t **matrixp, char *err, size_t errlen)
{
	json_t *cols = json_object(), *offline = json_object(), *s, *m = NULL, *columns;
	const char **caps = caps_of(results);
	struct conform_scenario **all = NULL;
	size_t nall = 0, i;
	int e = 0;

	if (!cols || !offline) {
		e = ENOMEM;
		goto out;
	}
	if ((e = conform_scenario_load_dir(&all, &nall, scen_dir, err, errlen)))
		goto out;
	fault_columns(run_dir, results, cols);
	json_array_foreach(json_object_get(results, "scenarios"), i, s)
	{
		char path[PATH_MAX];
		const struct conform_scenario *sc = NULL;
		json_t *tl, *hosts, *j;

		for (size_t k = 0; k < nall; k++)
			if (!strcmp(conform_scenario_id(all[k]), sget(s, "id")))
				sc = all[k];
		if (!sc || !*sget(s, "dir"))
			continue; /* no scenario file or no run folder: fault columns only */
		snprintf(path, sizeof(path), "%s/%s/timeline.json", run_dir, sget(s, "dir"));
		if (!(tl = load_json(path)))
			continue; /* the scenario never got as far as a timeline */
		snprintf(path, sizeof(path), "%s/%s/hosts.json", run_dir, sget(s, "dir"));
		hosts = load_plan(path);
		j = selftest_judge_mutations(sc, tl, json_object_get(hosts, "hosts"), caps, err,
		                             errlen);
		json_decref(tl);
		json_decref(hosts);
		if (!j) {
			e = EINVAL;
			goto out;
		}
		json_t *list = json_object_get(cols, sget(s, "id"));
		if (!list) {
			list = json_array();
			json_object_set_new(cols, sget(s, "id"), list);
		}
		json_array_extend(list, json_object_get(j, "columns"));
		json_object_set_new(offline, sget(s, "id"), j);
	}
	m = json_object();
	json_t *r = rows(results, cols, offline), *never = json_array(), *row;
	int nkilled = 0;
	json_array_foreach(r, i, row)
	{
		char name[256];
		if (json_is_true(json_object_get(row, "killed"))) {
			nkilled++;
			continue;
		}
		snprintf(name, sizeof(name), "%s/%s", sget(row, "scenario"), sget(row, "check"));
		json_array_append_new(never, json_string(name));
	}
	columns = json_array();
	{
		const char *sid;
		json_t *list, *c;
		json_object_foreach(cols, sid, list)
		{
			json_array_foreach(list, i, c)
			{
				if (!has_string(columns, sget(c, "by")))
					json_array_append_new(columns, json_string(sget(c, "by")));
			}
		}
	}
	json_object_set_new(
	        m, "requirements_never_killed",
	        reqs_never_killed(r,
	                          json_array_size(json_object_get(results, "scenarios")) >= nall));
	json_object_set_new(m, "counts",
	                    json_pack("{s:i,s:i,s:i,s:i}", "checks", (int)json_array_size(r),
	                              "killed", nkilled, "never_killed",
	                              (int)json_array_size(never), "columns",
	                              (int)json_array_size(columns)));
	json_object_set_new(m, "checks", r);
	json_object_set_new(m, "never_killed", never);
	json_object_set_new(m, "columns", columns);
	*matrixp = m;
	m = NULL;
out:
	json_decref(m);
	json_decref(cols);
	json_decref(offline);
	conform_scenario_list_free(all, nall);
	free(caps);
	return e;
}

void selftest_print(const json_t *matrix, FILE *f)
{
	const json_t *r, *k, *counts = json_object_get(matrix, "counts");
	size_t i, j;

	fprintf(f,
	        "kill matrix (a check is killed by a column where it fails and passes "
	        "fault-free):\n");
	json_array_foreach(json_object_get(matrix, "checks"), i, r)
	{
		char id[128];
		snprintf(id, sizeof(id), "%s/%s", sget(r, "scenario"), sget(r, "check"));
		fprintf(f, "  %-28s %-5s ", id, sget(r, "clean"));
		if (!json_is_true(json_object_get(r, "killed")))
			fputs("NEVER KILLED ", f);
		json_array_foreach(json_object_get(r, "killed_by"), j, k)
		{
			int fail = !strcmp(sget(k, "verdict"), "fail");
			fprintf(f, "%s%s%s%s%s", j ? " " : "", sget(k, "by"), fail ? "" : "(",
			        fail ? "" : sget(k, "verdict"), fail ? "" : ")");
		}
		fputc('\n', f);
	}
	fprintf(f, "checks: %d, killed: %d, never killed: %d (columns: %d)\n",
	        (int)json_integer_value(json_object_get(counts, "checks")),
	        (int)json_integer_value(json_object_get(counts, "killed")),
	        (int)json_integer_value(json_object_get(counts, "never_killed")),
	        (int)json_integer_value(json_object_get(counts, "columns")));
	json_array_foreach(json_object_get(matrix, "never_killed"), i, r)
	{
		fprintf(f, "%s%s", i ? " " : "never killed: ", json_string_value(r));
	}
	if (json_array_size(json_object_get(matrix, "never_killed")))
		fputc('\n', f);
	json_array_foreach(json_object_get(matrix, "requirements_never_killed"), i, r)
	{
		fprintf(f, "%s%s",
		        i ? " " : "requirements with no killed check: ", json_string_value(r));
	}
	if (json_array_size(json_object_get(matrix, "requirements_never_killed")))
		fputc('\n', f);
}

int selftest_matrix_exit(const json_t *matrix)
{
	return json_array_size(json_object_get(matrix, "never_killed")) ||
	        json_array_size(json_object_get(matrix, "requirements_never_killed"));
}

int selftest_offline_main(const char *run_dir, const char *json_out)
{
	char path[PATH_MAX], err[512] = "";
	json_t *res, *m = NULL;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	snprintf(path, sizeof(path), "%s/results.json", run_dir);
	if (!(res = load_json(path)) || !json_is_array(json_object_get(res, "scenarios"))) {
		fprintf(stderr, "onsight-conform: %s: not a results document\n", path);
		json_decref(res);
		return 2;
	}
	if (selftest_matrix_from_run(run_dir, res, conform_scenario_default_dir(), &m, err,
	                             sizeof(err))) {
		fprintf(stderr, "onsight-conform: selftest --offline: %s\n", err);
		json_decref(res);
		return 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	selftest_print(m, stdout);
	printf("onsight-conform: selftest --offline judged in %.2f s\n",
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	int code = selftest_matrix_exit(m);
	if (json_out && json_dump_file(m, json_out, JSON_INDENT(2) | JSON_SORT_KEYS)) {
		fprintf(stderr, "onsight-conform: %s: cannot write\n", json_out);
		code = 3;
	}
	json_decref(m);
	json_decref(res);
	return code;
}
