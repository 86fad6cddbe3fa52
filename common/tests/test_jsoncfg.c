#include "onsight/jsoncfg.h"
#include "testutil.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct cfg {
	long long port;
	int tls;
	char *name;
	char **hosts;
};

static const struct jcfg_key keys[] = {
        {"listen.port", JCFG_INT, offsetof(struct cfg, port), 1, 65535, 5060, NULL, 0},
        {"listen.tls", JCFG_BOOL, offsetof(struct cfg, tls), 0, 1, 0, NULL, 0},
        {"name", JCFG_STRING, offsetof(struct cfg, name), 0, 16, 0, "mock", 0},
        {"hosts", JCFG_STRLIST, offsetof(struct cfg, hosts), 0, 4, 0, NULL, 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int apply(const char *text, struct cfg *c, char *err, size_t errlen)
{
	json_t *root = NULL;
	int rc = jcfg_loadb("t.json", text, strlen(text), &root, err, errlen);

	memset(c, 0, sizeof(*c));
	if (rc)
		return rc;
	rc = jcfg_apply(root, keys, NKEYS, c, "t.json", err, errlen);
	json_decref(root);
	return rc;
}

START_TEST(test_jsoncfg_applies_values_and_defaults)
{
	struct cfg c;
	char err[256];

	ck_assert_int_eq(
	        apply("{\"listen\":{\"tls\":true},\"hosts\":[\"a\",\"b\"]}", &c, err, sizeof(err)),
	        0);
	ck_assert_int_eq(c.port, 5060);
	ck_assert_int_eq(c.tls, 1);
	ck_assert_str_eq(c.name, "mock");
	ck_assert_str_eq(c.hosts[1], "b");
	ck_assert_ptr_null(c.hosts[2]);
	jcfg_free(keys, NKEYS, &c);
	ck_assert_ptr_null(c.name);
}
END_TEST

START_TEST(test_jsoncfg_parse_error_names_line_and_column)
{
	struct cfg c;
	char err[256];

	ck_assert_int_eq(apply("{\n  \"name\": \"x\",\n  oops\n}", &c, err, sizeof(err)), EINVAL);
	ck_assert_msg(strncmp(err, "t.json:3:", 9) == 0, "got: %s", err);
	ck_assert_int_eq(apply("{\"name\":\"a\",\"name\":\"b\"}", &c, err, sizeof(err)), EINVAL);
	ck_assert_msg(strstr(err, "duplicate") != NULL, "got: %s", err);
}
END_TEST

START_TEST(test_jsoncfg_errors_name_the_key_path)
{
	struct cfg c;
	char err[256];

	ck_assert_int_eq(apply("{\"listen\":{\"port\":70000}}", &c, err, sizeof(err)), ERANGE);
	ck_assert_str_eq(err, "t.json: $.listen.port: 70000 is out of range [1, 65535]");
	ck_assert_int_eq(apply("{\"listen\":{\"port\":\"80\"}}", &c, err, sizeof(err)), EINVAL);
	ck_assert_str_eq(err, "t.json: $.listen.port: expected an integer");
	ck_assert_int_eq(apply("{\"listen\":{\"prot\":80}}", &c, err, sizeof(err)), EINVAL);
	ck_assert_str_eq(err, "t.json: $.listen.prot: unknown key");
	ck_assert_int_eq(apply("{\"hosts\":[\"a\",3]}", &c, err, sizeof(err)), EINVAL);
	ck_assert_str_eq(err, "t.json: $.hosts[1]: expected a string");
	ck_assert_int_eq(apply("{\"name\":\"12345678901234567\"}", &c, err, sizeof(err)), ERANGE);
	ck_assert_int_eq(apply("{\"hosts\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", &c, err, sizeof(err)),
	                 ERANGE);
	ck_assert_int_eq(apply("[1]", &c, err, sizeof(err)), EINVAL);
	ck_assert_str_eq(err, "t.json: $: expected an object");
	ck_assert_int_eq(apply("{\"listen\":5}", &c, err, sizeof(err)), EINVAL);
	ck_assert_str_eq(err, "t.json: $.listen: expected an object");
}
END_TEST

START_TEST(test_jsoncfg_required_key_missing)
{
	static const struct jcfg_key req[] = {
	        {"name", JCFG_STRING, offsetof(struct cfg, name), 0, 0, 0, NULL, 1},
	};
	struct cfg c;
	char err[128];
	json_t *root = json_object();

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(jcfg_apply(root, req, 1, &c, "f.json", err, sizeof(err)), EINVAL);
	ck_assert_str_eq(err, "f.json: $.name: required key is missing");
	json_decref(root);
}
END_TEST

START_TEST(test_jsoncfg_load_reports_missing_file)
{
	json_t *root = NULL;
	char err[256];

	ck_assert_int_eq(jcfg_load("/nonexistent/x.json", &root, err, sizeof(err)), ENOENT);
	ck_assert_str_eq(err, "/nonexistent/x.json: No such file or directory");
}
END_TEST

TU_SUITE("jsoncfg", test_jsoncfg_applies_values_and_defaults,
         test_jsoncfg_parse_error_names_line_and_column, test_jsoncfg_errors_name_the_key_path,
         test_jsoncfg_required_key_missing, test_jsoncfg_load_reports_missing_file)
