/* test_analysis_rules.c - checks judged over journal timelines: expect/forbid/order, windows,
 * matchers, capabilities, and the expected-vs-observed texts. */
#include <stdlib.h>
#include <string.h>

#include "conform/analysis.h"
#include "rule_int.h"
#include "testutil.h"

/* A small timeline: login, detect (with probes), two registers, a tunnel. */
static const char journal[] =
        "{\"ts\":\"2026-11-24T10:00:00.000Z\",\"mono\":1,\"service\":\"mock-oam\","
        "\"event\":\"login\",\"client\":\"198.51.100.10\",\"status\":200,\"user\":\"alice\"}\n"
        "{\"ts\":\"2026-11-24T10:00:00.500Z\",\"mono\":1.5,\"service\":\"mock-oam\","
        "\"event\":\"config\",\"client\":\"198.51.100.10\",\"status\":200}\n"
        "not json at all\n"
        "{\"ts\":\"2026-11-24T10:00:01.000Z\",\"mono\":2,\"event\":\"detect\","
        "\"result\":\"teamlink\",\"probes\":[{\"target\":\"sip.librestream.com\",\"port\":5060,"
        "\"ok\":false},{\"target\":\"sip.librestream.com\",\"port\":3478,\"ok\":false}]}\n"
        "{\"ts\":\"2026-11-24T10:00:03.000Z\",\"mono\":4,\"service\":\"mock-teamlink\","
        "\"event\":\"tunnel.open\",\"client\":\"203.0.113.2:40000\",\"scheme\":\"https\","
        "\"via_proxy\":true}\n"
        "{\"ts\":\"2026-11-24T10:00:03.100Z\",\"mono\":4.1,\"service\":\"mock-teamlink\","
        "\"event\":\"channel.open\",\"kind\":\"sip\",\"host\":\"sip.librestream.com\"}\n"
        "{\"ts\":\"2026-11-24T10:00:02.000Z\",\"mono\":3,\"service\":\"mock-sip\","
        "\"event\":\"register\",\"source\":\"203.0.113.41:51000\",\"result\":\"challenge\"}\n"
        "{\"ts\":\"2026-11-24T10:00:05.000Z\",\"mono\":6,\"service\":\"mock-sip\","
        "\"event\":\"register\",\"source\":\"203.0.113.41:51000\",\"result\":\"ok\","
        "\"expires\":300}\n";

static struct conform_timeline *tl(void)
{
	struct conform_timeline *t = NULL;
	char err[256];

	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	ck_assert_int_eq(conform_timeline_add_journal_mem(t, journal, strlen(journal),
	                                                  "onsight-ref", err, sizeof(err)),
	                 0);
	return t;
}

/* These journal timelines hold no packet from the endpoint: the scenarios below take its
 * login as the witness that it did something. */
#define LOGIN_WITNESS "{\"kind\":\"mock-oam.login\"}"

/* A one-check scenario around rule, with the given witness (NULL: the default). */
static void scenario_doc(char *doc, size_t len, const char *rule, const char *requires,
                         const char *witness)
{
	char w[512] = "";

	if (witness)
		snprintf(w, sizeof(w), "\"witness\":%s,", witness);
	snprintf(doc, len,
	         "{\"id\":\"T\",\"title\":\"t\",\"profile\":\"open\",\"account\":\"alice\","
	         "%s\"steps\":[],\"checks\":[{\"id\":\"T.1\",\"req\":[\"R-SIP-1\"],"
	         "\"description\":\"d\",\"requires\":[%s],\"rule\":%s}]}",
	         w, requires ? requires : "", rule);
}

/* Runs one rule over the journal timeline (plus `extra` journal lines); returns the verdict
 * and (optionally) "observed | reason". */
static enum conform_verdict judge_full(const char *rule, const char *requires,
                                       const char *const *caps, const char *witness,
                                       const char *extra, char *observed, size_t olen)
{
	char doc[8192], err[512];
	struct conform_scenario *s = NULL;
	struct conform_timeline *t = tl();
	struct conform_results *r = NULL;
	enum conform_verdict v;

	scenario_doc(doc, sizeof(doc), rule, requires, witness);
	if (conform_scenario_parse(&s, doc, strlen(doc), "t", err, sizeof(err)))
		ck_abort_msg("scenario rejected: %s", err);
	if (extra)
		ck_assert_int_eq(conform_timeline_add_journal_mem(t, extra, strlen(extra), "svc",
		                                                  err, sizeof(err)),
		                 0);
	ck_assert_int_eq(conform_analyze(&r, s, t, caps), 0);
	ck_assert_uint_eq(conform_results_count(r), 1);
	v = conform_results_get(r, 0)->verdict;
	if (observed)
		snprintf(observed, olen, "%s | %s", conform_results_get(r, 0)->observed,
		         conform_results_get(r, 0)->reason ? conform_results_get(r, 0)->reason
		                                           : "");
	conform_results_free(r);
	conform_timeline_free(t);
	conform_scenario_free(s);
	return v;
}

