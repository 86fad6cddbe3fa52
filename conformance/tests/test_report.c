/* test_report.c - results arithmetic, merge, junit.xml and report.html from a fixture. */
#include "buf.h"
#include "report.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

static const char *fixture_dir(void)
{
	static char d[4096];
	const char *t = getenv("CONFORM_TESTS");
	snprintf(d, sizeof(d), "%s/fixtures/run", t ? t : ".");
	return d;
}

static json_t *fixture(void)
{
	char p[4096];
	json_t *r = NULL;
	snprintf(p, sizeof(p), "%s/results.json", fixture_dir());
	ck_assert_msg(results_load(&r, p, err, sizeof(err)) == 0, "%s", err);
	return r;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static int occurrences(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void drop_scenario(json_t *r, const char *id)
{
	json_t *sc = json_object_get(r, "scenarios"), *s;
	size_t i;
	json_array_foreach(sc, i, s)
	{
		if (!strcmp(json_string_value(json_object_get(s, "id")), id)) {
			json_array_remove(sc, i);
			return;
		}
	}
}

START_TEST(test_results_exit_code_ranks_harness_endpoint_fail_pass)
{
	json_t *r = fixture();
	ck_assert_int_eq(results_finish(r), EXIT_HARNESS);
	ck_assert_int_eq(results_exit_code(r), EXIT_HARNESS);
	drop_scenario(r, "S3-inside");
	ck_assert_int_eq(results_finish(r), EXIT_CHECK_FAILED);
	drop_scenario(r, "S2-inside");
	/* All scenarios pass, but the selftest left a fault uncaught. */
	ck_assert_int_eq(results_finish(r), EXIT_CHECK_FAILED);
	json_object_set_new(json_object_get(r, "selftest"), "uncaught", json_integer(0));
	/* ... and a check that no fault or mutation made fail, and a requirement with no killed
	 * check. */
	json_t *m = json_object_get(json_object_get(r, "selftest"), "matrix");
	ck_assert_int_eq(results_finish(r), EXIT_CHECK_FAILED);
	json_array_clear(json_object_get(m, "never_killed"));
	ck_assert_int_eq(results_finish(r), EXIT_CHECK_FAILED);
	json_array_clear(json_object_get(m, "requirements_never_killed"));
	ck_assert_int_eq(results_finish(r), EXIT_PASS);
	json_array_append_new(
	        json_object_get(r, "scenarios"),
	        json_pack("{s:s,s:s,s:[]}", "id", "S9", "verdict", V_NOT_STARTED, "checks"));
	ck_assert_int_eq(results_finish(r), EXIT_ENDPOINT);
	json_object_set_new(r, "interrupted", json_true());
	ck_assert_int_eq(results_finish(r), EXIT_HARNESS);
	json_decref(r);
}
END_TEST

START_TEST(test_results_summary_counts_checks)
{
	json_t *r = fixture();
	results_finish(r);
	json_t *c = json_object_get(json_object_get(r, "summary"), "checks");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "pass")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "fail")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "na")), 1);
	json_decref(r);
}
END_TEST

