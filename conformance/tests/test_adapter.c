/* test_adapter.c - adapter files: strict parsing, placeholders, argv/env/files. */
#include "adapter.h"
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

static struct adapter *parse_ok(const char *text)
{
	struct adapter *a = NULL;
	int e = adapter_parse(&a, "t.json", text, strlen(text), err, sizeof(err));
	ck_assert_msg(e == 0, "parse failed: %s", err);
	return a;
}

static int parse_err(const char *text)
{
	struct adapter *a = NULL;
	err[0] = '\0';
	int e = adapter_parse(&a, "t.json", text, strlen(text), err, sizeof(err));
	ck_assert_ptr_null(a);
	return e;
}

static const char *adapters_dir(void)
{
	const char *d = getenv("CONFORM_TESTS");
	return d ? d : ".";
}

START_TEST(test_adapter_shipped_files_parse)
{
	static const char *const names[] = {"onsight-ref.json", "baresip.json"};
	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		struct adapter *a = NULL;
		snprintf(path, sizeof(path), "%s/../adapters/%s", adapters_dir(), names[i]);
		ck_assert_msg(adapter_load(&a, path, err, sizeof(err)) == 0, "%s", err);
		if (i == 0) {
			ck_assert_str_eq(adapter_name(a), "onsight-ref");
			ck_assert_uint_eq(adapter_caps(a),
			                  CAP_OAM_LOGIN | CAP_TEAMLINK | CAP_TLS | CAP_AUTO_ANSWER |
			                          CAP_CALL_OUT);
			ck_assert(adapter_ready_kind(a) == READY_STDOUT);
			ck_assert(adapter_ready_match(a, "{\"ts\":\"x\",\"event\":\"login\"}"));
			ck_assert(!adapter_ready_match(a, "starting"));
		} else {
			ck_assert_str_eq(adapter_name(a), "baresip");
			ck_assert_uint_eq(adapter_caps(a), CAP_AUTO_ANSWER);
			ck_assert(adapter_ready_kind(a) == READY_JOURNAL);
			ck_assert_str_eq(adapter_ready_pattern(a), "mock-sip");
			ck_assert_str_eq(adapter_ready_event(a), "register");
			/* Ready at the registration's 200, not at its 401 challenge. */
			json_t *ok = json_pack("{s:s,s:s,s:s}", "service", "mock-sip", "event",
			                       "register", "result", "ok");
			json_t *ch = json_pack("{s:s,s:s,s:s}", "service", "mock-sip", "event",
			                       "register", "result", "challenge");
			ck_assert(adapter_ready_journal_match(a, ok));
			ck_assert(!adapter_ready_journal_match(a, ch));
			json_decref(ok);
			json_decref(ch);
		}
		adapter_free(a);
	}
}
END_TEST

START_TEST(test_adapter_ready_fields_must_all_match)
{
	struct adapter *a = parse_ok("{\"name\":\"x\",\"command\":[\"ep\"],\"ready\":{"
	                             "\"journal\":\"mock-sip\",\"event\":\"register\","
	                             "\"fields\":{\"result\":\"ok\",\"status\":200}}}");
	json_t *ev = json_pack("{s:s,s:s,s:s,s:i}", "service", "mock-sip", "event", "register",
	                       "result", "ok", "status", 200);

	ck_assert(adapter_ready_journal_match(a, ev));
	json_object_set_new(ev, "status", json_string("200")); /* values compare as JSON */
	ck_assert(!adapter_ready_journal_match(a, ev));
	json_object_set_new(ev, "status", json_integer(200));
	json_object_del(ev, "result");
	ck_assert(!adapter_ready_journal_match(a, ev));
	json_object_set_new(ev, "result", json_string("ok"));
	json_object_set_new(ev, "service", json_string("mock-oam"));
	ck_assert(!adapter_ready_journal_match(a, ev));
	json_decref(ev);
	adapter_free(a);

	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],\"ready\":{"
	                           "\"journal\":\"mock-sip\",\"event\":\"register\","
	                           "\"fields\":{\"result\":[\"ok\"]}}}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "$.ready.fields.result"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],\"ready\":{"
	                           "\"journal\":\"mock-sip\",\"event\":\"register\","
	                           "\"fields\":{}}}"),
	                 EINVAL);
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],\"ready\":{"
	                           "\"stdout\":\"x\",\"fields\":{\"result\":\"ok\"}}}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "go with"));
}
END_TEST

