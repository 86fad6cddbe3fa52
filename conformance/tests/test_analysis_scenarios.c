/* test_analysis_scenarios.c - the scenario loader: shipped files load, mistakes are rejected
 * with their place, steps come out typed, requirements and coverage line up. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform/analysis.h"
#include "testutil.h"

#define SCN_DIR ONSIGHT_SOURCE_DIR "/conformance/scenarios"

static const char good[] =
        "{\"id\":\"X1\",\"title\":\"t\",\"profile\":\"s1\",\"account\":\"alice\","
        "\"requires\":[\"oam-login\"],\"deadline_s\":30,\"lab\":{\"start\":\"inside\"},"
        "\"steps\":[{\"do\":\"wait\",\"for\":\"registered\",\"timeout_s\":5},"
        "{\"do\":\"call-in\"},{\"do\":\"migrate\",\"to\":\"outside\"},"
        "{\"do\":\"apply\",\"profile\":\"open\"},{\"do\":\"sleep\",\"seconds\":2},"
        "{\"do\":\"stop\"}],"
        "\"checks\":[{\"id\":\"X1.1\",\"req\":[\"R-AUTH-1\"],\"description\":\"d\","
        "\"catches\":[\"ignore-cert-errors\"],"
        "\"rule\":{\"expect\":{\"kind\":\"tls.client_hello\"}}}]}";

/* Replaces the first `from` in good with `to` and returns whether the result loads; the
 * message goes to err. */
static int load_edit(const char *from, const char *to, char *err, size_t errlen)
{
	char doc[4096];
	const char *p = strstr(good, from);
	struct conform_scenario *s = NULL;
	int rc;

	ck_assert_ptr_nonnull(p);
	snprintf(doc, sizeof(doc), "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
	rc = conform_scenario_parse(&s, doc, strlen(doc), "x.json", err, errlen);
	conform_scenario_free(s);
	return rc;
}

START_TEST(test_shipped_scenarios_load_and_cite_known_requirements)
{
	struct conform_scenario **list = NULL;
	size_t n = 0;
	char err[1024];
	static const char *const want[] = {"S1",
	                                   "S2-inside",
	                                   "S2-outside",
	                                   "S2-migrate",
	                                   "S3-inside",
	                                   "S3-outside",
	                                   "S4",
	                                   "N-untrusted-cert",
	                                   "N-https-only",
	                                   "N-http-fallback",
	                                   "N-proxy-allowlist",
	                                   "N-media-range",
	                                   "N-probe-disabled"};

	if (conform_scenario_load_dir(&list, &n, SCN_DIR, err, sizeof(err)))
		ck_abort_msg("%s", err);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		bool found = false;

		for (size_t i = 0; i < n; i++)
			found |= !strcmp(conform_scenario_id(list[i]), want[w]);
		ck_assert_msg(found, "scenario %s missing", want[w]);
	}
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_gt(conform_scenario_check_count(list[i]), 0);
		for (size_t c = 0; c < conform_scenario_check_count(list[i]); c++) {
			const struct conform_check_info *ci = conform_scenario_check(list[i], c);

			ck_assert_ptr_nonnull(ci->req[0]);
			for (size_t k = 0; ci->req[k]; k++)
				ck_assert_ptr_nonnull(conform_requirement_find(ci->req[k]));
		}
	}
	conform_scenario_list_free(list, n);
}
END_TEST

START_TEST(test_every_reference_fault_is_caught_by_some_check)
{
	static const char *const faults[] = {
	        "skip-options-probe",     "register-private-only", "sip-via-proxy",
	        "no-teamlink-fallback",   "teamlink-always",       "probe-when-disabled",
	        "wrong-detect-target",    "ignore-cert-errors",    "media-out-of-range",
	        "no-redetect-on-migrate", "http-before-https"};
	struct conform_scenario **list = NULL;
	size_t n = 0;
	char err[1024];

	if (conform_scenario_load_dir(&list, &n, SCN_DIR, err, sizeof(err)))
		ck_abort_msg("%s", err);
	for (size_t f = 0; f < sizeof(faults) / sizeof(faults[0]); f++) {
		bool caught = false;

		for (size_t i = 0; i < n && !caught; i++)
			for (size_t c = 0; c < conform_scenario_check_count(list[i]) && !caught;
			     c++)
				for (const char *const *k =
				             conform_scenario_check(list[i], c)->catches;
				     *k; k++)
					caught |= !strcmp(*k, faults[f]);
		ck_assert_msg(caught, "no check declares it catches %s", faults[f]);
	}
	conform_scenario_list_free(list, n);
}
END_TEST