static enum conform_verdict judge_caps(const char *rule, const char *requires,
                                       const char *const *caps, char *observed, size_t olen)
{
	return judge_full(rule, requires, caps, LOGIN_WITNESS, NULL, observed, olen);
}

static enum conform_verdict judge(const char *rule)
{
	return judge_caps(rule, NULL, NULL, NULL, 0);
}

/* The load error of a scenario around rule ("" when it loads). */
static const char *compile_err(const char *rule, char *err, size_t errlen)
{
	char doc[8192];
	struct conform_scenario *s = NULL;

	scenario_doc(doc, sizeof(doc), rule, NULL, NULL);
	if (!conform_scenario_parse(&s, doc, strlen(doc), "t", err, errlen))
		err[0] = '\0';
	conform_scenario_free(s);
	return err;
}

/* The result of check T.1 as conform_results_json writes it (caller decrefs), and the text
 * conform_results_print writes into print (may be NULL). */
static json_t *judge_json(const char *rule, const char *witness, const char *extra, char *print,
                          size_t plen)
{
	char doc[8192], err[512];
	struct conform_scenario *s = NULL;
	struct conform_timeline *t = tl();
	struct conform_results *r = NULL;
	json_t *j, *c;

	scenario_doc(doc, sizeof(doc), rule, NULL, witness);
	if (conform_scenario_parse(&s, doc, strlen(doc), "t", err, sizeof(err)))
		ck_abort_msg("scenario rejected: %s", err);
	if (extra)
		ck_assert_int_eq(conform_timeline_add_journal_mem(t, extra, strlen(extra), "svc",
		                                                  err, sizeof(err)),
		                 0);
	ck_assert_int_eq(conform_analyze(&r, s, t, NULL), 0);
	j = conform_results_json(r);
	c = json_incref(json_array_get(json_object_get(j, "checks"), 0));
	if (print) {
		FILE *f = fmemopen(print, plen, "w");

		ck_assert_ptr_nonnull(f);
		conform_results_print(r, f);
		fclose(f);
	}
	json_decref(j);
	conform_results_free(r);
	conform_timeline_free(t);
	conform_scenario_free(s);
	return c;
}

static const char *jstr(const json_t *c, const char *key)
{
	return json_string_value(json_object_get(c, key)) ?: "";
}

START_TEST(test_journal_lines_become_sorted_events_with_service_kinds)
{
	struct conform_timeline *t = tl();
	struct conform_timeline_stats st;
	const json_t *e;

	ck_assert_uint_eq(conform_timeline_count(t), 7);
	conform_timeline_stats(t, &st);
	ck_assert_uint_eq(st.journal_skipped, 1);
	e = conform_timeline_event(t, 2);
	ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "onsight-ref.detect");
	ck_assert_str_eq(json_string_value(json_object_get(e, "src")), "journal:onsight-ref");
	/* The register at 10:00:02 was written after the tunnel lines but sorts before them. */
	e = conform_timeline_event(t, 3);
	ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "mock-sip.register");
	/* A journal "kind" field survives as j_kind. */
	e = conform_timeline_event(t, 5);
	ck_assert_str_eq(json_string_value(json_object_get(e, "j_kind")), "sip");
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_expect_counts_and_forbid_names_offenders)
{
	char obs[2048];

	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\",\"result\":\"ok\"}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\"},\"exactly\":2}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\"},\"at_least\":3}"),
	                 CONFORM_FAIL);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\"},\"at_most\":1}"),
	                 CONFORM_FAIL);
	ck_assert_int_eq(judge_caps("{\"forbid\":{\"kind\":\"mock-teamlink.tunnel.open\"}}", NULL,
	                            NULL, obs, sizeof(obs)),
	                 CONFORM_FAIL);
	ck_assert_msg(strstr(obs, "1 matching"), "%s", obs);
	ck_assert_int_eq(judge_caps("{\"expect\":{\"kind\":\"mock-sip.register\","
	                            "\"result\":\"fail\"}}",
	                            NULL, NULL, obs, sizeof(obs)),
	                 CONFORM_FAIL);
	ck_assert_msg(strstr(obs, "2 event(s) of that kind"), "%s", obs);
}
END_TEST

