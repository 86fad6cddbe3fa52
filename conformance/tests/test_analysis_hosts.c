/* test_analysis_hosts.c - the timeline's host table: the built-in lab plan (mock-firewall's
 * table), a run's hosts.json replacing it, refused plan files, and address -> name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conform/analysis.h"
#include "hosts.h"
#include "testutil.h"

static struct conform_timeline *tl(void)
{
	struct conform_timeline *t = NULL;

	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	return t;
}

START_TEST(test_builtin_plan_names_servers_endpoint_and_lab_addresses)
{
	struct conform_timeline *t = tl();

	ck_assert_str_eq(conform_hosts_name(t, "203.0.113.60:5060"), "vcs-expressway.corp.example");
	ck_assert_str_eq(conform_hosts_name(t, "198.51.100.5"), "vcs-control.corp.example");
	ck_assert_str_eq(conform_hosts_name(t, "203.0.113.42:443"), "teamlink2.librestream.com");
	ck_assert_str_eq(conform_hosts_name(t, "198.51.100.10"), "endpoint-inside");
	ck_assert_str_eq(conform_hosts_name(t, "192.0.2.10:5060"), "endpoint-outside");
	ck_assert_str_eq(conform_hosts_name(t, "203.0.113.2"), "fw-wan");
	ck_assert_ptr_null(conform_hosts_name(t, "203.0.113.99"));
	ck_assert_ptr_null(conform_hosts_name(t, "sip.librestream.com"));
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_written_plan_loads_back_with_every_host)
{
	struct lab_host plan[HOSTS_MAX];
	size_t n = hosts_plan(plan, HOSTS_MAX, NULL);
	struct conform_timeline *t = tl();
	char *dir = tu_mkdtemp(), path[512], err[256];

	ck_assert_uint_gt(n, 30);
	snprintf(path, sizeof(path), "%s/hosts.json", dir);
	ck_assert_int_eq(hosts_plan_write(path, NULL), 0);
	ck_assert_int_eq(conform_hosts_load(t, path, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(conform_hosts_name(t, plan[i].addr), plan[i].name);
	conform_timeline_free(t);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_run_plan_replaces_the_builtin_one)
{
	struct conform_timeline *t = tl();
	char *dir = tu_mkdtemp(), *path, err[256];

	path = tu_write(dir, "hosts.json",
	                "{\"format\":\"onsight-lab/hosts/1\",\"hosts\":["
	                "{\"name\":\"sip.example.net\",\"addr\":\"203.0.113.20\",\"ns\":\"net\","
	                "\"what\":\"SIP\"},"
	                "{\"name\":\"endpoint-inside\",\"addr\":\"198.51.100.10\"}]}");
	ck_assert_int_eq(conform_hosts_load(t, path, err, sizeof(err)), 0);
	ck_assert_str_eq(conform_hosts_name(t, "203.0.113.20:5060"), "sip.example.net");
	ck_assert_str_eq(conform_hosts_name(t, "198.51.100.10"), "endpoint-inside");
	/* A name the run's plan does not have is unknown, not taken from the built-in plan. */
	ck_assert_ptr_null(conform_hosts_name(t, "203.0.113.60"));
	conform_timeline_free(t);
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_bad_plan_files_are_refused_and_keep_the_table)
{
	static const char *const bad[] = {
	        "{\"hosts\":[]}",
	        "{\"format\":\"onsight-lab/hosts/2\",\"hosts\":[]}",
	        "{\"format\":\"onsight-lab/hosts/1\",\"hosts\":{}}",
	        "{\"format\":\"onsight-lab/hosts/1\",\"hosts\":[{\"name\":\"x\"}]}",
	        "{\"format\":\"onsight-lab/hosts/"
	        "1\",\"hosts\":[{\"name\":\"x\",\"addr\":\"x.y\"}]}",
	        "{\"format\":\"onsight-lab/hosts/"
	        "1\",\"hosts\":[{\"name\":\"\",\"addr\":\"1.2.3.4\"}]}",
	        "not json",
	};
	struct conform_timeline *t = tl();
	char *dir = tu_mkdtemp(), *path, err[256], missing[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = tu_write(dir, "hosts.json", bad[i]);
		err[0] = '\0';
		ck_assert_int_eq(conform_hosts_load(t, path, err, sizeof(err)), EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "hosts.json"));
		ck_assert_str_eq(conform_hosts_name(t, "203.0.113.60"),
		                 "vcs-expressway.corp.example");
		free(path);
	}
	snprintf(missing, sizeof(missing), "%s/none.json", dir);
	ck_assert_int_eq(conform_hosts_load(t, missing, err, sizeof(err)), ENOENT);
	conform_timeline_free(t);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

TU_SUITE("analysis_hosts", test_builtin_plan_names_servers_endpoint_and_lab_addresses,
         test_written_plan_loads_back_with_every_host, test_run_plan_replaces_the_builtin_one,
         test_bad_plan_files_are_refused_and_keep_the_table)