START_TEST(test_adapter_expands_placeholders_and_literal_braces)
{
	struct adapter_vars v = {.username = "alice", .oam_url = "https://o.example"};
	char *out = NULL;
	const char *missing = NULL;

	ck_assert_int_eq(adapter_expand("{oam_url}/u/{username}{{x}}", &v, &out, &missing), 0);
	ck_assert_str_eq(out, "https://o.example/u/alice{x}");
	free(out);
	out = NULL;
	ck_assert_int_eq(adapter_expand("{proxy}", &v, &out, &missing), ENOENT);
	ck_assert_str_eq(missing, "proxy");
	ck_assert_ptr_null(out);
	ck_assert_int_eq(adapter_expand("{nope}", &v, &out, NULL), EINVAL);
	ck_assert_int_eq(adapter_expand("{username", &v, &out, NULL), EINVAL);
	ck_assert_int_eq(adapter_expand("a}b", &v, &out, NULL), EINVAL);
}
END_TEST

START_TEST(test_adapter_optional_groups_drop_without_values)
{
	struct adapter *a = parse_ok(
	        "{\"name\":\"x\",\"command\":[\"ep\",\"--user\",\"{username}\","
	        "[\"--proxy\",\"{proxy}\"],[\"--call\",\"{call_uri}\"],\"--ca={ca_file}\"]}");
	struct adapter_vars v = {.username = "bob", .ca_file = "/c/ca.pem", .call_uri = "sip:p@d"};
	char **argv = NULL;

	ck_assert_int_eq(adapter_argv(a, &v, &argv, err, sizeof(err)), 0);
	const char *want[] = {"ep", "--user", "bob", "--call", "sip:p@d", "--ca=/c/ca.pem", NULL};
	for (size_t i = 0; want[i]; i++)
		ck_assert_str_eq(argv[i], want[i]);
	ck_assert_ptr_null(argv[6]);
	adapter_strv_free(argv);
	argv = NULL;
	/* A required argument without a value is an error that names the placeholder. */
	v.username = NULL;
	ck_assert_int_eq(adapter_argv(a, &v, &argv, err, sizeof(err)), ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "{username}"));
	adapter_free(a);
}
END_TEST

START_TEST(test_adapter_env_skips_variables_without_values)
{
	struct adapter *a =
	        parse_ok("{\"name\":\"x\",\"command\":[\"ep\"],\"env\":{"
	                 "\"SSLKEYLOGFILE\":\"{keylog}\",\"HTTPS_PROXY\":\"{proxy}\"}}");
	struct adapter_vars v = {.keylog = "/k"};
	char **env = NULL;

	ck_assert_int_eq(adapter_envv(a, &v, &env, err, sizeof(err)), 0);
	ck_assert_str_eq(env[0], "SSLKEYLOGFILE=/k");
	ck_assert_ptr_null(env[1]);
	adapter_strv_free(env);
	adapter_free(a);
}
END_TEST