START_TEST(test_order_detects_wrong_order_and_missing_steps)
{
	ck_assert_int_eq(judge("{\"order\":[{\"kind\":\"mock-oam.login\"},"
	                       "{\"kind\":\"mock-teamlink.tunnel.open\"}]}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"order\":[{\"kind\":\"mock-teamlink.tunnel.open\"},"
	                       "{\"kind\":\"onsight-ref.detect\"}]}"),
	                 CONFORM_FAIL);
	ck_assert_int_eq(
	        judge("{\"order\":[{\"kind\":\"mock-oam.login\"},{\"kind\":\"nothing\"}]}"),
	        CONFORM_FAIL);
	ck_assert_int_eq(judge("{\"order\":[{\"kind\":\"mock-oam.login\"},{\"kind\":\"nothing\"}],"
	                       "\"if_missing\":\"pass\",\"because\":\"nothing may not happen\"}"),
	                 CONFORM_PASS);
}
END_TEST

START_TEST(test_windows_limit_events_to_anchored_time)
{
	/* ok register 4 s after detect: inside 5 s, outside 3 s. */
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\",\"result\":\"ok\"},"
	                       "\"window\":{\"after\":{\"kind\":\"onsight-ref.detect\"},"
	                       "\"within_s\":5}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\",\"result\":\"ok\"},"
	                       "\"window\":{\"after\":{\"kind\":\"onsight-ref.detect\"},"
	                       "\"within_s\":3}}"),
	                 CONFORM_FAIL);
	/* between two anchors */
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\"},\"exactly\":1,"
	                       "\"window\":{\"after\":{\"kind\":\"mock-oam.config\"},"
	                       "\"before\":{\"kind\":\"mock-teamlink.tunnel.open\"}}}"),
	                 CONFORM_PASS);
	/* missing anchor: fail by default, n/a on request */
	ck_assert_int_eq(judge("{\"forbid\":{\"kind\":\"x\"},\"window\":{\"after\":{\"kind\":"
	                       "\"never\"}}}"),
	                 CONFORM_FAIL);
	ck_assert_int_eq(judge("{\"forbid\":{\"kind\":\"x\"},\"window\":{\"after\":{\"kind\":"
	                       "\"never\"}},\"if_missing\":\"n/a\",\"because\":\"no never\"}"),
	                 CONFORM_NA);
	/* last occurrence as anchor */
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\"},\"exactly\":1,"
	                       "\"window\":{\"after\":{\"kind\":\"mock-sip.register\"},"
	                       "\"occurrence\":\"last\"}}"),
	                 CONFORM_PASS);
}
END_TEST

START_TEST(test_matchers_cover_addresses_ranges_regex_and_paths)
{
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\",\"source\":{\"cidr\":"
	                       "\"203.0.113.0/24\"}}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\",\"source\":{\"cidr\":"
	                       "\"198.51.100.0/24\"}}}"),
	                 CONFORM_FAIL);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\",\"source\":{\"host\":"
	                       "\"teamlink*.librestream.com\"}}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-teamlink.channel.open\",\"host\":"
	                       "{\"host\":\"sip.librestream.com\"}}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-sip.register\",\"expires\":{\"range\":"
	                       "\"60-3600\"}}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(
	        judge("{\"expect\":{\"kind\":{\"regex\":\"^mock-(oam|sip)\\\\.login$\"}}}"),
	        CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":{\"glob\":\"mock-teamlink.*\"},"
	                       "\"via_proxy\":true}}"),
	                 CONFORM_PASS);
	/* paths through arrays: any element */
	ck_assert_int_eq(
	        judge("{\"expect\":{\"kind\":\"onsight-ref.detect\",\"probes.port\":3478}}"),
	        CONFORM_PASS);
	ck_assert_int_eq(
	        judge("{\"expect\":{\"kind\":\"onsight-ref.detect\",\"probes.port\":5061}}"),
	        CONFORM_FAIL);
	/* numbers compare with numeric strings; not/exists on absent attributes */
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-oam.login\",\"status\":\"200\"}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-oam.config\",\"user\":{\"exists\":"
	                       "false}}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-oam.config\",\"user\":{\"not\":"
	                       "\"alice\"}}}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"expect\":{\"kind\":\"mock-oam.login\",\"user\":{\"one_of\":"
	                       "[\"bob\",\"carol\"]}}}"),
	                 CONFORM_FAIL);
	ck_assert_int_eq(judge("{\"any\":[{\"expect\":{\"kind\":\"nope\"}},{\"expect\":"
	                       "{\"kind\":\"mock-oam.login\"}}]}"),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge("{\"all\":[{\"expect\":{\"kind\":\"nope\"}},{\"expect\":"
	                       "{\"kind\":\"mock-oam.login\"}}]}"),
	                 CONFORM_FAIL);
}
END_TEST

