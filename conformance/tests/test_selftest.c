/* test_selftest.c - a saved timeline read back, the timeline mutations, the kill matrix. */
#include "mutate.h"
#include "selftest.h"
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

/* A small fault-free run inside the firewall: login, config, REGISTER (401, 200), a call
 * with RTP both ways; journal lines with and without the server attributes. */
static const char run_text[] =
        "["
        "{\"t\":10.0,\"kind\":\"tls.client_hello\",\"src\":\"pcap:ep#1\",\"capture\":\"ep\","
        "\"src_ip\":\"198.51.100.10\",\"src_port\":40001,\"dst_ip\":\"203.0.113.10\","
        "\"dst_port\":443,\"proto\":\"tcp\",\"sni\":\"onsight.librestream.com\"},"
        "{\"t\":10.1,\"kind\":\"mock-oam.login\",\"src\":\"journal:mock-oam\","
        "\"client\":\"203.0.113.2\",\"scheme\":\"https\",\"status\":200},"
        "{\"t\":10.2,\"kind\":\"mock-oam.config\",\"src\":\"journal:mock-oam\","
        "\"client\":\"203.0.113.2\",\"scheme\":\"https\",\"status\":200},"
        "{\"t\":10.5,\"kind\":\"sip.request\",\"src\":\"pcap:ep#5\",\"capture\":\"ep\","
        "\"src_ip\":\"198.51.100.10\",\"src_port\":40010,\"dst_ip\":\"203.0.113.20\","
        "\"dst_port\":5060,\"proto\":\"tcp\",\"method\":\"REGISTER\",\"cseq_method\":"
        "\"REGISTER\",\"transport\":\"tcp\",\"dst_host\":\"sip.librestream.com\"},"
        "{\"t\":10.6,\"kind\":\"sip.response\",\"src\":\"pcap:ep#6\",\"capture\":\"ep\","
        "\"src_ip\":\"203.0.113.20\",\"src_port\":5060,\"dst_ip\":\"198.51.100.10\","
        "\"dst_port\":40010,\"proto\":\"tcp\",\"status\":200,\"cseq_method\":\"REGISTER\"},"
        "{\"t\":10.61,\"kind\":\"mock-sip.register\",\"src\":\"journal:mock-sip\","
        "\"result\":\"ok\",\"source\":\"203.0.113.2:40010\",\"transport\":\"tcp\","
        "\"local\":\"203.0.113.20:5060\",\"at\":{\"host\":\"sip.librestream.com\"}},"
        "{\"t\":11.0,\"kind\":\"rtp.stream\",\"src\":\"pcap:ep#9\",\"capture\":\"ep\","
        "\"src_ip\":\"198.51.100.10\",\"src_port\":39046,\"dst_ip\":\"203.0.113.20\","
        "\"dst_port\":15004,\"proto\":\"udp\"},"
        "{\"t\":11.1,\"kind\":\"rtp.stream\",\"src\":\"pcap:ep#10\",\"capture\":\"ep\","
        "\"src_ip\":\"203.0.113.20\",\"src_port\":15004,\"dst_ip\":\"198.51.100.10\","
        "\"dst_port\":39046,\"proto\":\"udp\"}"
        "]";

static json_t *run_tl(void)
{
	json_error_t je;
	json_t *tl = json_loads(run_text, 0, &je);
	ck_assert_msg(tl != NULL, "%s", je.text);
	return tl;
}

static json_t *apply(const char *name, const json_t *tl, int want)
{
	json_t *out = NULL;
	const struct mutation *m = mutation_find(name);

	ck_assert_msg(m != NULL, "no mutation %s", name);
	ck_assert_int_eq(mutation_apply(m, tl, NULL, &out), want);
	return out;
}

static size_t count_kind(const json_t *tl, const char *kind)
{
	const json_t *e;
	size_t i, n = 0;
	json_array_foreach(tl, i, e)
	{
		n += !strcmp(json_string_value(json_object_get(e, "kind")), kind);
	}
	return n;
}

