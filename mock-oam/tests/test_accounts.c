#include "accounts.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *example(void)
{
	return ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json";
}

START_TEST(test_accounts_example_file_loads_with_every_scenario_user)
{
	struct accounts *a = NULL;
	char err[512] = "";
	const json_t *cfg;

	ck_assert_msg(accounts_load(&a, example(), err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ge(accounts_count(a), 4);
	cfg = accounts_check(a, "alice", "alice-pw");
	ck_assert_ptr_nonnull(cfg);
	ck_assert(json_is_false(json_object_get(json_object_get(cfg, "teamlink"), "enabled")));
	cfg = accounts_config(a, "carol");
	ck_assert_ptr_nonnull(json_object_get(json_object_get(cfg, "sip"), "private"));
	ck_assert_ptr_null(accounts_check(a, "alice", "wrong"));
	ck_assert_ptr_null(accounts_check(a, "alice", "alice-p"));
	ck_assert_ptr_null(accounts_check(a, "nobody", "alice-pw"));
	ck_assert_ptr_null(accounts_check(a, "alice", NULL));
	accounts_free(a);
}
END_TEST

/* Loads the example with one member of alice's configuration replaced. */
static int load_mutated(const char *key, const char *sub, json_t *val, char *err, size_t len)
{
	json_t *root = json_load_file(example(), 0, NULL);
	json_t *cfg =
	        json_object_get(json_array_get(json_object_get(root, "accounts"), 0), "config");
	char *dir = tu_mkdtemp(), *text, *path;
	struct accounts *a = NULL;
	int rc;

	if (sub)
		json_object_set_new(json_object_get(cfg, key), sub, val);
	else
		json_object_set_new(cfg, key, val);
	text = json_dumps(root, 0);
	path = tu_write(dir, "a.json", text);
	rc = accounts_load(&a, path, err, len);
	accounts_free(a);
	free(text);
	free(path);
	json_decref(root);
	tu_rmtree(dir);
	free(dir);
	return rc;
}

START_TEST(test_accounts_rejects_bad_configuration_with_key_path)
{
	char err[512];

	ck_assert_int_eq(load_mutated("sip", "transport", json_string("sctp"), err, sizeof(err)),
	                 EINVAL);
	ck_assert_msg(strstr(err, "$.accounts[0].config.sip.transport: \"sctp\"") != NULL, "%s",
	              err);
	ck_assert_int_eq(load_mutated("sip", "public", json_null(), err, sizeof(err)), EINVAL);
	ck_assert_msg(strstr(err, "neither a public nor a private server") != NULL, "%s", err);
	ck_assert_int_eq(load_mutated("media", "port_min", json_integer(70000), err, sizeof(err)),
	                 EINVAL);
	ck_assert_int_eq(
	        load_mutated("teamlink", "detect_method", json_string("dns"), err, sizeof(err)),
	        EINVAL);
	ck_assert_int_eq(load_mutated("teamlink", "extra", json_true(), err, sizeof(err)), EINVAL);
	ck_assert_msg(strstr(err, "extra") != NULL, "%s", err);
	ck_assert_int_eq(load_mutated("user", "sip_uri", json_string("http://x"), err, sizeof(err)),
	                 EINVAL);
	ck_assert_int_eq(load_mutated("stun", NULL, json_null(), err, sizeof(err)), EINVAL);
}
END_TEST

START_TEST(test_accounts_rejects_duplicate_users_and_bad_json)
{
	char *dir = tu_mkdtemp(), err[512];
	struct accounts *a = NULL;
	json_t *root = json_load_file(example(), 0, NULL);
	json_t *list = json_object_get(root, "accounts");
	char *text, *p1, *p2;

	json_array_append(list, json_array_get(list, 0));
	text = json_dumps(root, 0);
	p1 = tu_write(dir, "dup.json", text);
	ck_assert_int_eq(accounts_load(&a, p1, err, sizeof(err)), EINVAL);
	ck_assert_msg(strstr(err, "\"alice\" repeats $.accounts[0]") != NULL, "%s", err);
	p2 = tu_write(dir, "bad.json", "{\"accounts\": [\n  {\"username\": }\n]}");
	ck_assert_int_eq(accounts_load(&a, p2, err, sizeof(err)), EINVAL);
	ck_assert_msg(strstr(err, "bad.json:2:") != NULL, "%s", err);
	ck_assert_ptr_null(a);
	free(text);
	free(p1);
	free(p2);
	json_decref(root);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The C validator and the JSON Schema agree on the known-bad documents. */
START_TEST(test_oamcfg_rejects_every_known_bad_document)
{
	const char *dir = ONSIGHT_SOURCE_DIR "/mock-oam/tests/invalid-configs";
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char path[1024], err[512];
		json_t *cfg;
		if (!strstr(de->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cfg = json_load_file(path, 0, NULL);
		ck_assert_ptr_nonnull(cfg);
		ck_assert_msg(oamcfg_validate(cfg, "$", err, sizeof(err)) == EINVAL, "%s accepted",
		              de->d_name);
		json_decref(cfg);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 8);
}
END_TEST

TU_SUITE("accounts", test_oamcfg_rejects_every_known_bad_document,
         test_accounts_example_file_loads_with_every_scenario_user,
         test_accounts_rejects_bad_configuration_with_key_path,
         test_accounts_rejects_duplicate_users_and_bad_json)