START_TEST(test_undeclared_capability_gives_na_with_reason)
{
	static const char *const caps[] = {"oam-login", NULL};
	char obs[1024];

	ck_assert_int_eq(judge_caps("{\"expect\":{\"kind\":\"mock-oam.login\"}}", "\"teamlink\"",
	                            caps, obs, sizeof(obs)),
	                 CONFORM_NA);
	ck_assert_msg(strstr(obs, "capability teamlink not declared"), "%s", obs);
	ck_assert_int_eq(judge_caps("{\"expect\":{\"kind\":\"mock-oam.login\"}}", "\"oam-login\"",
	                            caps, NULL, 0),
	                 CONFORM_PASS);
}
END_TEST

START_TEST(test_cidr_and_addresses_with_ports)
{
	struct conform_timeline *t = NULL;
	char doc[] =
	        "{\"ts\":\"2026-11-24T10:00:00Z\",\"event\":\"x\",\"a\":\"[2001:db8::5]:5060\","
	        "\"b\":\"2001:db8::5\",\"c\":\"198.51.100.10:5060\"}\n";
	char err[128];

	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	ck_assert_int_eq(
	        conform_timeline_add_journal_mem(t, doc, strlen(doc), "svc", err, sizeof(err)), 0);
	ck_assert_uint_eq(conform_timeline_count(t), 1);
	conform_timeline_free(t);
	ck_assert_int_eq(judge("{\"forbid\":{\"kind\":\"mock-oam.login\",\"client\":{\"cidr\":"
	                       "[\"2001:db8::/32\",\"198.51.100.0/25\"]}}}"),
	                 CONFORM_FAIL);
	ck_assert_int_eq(judge("{\"forbid\":{\"kind\":\"mock-oam.login\",\"client\":{\"cidr\":"
	                       "\"198.51.100.128/25\"}}}"),
	                 CONFORM_PASS);
}
END_TEST

