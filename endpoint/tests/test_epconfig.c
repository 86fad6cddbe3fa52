/* test_epconfig - the configuration document parser. */
#include "epconfig.h"

#include "onsight/util.h"
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The config of account i of the example accounts file, as OAM serves it. */
static char *example_config(int i)
{
	json_t *root =
	        json_load_file(ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json", 0, NULL);
	json_t *acc = json_array_get(json_object_get(root, "accounts"), (size_t)i);
	char *s = acc ? json_dumps(json_object_get(acc, "config"), JSON_COMPACT) : NULL;

	json_decref(root);
	return s;
}

static int parse_text(struct epconfig *c, const char *text, char *err, size_t len)
{
	return epconfig_parse(c, text, strlen(text), err, len);
}

START_TEST(test_epconfig_parses_every_example_account)
{
	struct epconfig c;
	char err[256];
	int i, n = 0;

	for (i = 0; i < 6; i++) {
		char *s = example_config(i);

		ck_assert_ptr_nonnull(s);
		ck_assert_msg(parse_text(&c, s, err, sizeof(err)) == 0, "account %d: %s", i, err);
		n++;
		free(s);
	}
	ck_assert_int_eq(n, 6);
}
END_TEST

START_TEST(test_epconfig_reads_the_members_of_bob)
{
	struct epconfig c;
	char err[256];
	char *s = example_config(1);

	ck_assert_int_eq(parse_text(&c, s, err, sizeof(err)), 0);
	free(s);
	ck_assert_str_eq(c.sip_uri, "sip:bob@librestream.com");
	ck_assert_str_eq(c.auth_user, "bob");
	ck_assert_str_eq(c.auth_password, "bob-pw-sip");
	ck_assert_int_eq(c.transport, EPC_TCP);
	ck_assert(c.pub.set);
	ck_assert_str_eq(c.pub.host, "sip.librestream.com");
	ck_assert_uint_eq(c.pub.port, 5060);
	ck_assert(!c.priv.set);
	ck_assert_uint_eq(c.port_min, 15000);
	ck_assert_uint_eq(c.port_max, 65000);
	ck_assert(c.tl_enabled);
	ck_assert_int_eq(c.detect_method, EPC_DETECT_SIP);
	ck_assert_int_eq(c.connection, EPC_CONN_AUTO);
	ck_assert_uint_eq(c.ntcm, 1);
	ck_assert_str_eq(c.tcm[0], "tcm.librestream.com");
	ck_assert_uint_eq(c.nservers, 2);
	ck_assert(c.proxy.set);
	ck_assert_str_eq(c.proxy.host, "proxy.corp.example");
	ck_assert_uint_eq(c.proxy.port, 3128);
}
END_TEST

START_TEST(test_epconfig_rejects_the_known_bad_documents)
{
	const char *dir = ONSIGHT_SOURCE_DIR "/mock-oam/tests/invalid-configs";
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char path[1024], err[256], *buf = NULL;
		size_t len = 0;
		struct epconfig c;

		if (!strstr(e->d_name, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ck_assert_int_eq(file_read(path, 1 << 20, &buf, &len), 0);
		ck_assert_msg(epconfig_parse(&c, buf, len, err, sizeof(err)) != 0, "%s accepted",
		              e->d_name);
		ck_assert_msg(err[0] == '$', "%s: message without a key path: %s", e->d_name, err);
		free(buf);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 8);
}
END_TEST

START_TEST(test_epconfig_names_the_key_path_of_a_wrong_member)
{
	struct epconfig c;
	char err[256];
	char *s = example_config(0);
	char *p = strstr(s, "\"tcp\"");

	ck_assert_ptr_nonnull(p);
	memcpy(p, "\"sct\"", 5);
	ck_assert_int_ne(parse_text(&c, s, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "$.sip.transport"), "%s", err);
	free(s);
}
END_TEST

START_TEST(test_epconfig_rejects_malformed_json_with_position)
{
	struct epconfig c;
	char err[256];

	ck_assert_int_ne(parse_text(&c, "{\"user\": {", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "line 1"), "%s", err);
	ck_assert_int_ne(parse_text(&c, "[]", err, sizeof(err)), 0);
	ck_assert_int_ne(parse_text(&c, "", err, sizeof(err)), 0);
	ck_assert_int_ne(parse_text(&c, "{\"user\":1,\"user\":2}", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_epconfig_rejects_hosts_with_spaces_and_huge_lists)
{
	struct epconfig c;
	char err[256];
	char *s = example_config(1);
	json_t *j = json_loads(s, 0, NULL), *list = json_array();
	char *t;
	int i;

	json_object_set_new(json_object_get(json_object_get(j, "sip"), "public"), "host",
	                    json_string("sip.librestream.com evil"));
	t = json_dumps(j, 0);
	ck_assert_int_ne(parse_text(&c, t, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "$.sip.public.host"), "%s", err);
	free(t);
	json_object_set_new(json_object_get(json_object_get(j, "sip"), "public"), "host",
	                    json_string("sip.librestream.com"));
	for (i = 0; i < EPC_LIST_MAX + 1; i++)
		json_array_append_new(list, json_string("tcm.librestream.com"));
	json_object_set_new(json_object_get(j, "teamlink"), "tcm", list);
	t = json_dumps(j, 0);
	ck_assert_int_ne(parse_text(&c, t, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "$.teamlink.tcm"), "%s", err);
	free(t);
	json_decref(j);
	free(s);
}
END_TEST

TU_SUITE("epconfig", test_epconfig_parses_every_example_account,
         test_epconfig_reads_the_members_of_bob, test_epconfig_rejects_the_known_bad_documents,
         test_epconfig_names_the_key_path_of_a_wrong_member,
         test_epconfig_rejects_malformed_json_with_position,
         test_epconfig_rejects_hosts_with_spaces_and_huge_lists)
