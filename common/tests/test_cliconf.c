#include "onsight/cliconf.h"
#include "onsight/util.h"
#include "testutil.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct conf {
	char **listen;
	char *name, *log_level;
	long long port;
	long long limit;
};

static const struct jcfg_key keys[] = {
        {"listen", JCFG_STRLIST, offsetof(struct conf, listen), 0, 4, 0, NULL, 0},
        {"name", JCFG_STRING, offsetof(struct conf, name), 0, 32, 0, "dflt", 0},
        {"log_level", JCFG_STRING, offsetof(struct conf, log_level), 0, 8, 0, "info", 0},
        {"port", JCFG_INT, offsetof(struct conf, port), 1, 65535, 5060, NULL, 0},
        {"limits.max", JCFG_INT, offsetof(struct conf, limit), 1, 10, 3, NULL, 0},
};

static const struct cliconf_flag flags[] = {
        {"listen", "listen"},
        {"name", "name"},
        {"port", "port"},
        {"ghost", "no_such_key"}, /* a table mistake: reported when the flag is used */
};

static void usage(FILE *f)
{
	fputs("usage: t [options]\n", f);
}

static const struct cliconf cc = {"t", flags, ARRAY_SIZE(flags), keys, ARRAY_SIZE(keys), usage};

/* Runs cliconf_load on a NULL-terminated argv; *errp gets what it wrote to stderr. */
static int run(const char *const *args, struct conf *c, int *check, char **errp)
{
	char *argv[16], *dir = tu_mkdtemp(), *path;
	int argc = 0, saved, rc;
	FILE *f;
	long n;

	argv[argc++] = "t";
	for (; args[argc - 1] && argc < 15; argc++)
		argv[argc] = (char *)args[argc - 1];
	argv[argc] = NULL;
	path = tu_write(dir, "stderr", "");
	fflush(stderr);
	saved = dup(2);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	dup2(fileno(f), 2);
	memset(c, 0, sizeof(*c));
	*check = 0;
	rc = cliconf_load(&cc, argc, argv, c, check);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(f);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	*errp = calloc(1, 4096);
	n = (long)fread(*errp, 1, 4095, f);
	ck_assert_int_ge(n, 0);
	fclose(f);
	tu_rmtree(dir);
	free(dir);
	free(path);
	return rc;
}

START_TEST(test_cliconf_flags_override_the_file)
{
	char *dir = tu_mkdtemp(), *cfg, *err;
	struct conf c;
	int check;

	cfg = tu_write(
	        dir, "c.json",
	        "{\"name\":\"file\",\"port\":7000,\"listen\":[\"a\"],\"limits\":{\"max\":9}}");
	{
		const char *args[] = {"--config", cfg, "--port",         "8000", "--listen", "x",
		                      "--listen", "y", "--check-config", NULL};
		ck_assert_int_eq(run(args, &c, &check, &err), 0);
	}
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(check, 1);
	ck_assert_str_eq(c.name, "file");
	ck_assert_int_eq(c.port, 8000);
	ck_assert_int_eq(c.limit, 9);
	ck_assert_str_eq(c.listen[0], "x");
	ck_assert_str_eq(c.listen[1], "y");
	ck_assert_ptr_null(c.listen[2]);
	ck_assert_str_eq(c.log_level, "info");
	jcfg_free(keys, ARRAY_SIZE(keys), &c);
	free(err);
	tu_rmtree(dir);
	free(dir);
	free(cfg);
}
END_TEST

START_TEST(test_cliconf_defaults_without_a_file)
{
	const char *args[] = {NULL};
	struct conf c;
	char *err;
	int check;

	ck_assert_int_eq(run(args, &c, &check, &err), 0);
	ck_assert_int_eq(check, 0);
	ck_assert_str_eq(c.name, "dflt");
	ck_assert_int_eq(c.port, 5060);
	ck_assert_ptr_null(c.listen[0]);
	jcfg_free(keys, ARRAY_SIZE(keys), &c);
	free(err);
}
END_TEST

/* Every error is one line that names the program and what is wrong. */
START_TEST(test_cliconf_errors_name_the_problem)
{
	static const struct {
		const char *args[4];
		const char *want;
	} cases[] = {
	        {{"--port", "80x", NULL}, "t: --port: \"80x\" is not a number\n"},
	        {{"--port", "0", NULL}, "t: command line: $.port: "},
	        {{"stray", NULL}, "t: unexpected argument \"stray\"\n"},
	        {{"--nope", NULL}, "usage: t [options]\n"},
	        {{"--config", "/nonexistent/c.json", NULL}, "t: /nonexistent/c.json"},
	        {{"--ghost", "x", NULL}, "t: --ghost: no config key \"no_such_key\"\n"},
	};
	struct conf c;
	char *err;
	int check;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_int_eq(run(cases[i].args, &c, &check, &err), -1);
		ck_assert_msg(strstr(err, cases[i].want) != NULL, "case %zu: \"%s\" lacks \"%s\"",
		              i, err, cases[i].want);
		jcfg_free(keys, ARRAY_SIZE(keys), &c);
		free(err);
	}
}
END_TEST

START_TEST(test_cliconf_bad_file_names_line_and_key)
{
	char *dir = tu_mkdtemp(), *bad = tu_write(dir, "bad.json", "{\"port\": 1,\n \"nmae\": 2}");
	char *syn = tu_write(dir, "syn.json", "{\"port\": }");
	const char *a1[] = {"--config", bad, NULL}, *a2[] = {"--config", syn, NULL};
	struct conf c;
	char *err;
	int check;

	ck_assert_int_eq(run(a1, &c, &check, &err), -1);
	ck_assert_msg(strstr(err, "bad.json") && strstr(err, "nmae"), "%s", err);
	jcfg_free(keys, ARRAY_SIZE(keys), &c);
	free(err);
	ck_assert_int_eq(run(a2, &c, &check, &err), -1);
	ck_assert_msg(strstr(err, "syn.json:1:"), "%s", err);
	jcfg_free(keys, ARRAY_SIZE(keys), &c);
	free(err);
	tu_rmtree(dir);
	free(dir);
	free(bad);
	free(syn);
}
END_TEST

START_TEST(test_cliconf_log_level)
{
	ck_assert_int_eq(cliconf_log_level("t", "debug"), 0);
	ck_assert_int_eq(cliconf_log_level("t", "warn"), 0);
	ck_assert_int_eq(cliconf_log_level("t", "loud"), -1);
	ck_assert_int_eq(cliconf_log_level("t", NULL), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cliconf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_cliconf_flags_override_the_file);
	tcase_add_test(tc, test_cliconf_defaults_without_a_file);
	tcase_add_test(tc, test_cliconf_errors_name_the_problem);
	tcase_add_test(tc, test_cliconf_bad_file_names_line_and_key);
	tcase_add_test(tc, test_cliconf_log_level);
	suite_add_tcase(s, tc);
	return check_run(s);
}