START_TEST(test_timeline_saves_as_a_json_array)
{
	struct conform_timeline *t = tl();
	char *dir = tu_mkdtemp(), path[512], err[256];
	json_error_t je;
	json_t *a;

	snprintf(path, sizeof(path), "%s/timeline.json", dir);
	ck_assert_int_eq(conform_timeline_save(t, path, err, sizeof(err)), 0);
	a = json_load_file(path, 0, &je);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(json_array_size(a), 7);
	ck_assert(json_number_value(json_object_get(json_array_get(a, 0), "t")) <=
	          json_number_value(json_object_get(json_array_get(a, 6), "t")));
	json_decref(a);
	conform_timeline_free(t);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_compile_errors_name_each_operator_and_its_path)
{
	static const struct {
		const char *rule, *want;
	} cases[] = {
	        {"{\"expect\":{\"a\":{\"eq\":[1]}}}", "rule.expect.a.eq: eq takes a string"},
	        {"{\"expect\":{\"a\":{\"one_of\":[]}}}",
	         "rule.expect.a.one_of: one_of takes a "
	         "non-empty list"},
	        {"{\"expect\":{\"a\":{\"one_of\":[{}]}}}", "one_of takes plain values"},
	        {"{\"expect\":{\"a\":{\"regex\":5}}}", "rule.expect.a.regex: regex takes a string"},
	        {"{\"expect\":{\"a\":{\"regex\":\"(a\"}}}", "bad regular expression"},
	        {"{\"expect\":{\"a\":{\"regex\":\"a**\"}}}", "regular expression a repetition"},
	        {"{\"expect\":{\"a\":{\"glob\":1}}}", "rule.expect.a.glob: takes a string"},
	        {"{\"expect\":{\"a\":{\"contains\":null}}}",
	         "rule.expect.a.contains: takes a "
	         "string"},
	        {"{\"expect\":{\"a\":{\"cidr\":\"192.0.2.0/40\"}}}",
	         "rule.expect.a.cidr: "
	         "\"192.0.2.0/40\" is not an "
	         "address or CIDR prefix"},
	        {"{\"expect\":{\"a\":{\"cidr\":[]}}}", "takes a string or a non-empty list"},
	        {"{\"expect\":{\"a\":{\"host\":[1]}}}", "rule.expect.a.host: takes strings"},
	        {"{\"expect\":{\"a\":{\"range\":[9,1]}}}", "rule.expect.a.range: range takes"},
	        {"{\"expect\":{\"a\":{\"range\":\"1-\"}}}", "range takes [low, high]"},
	        {"{\"expect\":{\"a\":{\"exists\":1}}}", "rule.expect.a.exists: exists takes true"},
	        {"{\"expect\":{\"a\":{\"not\":{\"range\":1}}}}", "rule.expect.a.not.range: range"},
	        {"{\"expect\":{\"a\":{\"any_of\":[]}}}",
	         "rule.expect.a.any_of: takes a non-empty "
	         "list of matchers"},
	        {"{\"expect\":{\"a\":{\"all_of\":[1,{\"glob\":2}]}}}",
	         "rule.expect.a.all_of[1]."
	         "glob: takes a string"},
	        {"{\"expect\":{\"a\":{\"near\":1}}}",
	         "unknown matcher \"near\" (eq, one_of, regex, "
	         "glob, contains, cidr, host, range, exists, "
	         "not, any_of, all_of)"},
	        {"{\"expect\":{\"a\":{\"glob\":\"x\",\"regex\":\"y\"}}}", "exactly one key"},
	        {"{\"expect\":{}}", "rule.expect: a match is a non-empty object"},
	        {"{\"forbid\":{\"a\":1},\"at_most\":2}", "at_most belongs to expect rules"},
	        {"{\"order\":[{\"a\":1}]}", "rule.order: takes a list of 2 or more matches"},
	        {"{\"order\":[{\"a\":1},{\"b\":{\"exists\":0}}]}", "rule.order[1].b.exists"},
	        {"{\"all\":[]}", "rule.all: takes a list of rules"},
	        {"{\"any\":[{\"forbid\":{\"a\":[1]}}]}", "rule.any[0].forbid.a: a list is not"},
	        {"{\"expect\":{\"a\":1},\"forbid\":{\"a\":1}}", "rule has both"},
	        {"{\"expect\":{\"a\":1},\"window\":{\"after\":{\"a\":{\"cidr\":\"x\"}}}}",
	         "rule.window.after.a.cidr"},
	        {"{\"all\":[{\"expect\":{\"a\":1}}],\"window\":{\"after\":{\"a\":1}}}",
	         "put the window on the parts"},
	        {"{\"expect\":{\"a\":1},\"if_missing\":\"maybe\"}", "if_missing is fail, pass"},
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		compile_err(cases[i].rule, err, sizeof(err));
		ck_assert_msg(strstr(err, cases[i].want), "%s: got \"%s\"", cases[i].rule, err);
	}
	ck_assert_str_eq(compile_err("{\"expect\":{\"a\":{\"all_of\":[1,{\"glob\":\"x\"}]}}}", err,
	                             sizeof(err)),
	                 "");
}
END_TEST

START_TEST(test_each_matcher_operator_evaluates)
{
	static const struct {
		const char *match;
		enum conform_verdict want;
	} cases[] = {
	        {"\"user\":\"alice\"", CONFORM_PASS},
	        {"\"user\":\"bob\"", CONFORM_FAIL},
	        {"\"user\":{\"eq\":\"alice\"}", CONFORM_PASS},
	        {"\"status\":{\"eq\":201}", CONFORM_FAIL},
	        {"\"user\":{\"one_of\":[\"bob\",\"alice\"]}", CONFORM_PASS},
	        {"\"status\":{\"one_of\":[404,\"500\"]}", CONFORM_FAIL},
	        {"\"user\":{\"regex\":\"^al.ce$\"}", CONFORM_PASS},
	        {"\"user\":{\"regex\":\"^lice\"}", CONFORM_FAIL},
	        {"\"status\":{\"regex\":\"^2[0-9]{2}$\"}", CONFORM_PASS},
	        {"\"client\":{\"glob\":\"198.51.*\"}", CONFORM_PASS},
	        {"\"client\":{\"glob\":\"203.*\"}", CONFORM_FAIL},
	        {"\"client\":{\"contains\":\"51.100\"}", CONFORM_PASS},
	        {"\"client\":{\"contains\":\"113\"}", CONFORM_FAIL},
	        {"\"client\":{\"cidr\":\"198.51.100.0/28\"}", CONFORM_PASS},
	        {"\"client\":{\"cidr\":[\"203.0.113.0/24\",\"198.51.100.16/28\"]}", CONFORM_FAIL},
	        {"\"client\":{\"host\":\"endpoint-inside\"}", CONFORM_PASS},
	        {"\"client\":{\"host\":[\"endpoint-outside\",\"sip.*\"]}", CONFORM_FAIL},
	        {"\"status\":{\"range\":[200,299]}", CONFORM_PASS},
	        {"\"status\":{\"range\":\"300-399\"}", CONFORM_FAIL},
	        {"\"status\":{\"exists\":true}", CONFORM_PASS},
	        {"\"status\":{\"exists\":false}", CONFORM_FAIL},
	        {"\"user\":{\"not\":\"bob\"}", CONFORM_PASS},
	        {"\"user\":{\"not\":{\"glob\":\"a*\"}}", CONFORM_FAIL},
	        {"\"user\":{\"any_of\":[\"bob\",{\"contains\":\"lic\"}]}", CONFORM_PASS},
	        {"\"user\":{\"any_of\":[\"bob\",\"carol\"]}", CONFORM_FAIL},
	        {"\"user\":{\"all_of\":[{\"glob\":\"a*\"},{\"not\":\"bob\"}]}", CONFORM_PASS},
	        {"\"user\":{\"all_of\":[{\"glob\":\"a*\"},{\"exists\":false}]}", CONFORM_FAIL},
	};
	char rule[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rule, sizeof(rule), "{\"expect\":{\"kind\":\"mock-oam.login\",%s}}",
		         cases[i].match);
		ck_assert_msg(judge(rule) == cases[i].want, "%s", rule);
	}
}
END_TEST

