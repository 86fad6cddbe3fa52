/* judge.c - a scenario judged over its captures and journals by the analysis library. */

#define LOG_TAG "scenario"
#include "scen_int.h"

#include "adapter.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- judgement ------------------------------------------------------------------------------ */

static void caps_list(unsigned caps, const char **out, size_t n)
{
	size_t k = 0;
	for (unsigned bit = 1; bit && k + 1 < n; bit <<= 1)
		if (caps & bit && adapter_cap_name(bit))
			out[k++] = adapter_cap_name(bit);
	out[k] = NULL;
}

/* Judges the scenario over its captures and journals; returns the checks (new reference). */
json_t *scen_judge(struct scen *s, const json_t *artifacts, int with_data)
{
	struct conform_timeline *t = NULL;
	struct conform_results *r = NULL;
	const char *caps[8];
	char err[512], path[PATH_MAX];
	json_t *checks = NULL, *a;
	size_t i;
	int e;

	if ((e = conform_timeline_alloc(&t, NULL))) {
		scen_harness(s, V_ERROR, "timeline: %s", strerror(e));
		goto out;
	}
	scen_pathf(path, sizeof(path), "%s/hosts.json", s->dir);
	if (with_data && (e = conform_hosts_load(t, path, err, sizeof(err)))) {
		scen_harness(s, V_ERROR, "lab plan: %s", err);
		goto out;
	}
	json_array_foreach((json_t *)artifacts, i, a)
	{
		const char *kind = json_string_value(json_object_get(a, "kind"));
		scen_pathf(path, sizeof(path), "%s/%s", s->dir,
		           json_string_value(json_object_get(a, "path")));
		if (!with_data)
			break;
		if (!strcmp(kind, "capture"))
			e = conform_timeline_add_pcap(t, path,
			                              json_string_value(json_object_get(a, "name")),
			                              err, sizeof(err));
		else if (!strcmp(kind, "journal"))
			e = conform_timeline_add_journal(
			        t, path, json_string_value(json_object_get(a, "service")), err,
			        sizeof(err));
		else
			continue;
		if (e) {
			scen_harness(s, V_ERROR, "reading %s: %s", path, err);
			goto out;
		}
	}
	scen_pathf(path, sizeof(path), "%s/timeline.json", s->dir);
	if (conform_timeline_save(t, path, err, sizeof(err)))
		log_warnx("%s", err);
	caps_list(adapter_caps(s->sp->ad), caps, ARRAY_SIZE(caps));
	if ((e = conform_analyze(&r, s->sp->sc, t, caps))) {
		scen_harness(s, V_ERROR, "judging: %s", strerror(e));
		goto out;
	}
	json_t *rj = conform_results_json(r);
	checks = json_incref(json_object_get(rj, "checks"));
	json_decref(rj);
	/* Our verdict vocabulary: "n/a" is "na" (it is also a CSS class in the report). */
	json_array_foreach(checks, i, a)
	{
		if (!strcmp(json_string_value(json_object_get(a, "verdict")) ?: "", "n/a"))
			json_object_set_new(a, "verdict", json_string(V_NA));
		if (json_is_null(json_object_get(a, "reason")))
			json_object_del(a, "reason");
	}
out:
	conform_results_free(r);
	conform_timeline_free(t);
	return checks ? checks : json_array();
}

const char *scen_verdict(const struct scen *s, const json_t *checks)
{
	const json_t *c;
	size_t i;
	int fail = 0, pass = 0;

	if (s->hverdict[0])
		return s->hverdict;
	/* A step the scenario depends on failed: its checks are still reported, but what they
	 * saw is not the scenario, so it cannot pass. */
	if (s->pverdict[0])
		return s->pverdict;
	json_array_foreach(checks, i, c)
	{
		const char *v = json_string_value(json_object_get(c, "verdict")) ?: "";
		if (!strcmp(v, V_PASS))
			pass++;
		else if (strcmp(v, V_NA))
			fail++; /* a check that could not be evaluated is not a pass */
	}
	return fail ? V_FAIL : pass ? V_PASS : V_NA;
}