START_TEST(test_merge_combines_shards_in_id_order_and_refuses_duplicates)
{
	json_t *a = fixture(), *b = fixture(), *m = NULL;
	json_t *parts[2] = {a, b};

	drop_scenario(a, "S1");
	drop_scenario(b, "S2-inside");
	drop_scenario(b, "S3-inside");
	json_object_set_new(a, "wall_s", json_real(30.0));
	json_object_set_new(b, "wall_s", json_real(12.0));
	json_object_del(a, "selftest");
	ck_assert_msg(results_merge(parts, 2, &m, err, sizeof(err)) == 0, "%s", err);
	json_t *sc = json_object_get(m, "scenarios");
	ck_assert_int_eq(json_array_size(sc), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sc, 0), "id")), "S1");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sc, 2), "id")),
	                 "S3-inside");
	ck_assert(json_number_value(json_object_get(m, "wall_s")) == 30.0);
	ck_assert_ptr_nonnull(json_object_get(m, "selftest"));
	ck_assert_int_eq(results_exit_code(m), EXIT_HARNESS);
	json_decref(m);
	m = NULL;
	parts[1] = a;
	ck_assert_int_eq(results_merge(parts, 2, &m, err, sizeof(err)), EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "S2-inside"));
	ck_assert_ptr_null(m);
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(test_results_load_refuses_other_documents)
{
	char *dir = tu_mkdtemp();
	char *p = tu_write(dir, "x.json", "{\"format\":\"something/else\",\"scenarios\":[]}");
	json_t *r = NULL;
	ck_assert_int_eq(results_load(&r, p, err, sizeof(err)), EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a results document"));
	free(p);
	p = tu_write(dir, "y.json",
	             "{\"format\":\"onsight-conform/results/1\",\"scenarios\":"
	             "[{\"id\":\"S1\"}]}");
	ck_assert_int_eq(results_load(&r, p, err, sizeof(err)), EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "$.scenarios[0]"));
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_junit_counts_failures_errors_and_skips)
{
	char *dir = tu_mkdtemp(), path[4096];
	json_t *r = fixture();
	results_finish(r);
	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	ck_assert_int_eq(report_write_junit(r, path), 0);
	char *x = slurp(path);
	ck_assert_ptr_nonnull(strstr(x,
	                             "<testsuites name=\"onsight-conform\" tests=\"7\" "
	                             "failures=\"2\" errors=\"1\" skipped=\"1\""));
	/* The kill matrix: one test case per check, failing when never killed. */
	ck_assert_ptr_nonnull(strstr(x, "<testsuite name=\"selftest\" tests=\"2\" failures=\"1\""));
	ck_assert_ptr_nonnull(strstr(x,
	                             "<testcase classname=\"selftest.S1\" name=\"S1.1 is "
	                             "killed\" time=\"0\"/>"));
	ck_assert_ptr_nonnull(strstr(x,
	                             "name=\"S1.3 is killed\" time=\"0\">\n      <failure "
	                             "message=\"never killed"));
	ck_assert_ptr_nonnull(strstr(x,
	                             "<testsuite name=\"S2-inside\" tests=\"2\" failures=\"1\" "
	                             "errors=\"0\" skipped=\"1\""));
	ck_assert_ptr_nonnull(strstr(x, "<failure message=\"no tunnel\" type=\"check\">"));
	ck_assert_ptr_nonnull(strstr(x, "(pcap:ep#14) &lt;&amp;&gt;"));
	ck_assert_ptr_nonnull(strstr(x, "<testcase classname=\"S3-inside\" name=\"run"));
	ck_assert_ptr_nonnull(strstr(x, "<skipped message=\"capability teamlink not declared\"/>"));
	free(x);
	json_decref(r);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_html_has_verdicts_coverage_selftest_and_ladders)
{
	char *dir = tu_mkdtemp(), path[4096];
	json_t *r = fixture();
	results_finish(r);
	snprintf(path, sizeof(path), "%s/report.html", dir);
	ck_assert_int_eq(report_write_html(r, fixture_dir(), path), 0);
	char *h = slurp(path);
	ck_assert_ptr_nonnull(strstr(h, "<table id=\"verdicts\">"));
	ck_assert_ptr_nonnull(strstr(h, "<table id=\"coverage\">"));
	ck_assert_ptr_nonnull(strstr(h, "<table id=\"selftest\">"));
	ck_assert_ptr_nonnull(strstr(h, "<table id=\"killmatrix\">"));
	ck_assert_ptr_nonnull(strstr(h,
	                             "<td>mutation:no-sni, fault:no-tls <span "
	                             "class=\"muted\">(error)</span></td>"));
	ck_assert_ptr_nonnull(strstr(h, "<b>Never killed:</b> S1/S1.3"));
	ck_assert_ptr_nonnull(strstr(h, "<b>Requirements with no killed check:</b> R-SIP-1"));
	/* Two scenarios have timelines: two ladders; S3 has none. */
	ck_assert_int_eq(occurrences(h, "<svg class=\"ladder\""), 2);
	ck_assert_ptr_nonnull(strstr(h, "No timeline for this scenario."));
	/* Drawn once per ladder from the ep capture, not again from fw-wan. */
	ck_assert_int_eq(occurrences(h, "TLS ClientHello onsight.librestream.com"), 2);
	ck_assert_ptr_nonnull(strstr(h, ">401 REGISTER</text>"));
	ck_assert_ptr_nonnull(strstr(h, ">SYN :80 unanswered</text>"));
	ck_assert_ptr_nonnull(strstr(h, ">onsight.librestream.com</text>")); /* host column */
	ck_assert_ptr_nonnull(strstr(h, ">login 200</text>")); /* journal dot at its server */
	/* Expected vs observed, escaped; links relative to the out dir. */
	ck_assert_ptr_nonnull(strstr(h, "expected: an event kind=mock-teamlink.tunnel.open"));
	ck_assert_ptr_nonnull(strstr(h, "(pcap:ep#14) &lt;&amp;&gt;"));
	ck_assert_ptr_nonnull(strstr(h, "href=\"S1/ep.pcapng\""));
	ck_assert_ptr_nonnull(strstr(h, "mock-sip-private died during start-up"));
	ck_assert_ptr_null(strstr(h, "<script"));
	free(h);
	json_decref(r);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_ladder_caps_rows_and_handles_empty_timelines)
{
	struct buf b;
	json_t *tl = json_array();

	buf_init(&b, 1 << 22);
	ck_assert_int_eq(report_ladder_svg(&b, tl, "x"), 0);
	ck_assert_ptr_nonnull(strstr(b.s, "No signalling"));
	buf_free(&b);
	for (int i = 0; i < 300; i++)
		json_array_append_new(tl,
		                      json_pack("{s:f,s:s,s:s,s:s,s:s,s:s}", "t", 1.0 + i, "kind",
		                                "sip.request", "capture", "ep", "method", "OPTIONS",
		                                "src_ip", "198.51.100.10", "dst_ip",
		                                "198.51.100.5"));
	buf_init(&b, 1 << 22);
	ck_assert_int_eq(report_ladder_svg(&b, tl, "x"), 0);
	ck_assert_ptr_nonnull(strstr(b.s, "180 more events not drawn"));
	buf_free(&b);
	json_decref(tl);
}
END_TEST

START_TEST(test_buf_refuses_growth_past_its_cap)
{
	struct buf b;
	buf_init(&b, 16);
	ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	ck_assert_int_eq(buf_puts(&b, "0123456789"), E2BIG);
	ck_assert_int_eq(buf_puts(&b, "x"), E2BIG);
	ck_assert_int_eq(buf_write_file(&b, "/nonexistent/x"), E2BIG);
	buf_free(&b);
}
END_TEST

TU_SUITE("conform_report", test_results_exit_code_ranks_harness_endpoint_fail_pass,
         test_results_summary_counts_checks,
         test_merge_combines_shards_in_id_order_and_refuses_duplicates,
         test_results_load_refuses_other_documents, test_junit_counts_failures_errors_and_skips,
         test_html_has_verdicts_coverage_selftest_and_ladders,
         test_ladder_caps_rows_and_handles_empty_timelines, test_buf_refuses_growth_past_its_cap)