static const json_t *find_kind(const json_t *tl, const char *kind)
{
	const json_t *e;
	size_t i;
	json_array_foreach(tl, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "kind")), kind))
			return e;
	}
	return NULL;
}

START_TEST(test_timeline_reads_saved_events_and_refuses_bad_ones)
{
	struct conform_timeline *t = NULL;
	json_t *tl = run_tl(),
	       *bad = json_loads("[{\"t\":1,\"kind\":\"x\"},{\"kind\":\"y\"}]", 0, NULL);

	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	ck_assert_int_eq(conform_timeline_add_events_json(t, bad, err, sizeof(err)), EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "$[1]"));
	ck_assert_int_eq(conform_timeline_count(t), 0);
	ck_assert_int_eq(conform_timeline_add_events_json(t, tl, err, sizeof(err)), 0);
	ck_assert_int_eq(conform_timeline_count(t), json_array_size(tl));
	ck_assert_str_eq(json_string_value(json_object_get(conform_timeline_event(t, 3), "method")),
	                 "REGISTER");
	conform_timeline_free(t);
	json_decref(tl);
	json_decref(bad);
}
END_TEST

START_TEST(test_every_mutation_leaves_its_input_alone_and_finds_nothing_in_empty)
{
	json_t *tl = run_tl(), *empty = json_array();
	char *before = json_dumps(tl, JSON_SORT_KEYS);

	for (size_t i = 0; i < mutation_count(); i++) {
		const struct mutation *m = mutation_get(i);
		json_t *out = NULL;
		int e = mutation_apply(m, tl, NULL, &out);

		ck_assert_msg(e == 0 || e == ENOENT, "%s: %d", m->name, e);
		ck_assert_msg(m->models && *m->models, "%s says what it models", m->name);
		if (!e)
			ck_assert_msg(!json_equal(out, tl), "%s changed nothing", m->name);
		json_decref(out);
		ck_assert_int_eq(mutation_apply(m, empty, NULL, &out), ENOENT);
	}
	char *after = json_dumps(tl, JSON_SORT_KEYS);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	json_decref(tl);
	json_decref(empty);
}
END_TEST

START_TEST(test_no_register_ok_drops_the_2xx_and_the_registrar_ok)
{
	json_t *tl = run_tl(), *out = apply("no-register-ok", tl, 0);

	ck_assert_int_eq(count_kind(out, "sip.response"), 0);
	ck_assert_int_eq(count_kind(out, "mock-sip.register"), 0);
	ck_assert_int_eq(count_kind(out, "sip.request"), 1);
	json_decref(out);
	json_array_remove(tl, 5);
	json_array_remove(tl, 4);
	apply("no-register-ok", tl, ENOENT);
	json_decref(tl);
}
END_TEST

START_TEST(test_config_after_register_moves_the_config_past_the_200)
{
	json_t *tl = run_tl(), *out = apply("config-after-register", tl, 0);
	const json_t *cfg = find_kind(out, "mock-oam.config");
	double prev = 0;
	const json_t *e;
	size_t i;

	ck_assert_double_gt(json_number_value(json_object_get(cfg, "t")), 10.6);
	json_array_foreach(out, i, e)
	{
		ck_assert_double_ge(json_number_value(json_object_get(e, "t")), prev);
		prev = json_number_value(json_object_get(e, "t"));
	}
	json_decref(out);
	json_decref(tl);
}
END_TEST

START_TEST(test_register_elsewhere_moves_addresses_and_the_server_name)
{
	json_t *tl = run_tl(), *out = apply("register-elsewhere", tl, 0);
	const json_t *req = find_kind(out, "sip.request"),
	             *reg = find_kind(out, "mock-sip.register");

	ck_assert_str_eq(json_string_value(json_object_get(req, "dst_ip")), "198.51.100.5");
	ck_assert_str_eq(json_string_value(json_object_get(req, "dst_host")),
	                 "vcs-control.corp.example");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reg, "at"), "host")),
	                 "vcs-control.corp.example");
	ck_assert_str_eq(json_string_value(json_object_get(reg, "local")), "198.51.100.5:5060");
	json_decref(out);
	json_decref(tl);
}
END_TEST