START_TEST(test_steps_come_out_typed_with_defaults)
{
	struct conform_scenario *s = NULL;
	const struct conform_step *st;
	char err[256];

	ck_assert_int_eq(conform_scenario_parse(&s, good, strlen(good), "x", err, sizeof(err)), 0);
	ck_assert_uint_eq(conform_scenario_step_count(s), 6);
	st = conform_scenario_step(s, 0);
	ck_assert_int_eq(st->kind, CONFORM_STEP_WAIT);
	ck_assert_str_eq(st->event, "registered");
	ck_assert(st->timeout_s == 5);
	st = conform_scenario_step(s, 1);
	ck_assert_int_eq(st->kind, CONFORM_STEP_CALL_IN);
	ck_assert(st->seconds == 3 && st->timeout_s == 10);
	ck_assert_str_eq(conform_scenario_step(s, 2)->to, "outside");
	ck_assert_str_eq(conform_scenario_step(s, 3)->profile, "open");
	ck_assert(conform_scenario_step(s, 4)->seconds == 2);
	ck_assert_int_eq(conform_scenario_step(s, 5)->kind, CONFORM_STEP_STOP);
	ck_assert_ptr_null(conform_scenario_step(s, 6));
	ck_assert_str_eq(conform_scenario_id(s), "X1");
	ck_assert_str_eq(conform_scenario_profile(s), "s1");
	ck_assert_str_eq(conform_scenario_account(s), "alice");
	ck_assert(conform_scenario_deadline(s) == 30);
	ck_assert_str_eq(conform_scenario_requires(s)[0], "oam-login");
	ck_assert_str_eq(json_string_value(json_object_get(conform_scenario_lab(s), "start")),
	                 "inside");
	ck_assert_str_eq(conform_scenario_check(s, 0)->catches[0], "ignore-cert-errors");
	conform_scenario_free(s);
}
END_TEST

