/* test_analysis_rules.c - checks judged over journal timelines: expect/forbid/order, windows,
 * matchers, capabilities, and the expected-vs-observed texts. */
#include <stdlib.h>
#include <string.h>

#include "conform/analysis.h"
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

/* Runs one rule in a one-check scenario; returns the verdict and (optionally) the result. */
static enum conform_verdict judge_caps(const char *rule, const char *requires,
                                       const char *const *caps, char *observed, size_t olen)
{
	char doc[8192], err[512];
	struct conform_scenario *s = NULL;
	struct conform_timeline *t = tl();
	struct conform_results *r = NULL;
	enum conform_verdict v;

	snprintf(doc, sizeof(doc),
	         "{\"id\":\"T\",\"title\":\"t\",\"profile\":\"open\",\"account\":\"alice\","
	         "\"steps\":[],\"checks\":[{\"id\":\"T.1\",\"req\":[\"R-SIP-1\"],"
	         "\"description\":\"d\",\"requires\":[%s],\"rule\":%s}]}",
	         requires ? requires : "", rule);
	if (conform_scenario_parse(&s, doc, strlen(doc), "t", err, sizeof(err)))
		ck_abort_msg("scenario rejected: %s", err);
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

static enum conform_verdict judge(const char *rule)
{
	return judge_caps(rule, NULL, NULL, NULL, 0);
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
	                       "\"if_missing\":\"pass\"}"),
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
	                       "\"never\"}},\"if_missing\":\"n/a\"}"),
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

TU_SUITE("analysis_rules", test_journal_lines_become_sorted_events_with_service_kinds,
         test_expect_counts_and_forbid_names_offenders,
         test_order_detects_wrong_order_and_missing_steps,
         test_windows_limit_events_to_anchored_time,
         test_matchers_cover_addresses_ranges_regex_and_paths,
         test_undeclared_capability_gives_na_with_reason, test_cidr_and_addresses_with_ports,
         test_timeline_saves_as_a_json_array)