START_TEST(test_adapter_writes_files_under_workdir)
{
	char *dir = tu_mkdtemp();
	struct adapter *a = parse_ok(
	        "{\"name\":\"x\",\"command\":[\"ep\"],\"files\":[{\"path\":\"{workdir}/acc\","
	        "\"content\":[\"<{sip_uri}>;auth_pass={sip_password}\",\"second\"]}]}");
	struct adapter_vars v = {.workdir = dir, .sip_uri = "sip:a@d", .sip_password = "pw"};
	char path[4096], buf[256] = "";

	ck_assert_int_eq(adapter_write_files(a, &v, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/acc", dir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "<sip:a@d>;auth_pass=pw\nsecond\n");
	adapter_free(a);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_adapter_rejects_unknown_keys_placeholders_and_capabilities)
{
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],\"comand\":1}"), EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "$.comand: unknown key"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\",\"{usernme}\"]}"), EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "$.command[1]"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],"
	                           "\"capabilities\":[\"teleport\"]}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown capability"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[]}"), EINVAL);
	ck_assert_int_eq(parse_err("{\"command\":[\"ep\"]}"), EINVAL);
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[[\"ep\"]]}"), EINVAL);
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],"
	                           "\"ready\":{\"stdout\":\"(\"}}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad regex"));
	/* Patterns that would overflow regcomp's stack or memory are refused up front. */
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],"
	                           "\"ready\":{\"stdout\":\"(((((((((a)))))))))\"}}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "nested deeper"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],"
	                           "\"ready\":{\"stdout\":\"(a{255}){17}\"}}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "interval bound"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],"
	                           "\"ready\":{\"stdout\":\"event++++++++++++++++++++\"}}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "right after another"));
	adapter_free(parse_ok("{\"name\":\"x\",\"command\":[\"ep\"],"
	                      "\"ready\":{\"stdout\":\"^\\\\{[(]{1,3}x{2}\"}}"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],"
	                           "\"ready\":{\"journal\":\"mock-dns\",\"event\":\"x\"}}"),
	                 EINVAL);
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],"
	                           "\"files\":[{\"path\":\"/etc/passwd\",\"content\":\"x\"}]}"),
	                 EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "{workdir}"));
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"command\":[\"ep\"],\"stop\":{\"signal\":"
	                           "\"STOP\"}}"),
	                 EINVAL);
	ck_assert_int_eq(parse_err("{\"name\":\"x\",\"name\":\"y\",\"command\":[\"ep\"]}"), EINVAL);
	ck_assert_int_eq(parse_err("not json"), EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "t.json"));
}
END_TEST

START_TEST(test_adapter_stop_rule_and_defaults)
{
	struct adapter *a = parse_ok("{\"name\":\"x\",\"command\":[\"ep\"]}");
	ck_assert_int_eq(adapter_stop_signal(a), SIGTERM);
	ck_assert_int_eq(adapter_stop_grace_ms(a), 3000);
	ck_assert(adapter_ready_kind(a) == READY_START);
	ck_assert_uint_eq(adapter_caps(a), 0);
	adapter_free(a);
	a = parse_ok("{\"name\":\"x\",\"command\":[\"ep\"],\"stop\":{\"signal\":\"SIGINT\","
	             "\"grace_s\":0.5}}");
	ck_assert_int_eq(adapter_stop_signal(a), SIGINT);
	ck_assert_int_eq(adapter_stop_grace_ms(a), 500);
	adapter_free(a);
}
END_TEST

START_TEST(test_adapter_capability_names_round_trip)
{
	char buf[128];
	ck_assert_uint_eq(adapter_cap_parse("call-out"), CAP_CALL_OUT);
	ck_assert_str_eq(adapter_cap_name(CAP_TEAMLINK), "teamlink");
	ck_assert_uint_eq(adapter_cap_parse("bogus"), 0);
	ck_assert_str_eq(adapter_caps_str(CAP_OAM_LOGIN | CAP_TLS, buf, sizeof(buf)),
	                 "oam-login,tls");
}
END_TEST

TU_SUITE("conform_adapter", test_adapter_shipped_files_parse,
         test_adapter_ready_fields_must_all_match,
         test_adapter_expands_placeholders_and_literal_braces,
         test_adapter_optional_groups_drop_without_values,
         test_adapter_env_skips_variables_without_values, test_adapter_writes_files_under_workdir,
         test_adapter_rejects_unknown_keys_placeholders_and_capabilities,
         test_adapter_stop_rule_and_defaults, test_adapter_capability_names_round_trip)