START_TEST(test_forbid_without_witness_fails_with_no_evidence)
{
	static const char *const absent[] = {
	        "{\"forbid\":{\"kind\":\"mock-teamlink.x\"}}",
	        "{\"expect\":{\"kind\":\"mock-teamlink.x\"},\"at_most\":0}",
	        "{\"expect\":{\"kind\":\"mock-teamlink.x\"},\"exactly\":0}",
	        ("{\"all\":[{\"expect\":{\"kind\":\"mock-oam.login\"}},"
	         "{\"forbid\":{\"kind\":\"mock-teamlink.x\"}}]}"),
	};
	char obs[2048];

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		/* The default witness (a packet from the endpoint) is not in a journal timeline. */
		ck_assert_int_eq(judge_full(absent[i], NULL, NULL, NULL, NULL, obs, sizeof(obs)),
		                 CONFORM_FAIL);
		ck_assert_msg(strstr(obs,
		                     "| no evidence: an event from endpoint-inside or "
		                     "endpoint-outside never happened, so the absence of a "
		                     "mock-teamlink.x proves nothing"),
		              "%s: %s", absent[i], obs);
		ck_assert_int_eq(judge_full(absent[i], NULL, NULL, "{\"kind\":\"never\"}", NULL,
		                            obs, sizeof(obs)),
		                 CONFORM_FAIL);
		ck_assert_msg(strstr(obs, "no evidence: a never never happened"), "%s", obs);
		/* With a witness the same rule passes. */
		ck_assert_int_eq(judge_full(absent[i], NULL, NULL, LOGIN_WITNESS, NULL, NULL, 0),
		                 CONFORM_PASS);
	}
	/* The default witness: any event whose src_ip is the endpoint's, inside or outside. */
	ck_assert_int_eq(judge_full(absent[0], NULL, NULL, NULL,
	                            "{\"ts\":\"2026-11-24T10:00:06Z\",\"event\":\"pkt\","
	                            "\"src_ip\":\"192.0.2.10\"}\n",
	                            NULL, 0),
	                 CONFORM_PASS);
	ck_assert_int_eq(judge_full(absent[0], NULL, NULL, NULL,
	                            "{\"ts\":\"2026-11-24T10:00:06Z\",\"event\":\"pkt\","
	                            "\"src_ip\":\"192.0.2.11\"}\n",
	                            NULL, 0),
	                 CONFORM_FAIL);
	/* Expectations of something need no witness: the event itself is the evidence. */
	ck_assert_int_eq(judge_full("{\"expect\":{\"kind\":\"mock-oam.login\"}}", NULL, NULL,
	                            "{\"kind\":\"never\"}", NULL, NULL, 0),
	                 CONFORM_PASS);
}
END_TEST

