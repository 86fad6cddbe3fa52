/* test_profile.c - profiles: loading, the errors a person reads, the host table, the
 * nftables JSON they compile to, the service configurations. No root needed. */
#include "hosts.h"
#include "nftgen.h"
#include "profile.h"
#include "svc.h"

#include "testutil.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static struct profile *parse_ok(const char *text)
{
	struct profile *p = NULL;
	char err[512] = "";

	ck_assert_msg(profile_parse(&p, "t.json", text, strlen(text), NULL, err, sizeof(err)) == 0,
	              "%s", err);
	return p;
}

static void parse_fails(const char *text, const char *const *needles)
{
	struct profile *p = NULL;
	char err[512] = "";

	ck_assert_int_ne(profile_parse(&p, "t.json", text, strlen(text), NULL, err, sizeof(err)),
	                 0);
	ck_assert_ptr_null(p);
	for (; *needles; needles++)
		ck_assert_msg(strstr(err, *needles) != NULL, "\"%s\" not in: %s", *needles, err);
}

START_TEST(test_every_shipped_profile_loads)
{
	static const char *const names[] = {"open",
	                                    "s1",
	                                    "s2-inside",
	                                    "s3",
	                                    "s4",
	                                    "https-only",
	                                    "http-only",
	                                    "customer-hospital",
	                                    "customer-factory"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct profile *p = NULL;
		char err[512] = "";

		ck_assert_msg(profile_load(&p, names[i], NULL, err, sizeof(err)) == 0, "%s: %s",
		              names[i], err);
		ck_assert_msg(strstr(p->path, names[i]) != NULL, "%s", p->path);
		profile_free(p);
	}
}
END_TEST

