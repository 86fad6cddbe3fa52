/* test_accounts.c - the lab accounts file a scenario runs with: the scenario's lab.config is
 * merged over the named account's configuration, other accounts stay as they are. */
#include "scen.h"
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char accounts[] =
        "{\"accounts\":[{\"username\":\"alice\",\"password\":\"a\",\"config\":{"
        "\"sip\":{\"transport\":\"tcp\",\"public\":{\"host\":\"sip.x\",\"port\":5060}},"
        "\"teamlink\":{\"enabled\":false,\"connection\":\"auto\",\"proxy\":null}}},"
        "{\"username\":\"bob\",\"password\":\"b\",\"config\":{\"teamlink\":{\"enabled\":true}}}]}";

START_TEST(test_accounts_overlay_merges_into_the_named_account_only)
{
	char *dir = tu_mkdtemp(), err[256], out[4096];
	char *in = tu_write(dir, "accounts.json", accounts);
	json_t *overlay = json_loads("{\"teamlink\":{\"connection\":\"http\",\"proxy\":"
	                             "{\"host\":\"proxy.corp.example\",\"port\":3128}}}",
	                             0, NULL);
	json_t *acc = NULL, *all = NULL;

	snprintf(out, sizeof(out), "%s/out.json", dir);
	ck_assert_msg(scen_write_accounts(in, "alice", overlay, out, &acc, err, sizeof(err)) == 0,
	              "%s", err);
	json_t *tl = json_object_get(json_object_get(acc, "config"), "teamlink");
	ck_assert_str_eq(json_string_value(json_object_get(tl, "connection")), "http");
	ck_assert(json_is_false(json_object_get(tl, "enabled"))); /* untouched key kept */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(tl, "proxy"), "port")),
	                 3128);
	all = json_load_file(out, 0, NULL);
	ck_assert_ptr_nonnull(all);
	ck_assert_int_eq(json_array_size(json_object_get(all, "accounts")), 2);
	json_t *bob = json_array_get(json_object_get(all, "accounts"), 1);
	ck_assert_ptr_null(json_object_get(
	        json_object_get(json_object_get(bob, "config"), "teamlink"), "connection"));
	json_decref(all);
	json_decref(acc);
	json_decref(overlay);
	free(in);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_accounts_unknown_account_is_an_error)
{
	char *dir = tu_mkdtemp(), err[256] = "", out[4096];
	char *in = tu_write(dir, "accounts.json", accounts);

	snprintf(out, sizeof(out), "%s/out.json", dir);
	ck_assert_int_eq(scen_write_accounts(in, "mallory", NULL, out, NULL, err, sizeof(err)),
	                 ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no account \"mallory\""));
	free(in);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

TU_SUITE("conform_accounts", test_accounts_overlay_merges_into_the_named_account_only,
         test_accounts_unknown_account_is_an_error)