START_TEST(test_unwitnessed_marks_only_failures_for_want_of_the_witness)
{
	json_t *c;

	/* No witness: the forbid could not be judged. */
	c = judge_json("{\"forbid\":{\"kind\":\"x\"}}", "{\"kind\":\"never\"}", NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "verdict"), "fail");
	ck_assert(json_is_true(json_object_get(c, "unwitnessed")));
	json_decref(c);
	/* A forbidden event that happened is evidence, witness or not. */
	c = judge_json("{\"forbid\":{\"kind\":\"mock-oam.login\"}}", "{\"kind\":\"never\"}", NULL,
	               NULL, 0);
	ck_assert_str_eq(jstr(c, "verdict"), "fail");
	ck_assert_ptr_null(json_object_get(c, "unwitnessed"));
	ck_assert_int_gt(json_array_size(json_object_get(c, "evidence")), 0);
	json_decref(c);
	/* One part failed on what it saw: the group's failure is evidence, not unwitnessed. */
	c = judge_json("{\"all\":[{\"forbid\":{\"kind\":\"x\"}},"
	               "{\"expect\":{\"kind\":\"never\"}}]}",
	               "{\"kind\":\"never\"}", NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "verdict"), "fail");
	ck_assert_ptr_null(json_object_get(c, "unwitnessed"));
	json_decref(c);
	/* A missing window anchor is a real failure of what the check waits for. */
	c = judge_json("{\"expect\":{\"kind\":\"x\"},\"window\":{\"after\":{\"kind\":\"never\"}}}",
	               LOGIN_WITNESS, NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "verdict"), "fail");
	ck_assert_ptr_null(json_object_get(c, "unwitnessed"));
	json_decref(c);
}
END_TEST

START_TEST(test_missing_anchor_is_no_evidence_unless_because_says_why)
{
	json_t *c;

	c = judge_json("{\"forbid\":{\"kind\":\"x\"},\"window\":{\"after\":{\"kind\":\"never\"}}}",
	               LOGIN_WITNESS, NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "verdict"), "fail");
	ck_assert_str_eq(jstr(c, "reason"),
	                 "no evidence: the window's anchor after a never never happened");
	json_decref(c);
	c = judge_json("{\"expect\":{\"kind\":\"x\"},\"window\":{\"before\":{\"kind\":\"never\"}}}",
	               LOGIN_WITNESS, NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "reason"),
	                 "no evidence: the window's anchor before a never never happened");
	json_decref(c);
	c = judge_json("{\"all\":[{\"forbid\":{\"kind\":\"x\"},\"window\":{\"after\":{\"kind\":"
	               "\"never\"}},\"if_missing\":\"pass\",\"because\":\"never is optional\"}]}",
	               LOGIN_WITNESS, NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "verdict"), "pass");
	ck_assert_str_eq(jstr(c, "reason"), "never is optional");
	json_decref(c);
}
END_TEST

START_TEST(test_if_missing_pass_or_na_needs_because)
{
	char err[512];

	compile_err("{\"forbid\":{\"kind\":\"x\"},\"window\":{\"after\":{\"kind\":\"y\"}},"
	            "\"if_missing\":\"pass\"}",
	            err, sizeof(err));
	ck_assert_str_eq(err,
	                 "t: check T.1.rule: if_missing \"pass\" needs \"because\": why "
	                 "absence is the expected outcome");
	compile_err("{\"any\":[{\"expect\":{\"kind\":\"x\"}},{\"order\":[{\"kind\":\"x\"},"
	            "{\"kind\":\"y\"}],\"if_missing\":\"n/a\"}]}",
	            err, sizeof(err));
	ck_assert_msg(strstr(err, "check T.1.rule.any[1]: if_missing \"n/a\" needs \"because\""),
	              "%s", err);
	compile_err("{\"forbid\":{\"kind\":\"x\"},\"because\":\"why\"}", err, sizeof(err));
	ck_assert_msg(strstr(err, "rule.because: explains if_missing"), "%s", err);
	compile_err("{\"forbid\":{\"kind\":\"x\"},\"if_missing\":\"pass\",\"because\":\"\"}", err,
	            sizeof(err));
	ck_assert_msg(strstr(err, "rule.because: a non-empty text"), "%s", err);
	ck_assert_str_eq(compile_err("{\"forbid\":{\"kind\":\"x\"},\"if_missing\":\"pass\","
	                             "\"because\":\"why\"}",
	                             err, sizeof(err)),
	                 "");
}
END_TEST