START_TEST(test_sip_syn_needs_a_tunnel_and_names_the_sip_service)
{
	json_t *tl = run_tl(), *out;

	apply("sip-syn-tunnelled", tl, ENOENT);
	json_array_append_new(tl,
	                      json_pack("{s:f,s:s,s:s}", "t", 10.3, "kind",
	                                "mock-teamlink.tunnel.open", "src",
	                                "journal:mock-teamlink"));
	out = apply("sip-syn-tunnelled", tl, 0);
	const json_t *syn = find_kind(out, "tcp.syn");
	ck_assert_ptr_nonnull(syn);
	ck_assert_str_eq(json_string_value(json_object_get(syn, "dst_service")), "sip");
	ck_assert_str_eq(json_string_value(json_object_get(syn, "dst_ip")), "203.0.113.20");
	ck_assert_str_eq(json_string_value(json_object_get(syn, "src_ip")), "198.51.100.10");
	ck_assert_int_eq(json_integer_value(json_object_get(syn, "dst_port")), 5060);
	json_decref(out);
	json_decref(tl);
}
END_TEST

START_TEST(test_media_and_rtp_mutations)
{
	json_t *tl = run_tl(), *out = apply("media-port-low", tl, 0);

	ck_assert_int_lt(
	        json_integer_value(json_object_get(find_kind(out, "rtp.stream"), "src_port")),
	        1024);
	json_decref(out);
	out = apply("no-rtp-back", tl, 0);
	ck_assert_int_eq(count_kind(out, "rtp.stream"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(find_kind(out, "rtp.stream"), "src_ip")),
	                 "198.51.100.10");
	json_decref(out);
	out = apply("endpoint-silent", tl, 0);
	ck_assert_int_eq(json_array_size(out), 0); /* every event here is the endpoint's */
	json_decref(out);
	apply("no-tunnel", tl, ENOENT);
	apply("connect-not-allowed", tl, ENOENT);
	/* No CONNECT to repeat: one to the lab's proxy is made up for the SIP server. */
	out = apply("sip-via-proxy", tl, 0);
	ck_assert_str_eq(
	        json_string_value(json_object_get(find_kind(out, "http.connect"), "dst_ip")),
	        "198.51.100.3");
	ck_assert_int_eq(
	        json_integer_value(json_object_get(find_kind(out, "http.connect"), "port")), 5061);
	json_decref(out);
	out = apply("teamlink-contact", tl, 0);
	ck_assert_int_eq(count_kind(out, "tls.client_hello"),
	                 count_kind(tl, "tls.client_hello") + 1);
	{
		const json_t *e, *hello = NULL;
		size_t i;
		json_array_foreach(out, i, e)
		{
			const char *sni = json_string_value(json_object_get(e, "sni"));
			if (sni && !strcmp(sni, "teamlink1.librestream.com"))
				hello = e;
		}
		ck_assert_ptr_nonnull(hello);
		ck_assert_str_eq(json_string_value(json_object_get(hello, "src_ip")),
		                 "198.51.100.10");
		ck_assert_str_eq(json_string_value(json_object_get(hello, "dst_ip")),
		                 "203.0.113.41");
	}
	json_decref(out);
	json_decref(tl);
}
END_TEST

START_TEST(test_sip_via_proxy_repeats_a_connect_towards_the_sip_server)
{
	json_error_t je;
	json_t *tl =
	        json_loads("[{\"t\":1.0,\"kind\":\"http.connect\",\"src_ip\":\"198.51.100.10\","
	                   "\"dst_ip\":\"198.51.100.3\",\"dst_port\":3128,"
	                   "\"host\":\"onsight.librestream.com\",\"port\":443}]",
	                   0, &je);
	json_t *out = apply("sip-via-proxy", tl, 0);
	const json_t *e = json_array_get(out, 1);

	ck_assert_int_eq(json_array_size(out), 2);
	ck_assert_str_eq(json_string_value(json_object_get(e, "host")), "sip.librestream.com");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "port")), 5061);
	ck_assert_str_eq(json_string_value(json_object_get(e, "dst_ip")), "198.51.100.3");
	ck_assert_int_eq(json_array_size(tl), 1); /* the input is left alone */
	json_decref(out);
	json_decref(tl);
}
END_TEST