START_TEST(test_loader_rejects_mistakes_and_says_where)
{
	char err[512];

	ck_assert_int_ne(load_edit("\"deadline_s\"", "\"deadline\"", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "unknown key \"deadline\""), "%s", err);
	ck_assert_int_ne(load_edit("\"R-AUTH-1\"", "\"R-NOPE-9\"", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "unknown requirement \"R-NOPE-9\""), "%s", err);
	ck_assert_int_ne(load_edit("\"expect\"", "\"expects\"", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "X1.1") && strstr(err, "expects"), "%s", err);
	ck_assert_int_ne(load_edit("{\"kind\":\"tls.client_hello\"}",
	                           "{\"sni\":{\"regex\":\"([a-\"}}", err, sizeof(err)),
	                 0);
	ck_assert_msg(strstr(err, "bad regular expression"), "%s", err);
	/* Stacked repetitions double glibc's compiled tree each time (found by fuzz_adapter). */
	ck_assert_int_ne(load_edit("{\"kind\":\"tls.client_hello\"}",
	                           "{\"sni\":{\"regex\":\"a++++++++++++++++++++++++++++++++\"}}",
	                           err, sizeof(err)),
	                 0);
	ck_assert_msg(strstr(err, "regular expression a repetition operator right after another"),
	              "%s", err);
	ck_assert_int_ne(load_edit("{\"kind\":\"tls.client_hello\"}",
	                           "{\"dst_ip\":{\"cidr\":\"203.0.113.0/33\"}}", err, sizeof(err)),
	                 0);
	ck_assert_msg(strstr(err, "not an address or CIDR"), "%s", err);
	ck_assert_int_ne(load_edit("\"to\":\"outside\"", "\"to\":\"mars\"", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "steps[2].to"), "%s", err);
	ck_assert_int_ne(load_edit("\"do\":\"stop\"", "\"do\":\"explode\"", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "unknown step \"explode\""), "%s", err);
	ck_assert_int_ne(
	        load_edit("\"title\":\"t\"", "\"title\":\"t\",\"title\":\"u\"", err, sizeof(err)),
	        0);
	ck_assert_int_ne(load_edit("{\"kind\":\"tls.client_hello\"}",
	                           "{\"kind\":\"x\"},\"window\":{\"within_s\":3}", err,
	                           sizeof(err)),
	                 0);
	ck_assert_msg(strstr(err, "within_s needs"), "%s", err);
	ck_assert_int_ne(load_edit("{\"kind\":\"tls.client_hello\"}", "{\"dst_port\":[5060,5061]}",
	                           err, sizeof(err)),
	                 0);
	ck_assert_msg(strstr(err, "one_of"), "%s", err);
	ck_assert_int_ne(load_edit("{\"id\":\"X1\"", "{\"id\":\"X 1\"", err, sizeof(err)), 0);
	ck_assert_int_eq(load_edit("\"X1.1\"", "\"X1.2\"", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_find_by_id_and_coverage_matrix)
{
	struct conform_scenario **list = NULL, *s = NULL;
	size_t n = 0;
	char err[1024];
	json_t *cov;
	size_t i;
	json_t *row;
	bool auth1_covered = false;

	ck_assert_int_eq(conform_scenario_find(&s, SCN_DIR, "S2-inside", err, sizeof(err)), 0);
	ck_assert_str_eq(conform_scenario_id(s), "S2-inside");
	conform_scenario_free(s);
	ck_assert_int_eq(conform_scenario_find(&s, SCN_DIR, "S9", err, sizeof(err)), ENOENT);
	ck_assert_int_eq(conform_scenario_load_dir(&list, &n, SCN_DIR, err, sizeof(err)), 0);
	cov = conform_coverage(list, n);
	ck_assert_uint_eq(json_array_size(cov), conform_requirement_count());
	json_array_foreach(cov, i, row)
	{
		if (!strcmp(json_string_value(json_object_get(row, "req")), "R-AUTH-1"))
			auth1_covered = json_array_size(json_object_get(row, "checks")) > 0;
		/* every requirement of the table is checked somewhere */
		ck_assert_msg(json_array_size(json_object_get(row, "checks")) > 0, "%s uncovered",
		              json_string_value(json_object_get(row, "req")));
	}
	ck_assert(auth1_covered);
	json_decref(cov);
	conform_scenario_list_free(list, n);
}
END_TEST

START_TEST(test_requirements_doc_lists_the_same_ids)
{
	char *buf = NULL;
	FILE *f = fopen(ONSIGHT_SOURCE_DIR "/docs/requirements.md", "r");
	size_t len = 0;

	ck_assert_ptr_nonnull(f);
	buf = calloc(1, 262144);
	len = fread(buf, 1, 262143, f);
	fclose(f);
	ck_assert_uint_gt(len, 0);
	for (size_t i = 0; i < conform_requirement_count(); i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "| %s |", conform_requirement_get(i)->id);
		ck_assert_msg(strstr(buf, needle), "docs/requirements.md lacks a row for %s",
		              conform_requirement_get(i)->id);
	}
	free(buf);
}
END_TEST

START_TEST(test_witness_is_validated_and_loads)
{
	char err[512];

	ck_assert_int_eq(load_edit("\"steps\"",
	                           "\"witness\":{\"kind\":\"mock-sip.register\",\"at\":{\"host\":"
	                           "\"vcs-*\"}},\"steps\"",
	                           err, sizeof(err)),
	                 0);
	ck_assert_int_ne(load_edit("\"steps\"", "\"witness\":{\"src_ip\":{\"host\":[]}},\"steps\"",
	                           err, sizeof(err)),
	                 0);
	ck_assert_str_eq(err,
	                 "x.json: witness.src_ip.host: takes a string or a non-empty list of "
	                 "strings");
	ck_assert_int_ne(load_edit("\"steps\"", "\"witness\":{},\"steps\"", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "x.json: witness: a match is a non-empty object"), "%s", err);
}
END_TEST

/* An endpoint that does nothing (`sleep 1000`) gives an empty timeline: every shipped check
 * must fail on it, each saying what evidence it needed. */
START_TEST(test_every_shipped_check_fails_an_endpoint_that_did_nothing)
{
	struct conform_scenario **list = NULL;
	size_t n = 0;
	char err[1024];

	if (conform_scenario_load_dir(&list, &n, SCN_DIR, err, sizeof(err)))
		ck_abort_msg("%s", err);
	for (size_t i = 0; i < n; i++) {
		struct conform_timeline *t = NULL;
		struct conform_results *r = NULL;

		ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
		ck_assert_int_eq(conform_analyze(&r, list[i], t, NULL), 0);
		for (size_t c = 0; c < conform_results_count(r); c++) {
			const struct conform_result *res = conform_results_get(r, c);

			ck_assert_msg(res->verdict == CONFORM_FAIL, "%s %s: %s (%s)",
			              conform_scenario_id(list[i]), res->check->id,
			              conform_verdict_name(res->verdict),
			              res->reason ? res->reason : res->observed);
			ck_assert_msg(res->needs && strlen(res->needs) > 5, "%s: no needs",
			              res->check->id);
		}
		conform_results_free(r);
		conform_timeline_free(t);
	}
	conform_scenario_list_free(list, n);
}
END_TEST

TU_SUITE("analysis_scenarios", test_shipped_scenarios_load_and_cite_known_requirements,
         test_every_reference_fault_is_caught_by_some_check,
         test_steps_come_out_typed_with_defaults, test_loader_rejects_mistakes_and_says_where,
         test_find_by_id_and_coverage_matrix, test_requirements_doc_lists_the_same_ids,
         test_witness_is_validated_and_loads,
         test_every_shipped_check_fails_an_endpoint_that_did_nothing)