START_TEST(test_needs_says_what_evidence_a_check_needs)
{
	char print[4096];
	json_t *c;

	c = judge_json("{\"order\":[{\"kind\":\"sip.request\",\"method\":\"REGISTER\","
	               "\"dst_ip\":{\"host\":\"sip.librestream.com\"}},"
	               "{\"kind\":\"mock-sip.register\",\"result\":\"ok\"}]}",
	               NULL, NULL, print, sizeof(print));
	ck_assert_str_eq(jstr(c, "needs"),
	                 "a sip.request with method REGISTER to "
	                 "sip.librestream.com; then a mock-sip.register with "
	                 "result ok");
	ck_assert_msg(strstr(print, "      needs:    a sip.request with method REGISTER"), "%s",
	              print);
	json_decref(c);
	c = judge_json("{\"forbid\":{\"kind\":\"stun.request\",\"dst_port\":{\"range\":[1,99]}},"
	               "\"window\":{\"after\":{\"kind\":\"onsight-ref.detect\"},\"within_s\":5}}",
	               NULL, NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "needs"),
	                 "a witness (an event from endpoint-inside or endpoint-outside) and then "
	                 "no event like a stun.request with dst_port in 1..99 within 5 s after an "
	                 "onsight-ref.detect");
	json_decref(c);
	c = judge_json(
	        "{\"any\":[{\"expect\":{\"kind\":\"a\"},\"exactly\":2},{\"expect\":"
	        "{\"at\":{\"host\":\"vcs-*\"},\"result\":{\"not\":\"ok\"}},\"at_least\":3}]}",
	        NULL, NULL, NULL, 0);
	ck_assert_str_eq(jstr(c, "needs"),
	                 "either (exactly 2 of an a); or (at least 3 of an event "
	                 "with result not ok at vcs-*)");
	json_decref(c);
}
END_TEST

START_TEST(test_evidence_names_server_identity_and_host_names)
{
	json_t *c, *ev;

	c = judge_json("{\"expect\":{\"kind\":\"svc.register\"}}", NULL,
	               "{\"ts\":\"2026-11-24T10:00:06Z\",\"event\":\"register\",\"result\":\"ok\","
	               "\"at\":\"vcs-expressway.corp.example\",\"src_ip\":\"203.0.113.2\","
	               "\"src_port\":5060,\"dst_ip\":\"203.0.113.60\",\"dst_port\":5061,"
	               "\"dst_host\":\"vcs-expressway.corp.example\"}\n",
	               NULL, 0);
	ev = json_array_get(json_object_get(c, "evidence"), 0);
	ck_assert_str_eq(
	        jstr(ev, "summary"),
	        "svc.register result=ok at=vcs-expressway.corp.example 203.0.113.2:5060 -> "
	        "203.0.113.60:5061 (vcs-expressway.corp.example) (journal:svc)");
	json_decref(c);
}
END_TEST

/* docs/scenarios.md lists every operator of the code's tables, in a table row of its own. */
START_TEST(test_docs_list_every_operator)
{
	FILE *f = fopen(ONSIGHT_SOURCE_DIR "/docs/scenarios.md", "r");
	char *buf = calloc(1, 262144), needle[64];
	const char *name;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_gt(fread(buf, 1, 262143, f), 0);
	fclose(f);
	for (size_t i = 0; (name = matcher_op_name(i)) != NULL; i++) {
		snprintf(needle, sizeof(needle), "`{\"%s\":", name);
		ck_assert_msg(strstr(buf, needle), "docs/scenarios.md lacks matcher %s", name);
	}
	for (size_t i = 0; (name = rule_op_name(i)) != NULL; i++) {
		snprintf(needle, sizeof(needle), "| `{\"%s\":", name);
		ck_assert_msg(strstr(buf, needle), "docs/scenarios.md lacks rule %s", name);
	}
	ck_assert_ptr_null(strstr(buf, "contracts"));
	free(buf);
}
END_TEST

TU_SUITE("analysis_rules", test_journal_lines_become_sorted_events_with_service_kinds,
         test_expect_counts_and_forbid_names_offenders,
         test_order_detects_wrong_order_and_missing_steps,
         test_windows_limit_events_to_anchored_time,
         test_matchers_cover_addresses_ranges_regex_and_paths,
         test_undeclared_capability_gives_na_with_reason, test_cidr_and_addresses_with_ports,
         test_timeline_saves_as_a_json_array, test_compile_errors_name_each_operator_and_its_path,
         test_each_matcher_operator_evaluates, test_forbid_without_witness_fails_with_no_evidence,
         test_unwitnessed_marks_only_failures_for_want_of_the_witness,
         test_missing_anchor_is_no_evidence_unless_because_says_why,
         test_if_missing_pass_or_na_needs_because, test_needs_says_what_evidence_a_check_needs,
         test_evidence_names_server_identity_and_host_names, test_docs_list_every_operator)