START_TEST(test_login_plain_http_has_no_tls_hello)
{
	json_t *tl = run_tl(), *out = apply("login-plain-http", tl, 0);

	ck_assert_int_eq(count_kind(out, "tls.client_hello"), 0);
	ck_assert_str_eq(
	        json_string_value(json_object_get(find_kind(out, "mock-oam.login"), "scheme")),
	        "http");
	json_decref(out);
	json_decref(tl);
}
END_TEST

static const char *fixture_dir(void)
{
	static char d[4096];
	const char *t = getenv("CONFORM_TESTS");
	snprintf(d, sizeof(d), "%s/fixtures/run", t ? t : ".");
	return d;
}

static const json_t *row(const json_t *m, const char *sid, const char *cid)
{
	const json_t *r;
	size_t i;
	json_array_foreach(json_object_get(m, "checks"), i, r)
	{
		if (!strcmp(json_string_value(json_object_get(r, "scenario")), sid) &&
		    !strcmp(json_string_value(json_object_get(r, "check")), cid))
			return r;
	}
	return NULL;
}

static int killed_by(const json_t *r, const char *by)
{
	const json_t *k;
	size_t i;
	json_array_foreach(json_object_get(r, "killed_by"), i, k)
	{
		if (!strcmp(json_string_value(json_object_get(k, "by")), by))
			return 1;
	}
	return 0;
}

START_TEST(test_matrix_of_the_fixture_run)
{
	char p[4096];
	json_t *res, *m = NULL;
	json_error_t je;

	snprintf(p, sizeof(p), "%s/results.json", fixture_dir());
	res = json_load_file(p, 0, &je);
	ck_assert_ptr_nonnull(res);
	ck_assert_msg(selftest_matrix_from_run(fixture_dir(), res, conform_scenario_default_dir(),
	                                       &m, err, sizeof(err)) == 0,
	              "%s", err);
	/* S1.1 wants a TLS login naming the OAM server: a hello without SNI kills it. */
	const json_t *r = row(m, "S1", "S1.1");
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_true(json_object_get(r, "killed")));
	ck_assert(killed_by(r, "mutation:no-sni"));
	ck_assert(!killed_by(r, "mutation:no-rtp"));
	/* A check failing fault-free is killed by nothing. */
	r = row(m, "S2-inside", "S2.1");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(json_array_size(json_object_get(r, "killed_by")), 0);
	ck_assert_int_eq(selftest_matrix_exit(m), 1);
	ck_assert_int_eq(
	        json_integer_value(json_object_get(json_object_get(m, "counts"), "checks")), 4);
	json_decref(m);
	json_decref(res);
	/* The command: the matrix printed, exit 1 while a check is never killed. */
	ck_assert_int_eq(selftest_offline_main(fixture_dir(), NULL), 1);
	ck_assert_int_eq(selftest_offline_main("/nonexistent-run", NULL), 2);
}
END_TEST

TU_SUITE("selftest", test_timeline_reads_saved_events_and_refuses_bad_ones,
         test_every_mutation_leaves_its_input_alone_and_finds_nothing_in_empty,
         test_no_register_ok_drops_the_2xx_and_the_registrar_ok,
         test_config_after_register_moves_the_config_past_the_200,
         test_register_elsewhere_moves_addresses_and_the_server_name,
         test_sip_syn_needs_a_tunnel_and_names_the_sip_service, test_media_and_rtp_mutations,
         test_sip_via_proxy_repeats_a_connect_towards_the_sip_server,
         test_login_plain_http_has_no_tls_hello, test_matrix_of_the_fixture_run)