START_TEST(test_error_names_file_rule_and_problem)
{
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"comment\":\"ok\",\"to\":\"onsight."
	            "librestream.com\"},"
	            "{\"comment\":\"SIP to cloud\",\"to\":\"sipp.librestream.com\"}]}",
	            (const char *const[]){"t.json", "allow[1]", "SIP to cloud",
	                                  "unknown host \"sipp.librestream.com\"", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"from\":\"wifi\"}]}",
	            (const char *const[]){"allow[0]", "unknown role \"wifi\"", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"proto\":\"tcp\",\"ports\":[\"9-3\"]}]}",
	            (const char *const[]){"allow[0]", "ports[0]", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"ports\":[80]}]}",
	            (const char *const[]){"need \"proto\"", NULL});
	parse_fails(
	        "{\"policy\":\"drop\",\"allow\":[{\"proto\":\"tcp\",\"ports\":[80,\"70-90\"]}]}",
	        (const char *const[]){"overlaps", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"to\":\"*.nowhere.example\"}]}",
	            (const char *const[]){"matches no host", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"to\":\"203.0.113.0/33\"}]}",
	            (const char *const[]){"not an IPv4 address", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"colour\":1}]}",
	            (const char *const[]){"unknown key \"colour\"", NULL});
	parse_fails("{\"policy\":\"maybe\"}", (const char *const[]){"policy", NULL});
	parse_fails("{\"nat\":true}", (const char *const[]){"policy: required", NULL});
	parse_fails("{\"policy\":\"drop\",\n \"nat\": yes}",
	            (const char *const[]){"t.json:2:", NULL});
	parse_fails("{\"policy\":\"drop\",\"impair\":[{\"link\":\"wifi\"}]}",
	            (const char *const[]){"impair[0]", "ep, fw-lan, fw-wan, out", NULL});
	parse_fails("{\"policy\":\"drop\",\"impair\":[{\"link\":\"ep\",\"rate\":\"fast\"}]}",
	            (const char *const[]){"impair[0] (link ep)", "rate", NULL});
	parse_fails("{\"policy\":\"drop\",\"proxy\":{\"allow\":[\"a b\"]}}",
	            (const char *const[]){"proxy", "allow[0]", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"comment\":\"a\\\"b\"}]}",
	            (const char *const[]){"quotes", NULL});
}
END_TEST

START_TEST(test_destinations_resolve_through_the_lab_host_table)
{
	struct profile *p = parse_ok(
	        "{\"policy\":\"drop\",\"allow\":[{\"from\":[\"ep\",\"proxy\"],"
	        "\"to\":[\"media*.librestream.com\",\"sip.librestream.com\",\"203.0.113.77/24\"],"
	        "\"proto\":[\"tcp\",\"udp\"],\"ports\":[5060,\"15000-65000\"]}]}");
	const struct prof_rule *r = &p->rules[0];

	ck_assert_uint_eq(r->nsrc, 2);
	ck_assert_str_eq(r->src[0], "198.51.100.10/32");
	ck_assert_str_eq(r->src[1], "198.51.100.3/32");
	ck_assert_uint_eq(r->ndst, 8);
	ck_assert_str_eq(r->dst[0], "203.0.113.21/32");
	ck_assert_str_eq(r->dst[5], "203.0.113.26/32");
	ck_assert_str_eq(r->dst[6], "203.0.113.20/32");
	ck_assert_str_eq(r->dst[7], "203.0.113.0/24"); /* host bits cleared */
	ck_assert_uint_eq(r->proto, PROF_TCP | PROF_UDP);
	ck_assert_uint_eq(r->nports, 2);
	ck_assert_uint_eq(r->ports[1].lo, 15000);
	ck_assert_uint_eq(r->ports[1].hi, 65000);
	profile_free(p);
}
END_TEST

START_TEST(test_host_table_follows_the_address_plan)
{
	struct lab_host h[HOSTS_MAX];
	size_t n = hosts_build(h, HOSTS_MAX, NULL);
	static const char *const want[][2] = {{"onsight.librestream.com", "203.0.113.10"},
	                                      {"sip.librestream.com", "203.0.113.20"},
	                                      {"media6.librestream.com", "203.0.113.26"},
	                                      {"tcm.librestream.com", "203.0.113.30"},
	                                      {"tcm3.librestream.com", "203.0.113.33"},
	                                      {"teamlink7.librestream.com", "203.0.113.47"},
	                                      {"teamlink10.librestream.com", "203.0.113.50"},
	                                      {"vcs-expressway.corp.example", "203.0.113.60"},
	                                      {"proxy.corp.example", "198.51.100.3"},
	                                      {"vcs-control.corp.example", "198.51.100.5"}};

	ck_assert_uint_eq(n, 23);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct lab_host *x = hosts_find(h, n, want[i][0]);

		ck_assert_msg(x != NULL, "%s missing", want[i][0]);
		ck_assert_str_eq(x->addr, want[i][1]);
	}
	/* One address per host name. */
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			ck_assert_str_ne(h[i].addr, h[k].addr);
	ck_assert_uint_eq(hosts_build(h, HOSTS_MAX, "bad domain"), 0);
	ck_assert(hosts_find(h, hosts_build(h, HOSTS_MAX, "example.net"), "sip.example.net"));
}
END_TEST

START_TEST(test_domain_moves_the_cloud_names)
{
	static const char text[] = "{\"domain\":\"example.net\",\"policy\":\"drop\","
	                           "\"allow\":[{\"to\":\"sip.example.net\"}]}";
	struct profile *p = parse_ok(text);
	char err[512] = "";

	ck_assert_str_eq(p->domain, "example.net");
	ck_assert_str_eq(p->rules[0].dst[0], "203.0.113.20/32");
	ck_assert_str_eq(p->proxy_allow[0], "*.example.net");
	profile_free(p);
	p = NULL;
	/* A running lab's domain wins; a profile for another one is refused. */
	ck_assert_int_ne(profile_parse(&p, "t.json", text, strlen(text), "librestream.com", err,
	                               sizeof(err)),
	                 0);
	ck_assert_ptr_nonnull(strstr(err, "not the lab's domain"));
	parse_fails("{\"domain\":\"bad..name\",\"policy\":\"drop\"}",
	            (const char *const[]){"domain", NULL});
	parse_fails("{\"policy\":\"drop\",\"allow\":[{\"to\":\"sip.example.net\"}]}",
	            (const char *const[]){"unknown host", NULL});
}
END_TEST

START_TEST(test_glob_matches_like_a_shell)
{
	ck_assert(hosts_glob("*.librestream.com", "sip.librestream.com"));
	ck_assert(hosts_glob("*.LibreStream.com", "sip.librestream.com"));
	ck_assert(!hosts_glob("*.librestream.com", "librestream.com"));
	ck_assert(hosts_glob("teamlink?.librestream.com", "teamlink7.librestream.com"));
	ck_assert(!hosts_glob("teamlink?.librestream.com", "teamlink10.librestream.com"));
	ck_assert(hosts_glob("*", ""));
	ck_assert(hosts_glob("a*b*c", "aXXbYYc"));
	ck_assert(!hosts_glob("a*b*c", "aXXbYY"));
}
END_TEST

START_TEST(test_rate_accepts_tc_units)
{
	uint64_t b = 0;

	ck_assert_int_eq(profile_parse_rate("2mbit", &b), 0);
	ck_assert_uint_eq(b, 2000000);
	ck_assert_int_eq(profile_parse_rate("512kbit", &b), 0);
	ck_assert_uint_eq(b, 512000);
	ck_assert_int_ne(profile_parse_rate("2mb", &b), 0);
	ck_assert_int_ne(profile_parse_rate("1bit", &b), 0);
	ck_assert_int_ne(profile_parse_rate("", &b), 0);
	ck_assert_int_ne(profile_parse_rate("99999999999999999999gbit", &b), 0);
}
END_TEST

static int has_rule_comment(const json_t *batch, const char *needle)
{
	const json_t *cmd;
	size_t i;

	json_array_foreach(json_object_get(batch, "nftables"), i, cmd)
	{
		const char *c = json_string_value(json_object_get(
		        json_object_get(json_object_get(cmd, "add"), "rule"), "comment"));

		if (c && strstr(c, needle))
			return 1;
	}
	return 0;
}

START_TEST(test_compiled_ruleset_replaces_the_table_atomically)
{
	struct profile *p =
	        parse_ok("{\"policy\":\"reject\",\"nat\":false,\"log\":true,"
	                 "\"deny\":[{\"comment\":\"no SIP\",\"proto\":\"tcp\",\"ports\":5060}],"
	                 "\"allow\":[{\"comment\":\"web\",\"proto\":\"tcp\",\"ports\":[443]}],"
	                 "\"impair\":[{\"link\":\"fw-wan\",\"loss_percent\":3},{\"link\":\"ep\","
	                 "\"loss_percent\":1}]}");
	json_t *b = nftgen_fw(p), *e = nftgen_impair(p, "ep"), *o = nftgen_impair(p, "out");
	const json_t *cmds = json_object_get(b, "nftables");
	char *text = json_dumps(b, JSON_COMPACT);

	/* add + delete + add of the table first: one batch swaps the old ruleset out. */
	ck_assert(json_object_get(json_object_get(json_array_get(cmds, 0), "add"), "table"));
	ck_assert(json_object_get(json_object_get(json_array_get(cmds, 1), "delete"), "table"));
	ck_assert(json_object_get(json_object_get(json_array_get(cmds, 2), "add"), "table"));
	ck_assert(has_rule_comment(b, "deny[0]: no SIP"));
	ck_assert(has_rule_comment(b, "allow[0]: web"));
	ck_assert(has_rule_comment(b, "policy: reject"));
	ck_assert(!has_rule_comment(b, "NAT"));
	ck_assert(has_rule_comment(b, "link fw-wan: 3% loss"));
	ck_assert(!has_rule_comment(b, "link ep"));
	ck_assert(has_rule_comment(e, "link ep: 1% loss"));
	ck_assert(!has_rule_comment(o, "loss"));
	ck_assert_ptr_nonnull(strstr(text, "\"numgen\""));
	ck_assert(has_rule_comment(b, "allow[0]: web"));
	ck_assert_ptr_nonnull(strstr(text, "\"egress\""));
	ck_assert(nftgen_has_impair(p, "fw") && nftgen_has_impair(p, "ep") &&
	          !nftgen_has_impair(p, "out"));
	free(text);
	json_decref(b);
	json_decref(e);
	json_decref(o);
	profile_free(p);
}
END_TEST

START_TEST(test_rule_comments_name_the_destination_and_fit_nft)
{
	char text[1024];
	struct profile *p;
	json_t *b;
	const json_t *cmd;
	size_t i, seen = 0;

	snprintf(text, sizeof(text),
	         "{\"policy\":\"drop\",\"allow\":[{\"comment\":\"OAM\",\"to\":"
	         "\"onsight.librestream.com\"},{\"comment\":\"%s\",\"to\":[\"media*.librestream."
	         "com\","
	         "\"teamlink*.librestream.com\",\"tcm*.librestream.com\"]}]}",
	         "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	         "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	         "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	         "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
	         "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9");
	p = parse_ok(text);
	b = nftgen_fw(p);
	ck_assert(has_rule_comment(b, "allow[0]: OAM (to onsight.librestream.com)"));
	json_array_foreach(json_object_get(b, "nftables"), i, cmd)
	{
		const char *c = json_string_value(json_object_get(
		        json_object_get(json_object_get(cmd, "add"), "rule"), "comment"));

		if (!c)
			continue;
		ck_assert_uint_le(strlen(c), NFT_COMMENT_MAX);
		seen++;
	}
	ck_assert(has_rule_comment(b, "allow[1]: \xc3\xa9"));
	ck_assert(has_rule_comment(b, "..."));
	ck_assert_uint_ge(seen, 3);
	json_decref(b);
	profile_free(p);
}
END_TEST

START_TEST(test_services_get_the_plan_and_the_allow_list)
{
	struct lab_host h[HOSTS_MAX];
	size_t n = hosts_build(h, HOSTS_MAX, NULL);
	struct profile *p =
	        parse_ok("{\"policy\":\"drop\",\"proxy\":{\"allow\":[\"*.librestream.com\","
	                 "\"teamlink?.example.org\"],\"connect_ports\":[443]}}");
	char buf[8192];

	ck_assert_int_eq(svc_dnsmasq_net(buf, sizeof(buf), h, n, NULL), 0);
	ck_assert_ptr_nonnull(strstr(buf, "host-record=sip.librestream.com,203.0.113.20\n"));
	ck_assert_ptr_nonnull(
	        strstr(buf, "srv-host=_sips._tcp.librestream.com,sip.librestream.com,5061"));
	ck_assert_ptr_nonnull(strstr(buf, "srv-host=_sip._udp.librestream.com"));
	ck_assert_ptr_null(strstr(buf, "vcs-control")); /* private names stay private */
	ck_assert_int_eq(svc_dnsmasq_lan(buf, sizeof(buf), h, n), 0);
	ck_assert_ptr_nonnull(strstr(buf, "server=203.0.113.53@198.51.100.53"));
	ck_assert_ptr_nonnull(strstr(buf, "host-record=vcs-control.corp.example,198.51.100.5"));
	ck_assert_int_eq(svc_proxy_filter(buf, sizeof(buf), p), 0);
	ck_assert_str_eq(buf, "^.*\\.librestream\\.com$\n^teamlink.\\.example\\.org$\n");
	ck_assert_int_eq(svc_tinyproxy(buf, sizeof(buf), p, "/x"), 0);
	ck_assert_ptr_nonnull(strstr(buf, "ConnectPort 443\n"));
	ck_assert_ptr_null(strstr(buf, "ConnectPort 80\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Bind 198.51.100.3\n"));
	ck_assert_int_eq(svc_tinyproxy(buf, 10, p, "/x"), ENOSPC);
	profile_free(p);
}
END_TEST

static const char outside_profile[] =
        "{\"policy\":\"accept\",\"outside\":{\"comment\":\"hotel\",\"policy\":\"drop\","
        "\"log\":true,"
        "\"allow\":[{\"comment\":\"DNS\",\"to\":\"203.0.113.53\",\"proto\":[\"udp\",\"tcp\"],"
        "\"ports\":53},{\"comment\":\"web\",\"proto\":\"tcp\",\"ports\":[80,443]}],"
        "\"deny\":[{\"comment\":\"no SIP\",\"to\":\"sip.librestream.com\",\"proto\":\"udp\","
        "\"ports\":\"5060-5061\",\"log\":true}]}}";

START_TEST(test_outside_rules_get_the_outside_network_as_source)
{
	struct profile *p = parse_ok(outside_profile), *none = parse_ok("{\"policy\":\"drop\"}");
	const struct prof_outside *o = &p->outside;

	ck_assert(o->set);
	ck_assert_int_eq(o->policy, PROF_DROP);
	ck_assert_int_eq(p->policy, PROF_ACCEPT);
	ck_assert(o->log);
	ck_assert_str_eq(o->comment, "hotel");
	ck_assert_uint_eq(o->nrules, 3);
	ck_assert_uint_eq(p->nrules, 0);
	/* deny first, as in the enterprise rules */
	ck_assert(o->rules[0].deny);
	ck_assert_str_eq(o->rules[0].dst[0], "203.0.113.20/32");
	ck_assert(o->rules[0].ports[0].lo == 5060 && o->rules[0].ports[0].hi == 5061);
	for (size_t i = 0; i < o->nrules; i++) {
		ck_assert_uint_eq(o->rules[i].nsrc, 1);
		ck_assert_str_eq(o->rules[i].src[0], LAB_OUT_CIDR);
	}
	ck_assert(!o->rules[1].deny);
	ck_assert_str_eq(o->rules[1].dst[0], "203.0.113.53/32");
	ck_assert_uint_eq(o->rules[1].proto, PROF_TCP | PROF_UDP);
	ck_assert_uint_eq(o->rules[2].ndst, 0);
	ck_assert_uint_eq(o->rules[2].nports, 2);
	ck_assert(!none->outside.set);
	ck_assert_uint_eq(none->outside.nrules, 0);
	profile_free(p);
	profile_free(none);
}
END_TEST

START_TEST(test_outside_errors_name_the_section_rule_and_problem)
{
	char big[8192];
	size_t off;

	parse_fails("{\"policy\":\"drop\",\"outside\":{\"policy\":\"drop\",\"allow\":[{\"comment\":"
	            "\"x\",\"from\":\"lan\"}]}}",
	            (const char *const[]){"t.json: outside.allow[0] (\"x\")", "from: not allowed",
	                                  LAB_OUT_CIDR, NULL});
	parse_fails("{\"policy\":\"drop\",\"outside\":{\"allow\":[]}}",
	            (const char *const[]){"t.json: outside: policy: required", NULL});
	parse_fails("{\"policy\":\"drop\",\"outside\":{\"policy\":\"open\"}}",
	            (const char *const[]){"outside: policy: \"open\" is not", NULL});
	parse_fails("{\"policy\":\"drop\",\"outside\":{\"policy\":\"drop\",\"nat\":true}}",
	            (const char *const[]){"outside: unknown key \"nat\"", NULL});
	parse_fails("{\"policy\":\"drop\",\"outside\":[]}",
	            (const char *const[]){"outside: must be an object", NULL});
	parse_fails("{\"policy\":\"drop\",\"outside\":{\"policy\":\"drop\",\"deny\":[{\"to\":"
	            "\"sipp.librestream.com\"}]}}",
	            (const char *const[]){"outside.deny[0]", "unknown host", NULL});
	parse_fails("{\"policy\":\"drop\",\"outside\":{\"policy\":\"drop\",\"allow\":{}}}",
	            (const char *const[]){"outside.allow: must be an array", NULL});
	parse_fails("{\"policy\":\"drop\",\"outside\":{\"policy\":\"drop\",\"allow\":[{\"ports\":"
	            "443}]}}",
	            (const char *const[]){"outside.allow[0]", "need \"proto\"", NULL});
	off = (size_t)snprintf(big, sizeof(big),
	                       "{\"policy\":\"drop\",\"outside\":{\"policy\":\"drop\",\"allow\":[");
	for (int i = 0; i <= PROF_MAX_OUTSIDE_RULES; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%s{}", i ? "," : "");
	snprintf(big + off, sizeof(big) - off, "]}}");
	parse_fails(big, (const char *const[]){"outside.allow: more than 32 rules", NULL});
}
END_TEST

START_TEST(test_outside_compiles_to_a_forward_table_for_out_only)
{
	struct profile *p = parse_ok(outside_profile),
	               *none = parse_ok("{\"policy\":\"drop\",\"impair\":[{\"link\":\"out\","
	                                "\"loss_percent\":2}]}");
	json_t *o = nftgen_out(p), *fw = nftgen_fw(p), *n = nftgen_out(none);
	const json_t *cmds = json_object_get(o, "nftables");
	char *text = json_dumps(o, JSON_COMPACT), *fwtext = json_dumps(fw, JSON_COMPACT),
	     *ntext = json_dumps(n, JSON_COMPACT);

	ck_assert(json_object_get(json_object_get(json_array_get(cmds, 0), "add"), "table"));
	ck_assert(json_object_get(json_object_get(json_array_get(cmds, 1), "delete"), "table"));
	ck_assert(json_object_get(json_object_get(json_array_get(cmds, 2), "add"), "table"));
	ck_assert_ptr_nonnull(strstr(text, "\"hook\":\"forward\""));
	ck_assert_ptr_nonnull(strstr(text, "\"policy\":\"drop\""));
	ck_assert(has_rule_comment(o, "replies to allowed flows"));
	ck_assert_ptr_nonnull(strstr(text, "\"established\""));
	ck_assert(has_rule_comment(o, "nothing enters from the internet"));
	ck_assert(has_rule_comment(o, "deny[0]: no SIP (to sip.librestream.com)"));
	ck_assert(has_rule_comment(o, "allow[0]: DNS (to 203.0.113.53)"));
	ck_assert(has_rule_comment(o, "allow[1]: web"));
	ck_assert(has_rule_comment(o, "policy: drop"));
	ck_assert_ptr_nonnull(strstr(text, "{\"prefix\":{\"addr\":\"192.0.2.0\",\"len\":24}}"));
	ck_assert_ptr_nonnull(strstr(text, NFT_OUT_LOG_PREFIX));
	ck_assert_ptr_nonnull(strstr(text, "fwlab-out-deny0 "));
	/* the enterprise firewall's table knows nothing of the outside rules */
	ck_assert_ptr_null(strstr(fwtext, "192.0.2.0"));
	ck_assert_ptr_nonnull(strstr(fwtext, "\"policy\":\"accept\""));
	/* no section: the batch only removes the table; the out link's loss still comes */
	ck_assert_ptr_null(strstr(ntext, "\"forward\""));
	ck_assert_ptr_nonnull(strstr(ntext, "\"delete\":{\"table\":{\"family\":\"inet\""));
	ck_assert(has_rule_comment(n, "link out: 2% loss"));
	free(text);
	free(fwtext);
	free(ntext);
	json_decref(o);
	json_decref(fw);
	json_decref(n);
	profile_free(p);
	profile_free(none);
}
END_TEST

START_TEST(test_s4_outside_network_lets_only_dns_and_web_out)
{
	struct profile *p = NULL;
	char err[512] = "";
	const struct prof_outside *o;

	ck_assert_msg(profile_load(&p, "s4", NULL, err, sizeof(err)) == 0, "%s", err);
	o = &p->outside;
	ck_assert(o->set);
	ck_assert_int_eq(o->policy, PROF_DROP);
	ck_assert_uint_eq(o->nrules, 2);
	ck_assert_str_eq(o->rules[0].dst[0], "203.0.113.53/32");
	ck_assert_uint_eq(o->rules[0].proto, PROF_TCP | PROF_UDP);
	ck_assert(o->rules[0].nports == 1 && o->rules[0].ports[0].lo == 53);
	ck_assert_uint_eq(o->rules[1].ndst, 0);
	ck_assert_uint_eq(o->rules[1].proto, PROF_TCP);
	ck_assert(o->rules[1].nports == 2 && o->rules[1].ports[0].lo == 80 &&
	          o->rules[1].ports[1].lo == 443);
	profile_free(p);
}
END_TEST

TU_SUITE("profile", test_every_shipped_profile_loads, test_error_names_file_rule_and_problem,
         test_destinations_resolve_through_the_lab_host_table,
         test_host_table_follows_the_address_plan, test_domain_moves_the_cloud_names,
         test_glob_matches_like_a_shell, test_rate_accepts_tc_units,
         test_compiled_ruleset_replaces_the_table_atomically,
         test_rule_comments_name_the_destination_and_fit_nft,
         test_services_get_the_plan_and_the_allow_list,
         test_outside_rules_get_the_outside_network_as_source,
         test_outside_errors_name_the_section_rule_and_problem,
         test_outside_compiles_to_a_forward_table_for_out_only,
         test_s4_outside_network_lets_only_dns_and_web_out)
