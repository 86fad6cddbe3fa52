/* onsight-conform - the Onsight conformance runner (DESIGN §5, docs/man/onsight-conform.1).
 * Subcommands go through a name -> function table, as iproute2's ip(8) does. */
#define LOG_TAG "main"
#include "conform/analysis.h"
#include "fwlab.h"
#include "onsight/log.h"
#include "onsight/util.h"
#include "report.h"
#include "runner.h"
#include "scen.h"
#include "selftest.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_IDS 256

static const char usage_text[] =
        "usage: onsight-conform COMMAND [options]\n"
        "\n"
        "  run [--endpoint ADAPTER.json | --reference] [--scenario ID]... [--out DIR]\n"
        "      [--jobs N] [--shard I/N] [--junit F] [--json F] [--html F] [--keep-lab]\n"
        "      [--verbose]\n"
        "        run scenarios against an endpoint in the lab; reports in DIR (default out)\n"
        "  list [--json | --markdown]\n"
        "        scenarios, their checks and requirement IDs, the coverage matrix;\n"
        "        --markdown: the generated tables of docs/requirements.md\n"
        "  analyze CAPTURE... --scenario ID [--events [SERVICE=]F]... [--caps LIST]\n"
        "      [--timeline F] [--json F]\n"
        "        judge existing captures (e.g. one a customer sent) against a scenario\n"
        "  selftest [--scenario ID]... [--out DIR] [--jobs N]\n"
        "        run onsight-ref with every --fault: each must be caught by the checks that\n"
        "        declare it, and the fault-free endpoint must pass everything; then judge\n"
        "        every timeline mutation offline: every check must be killed by a column\n"
        "  selftest --offline RUN_DIR [--json F]\n"
        "        only the mutations, over an existing run's folders (no lab, no root)\n"
        "  merge [--out DIR] [--junit F] [--json F] [--html F] RESULTS.json...\n"
        "        combine the results.json of shards into one set of reports\n"
        "  gc    remove labs (and scratch folders) left behind by a killed runner\n"
        "  check-lab\n"
        "        exit 0 if network namespaces can be created here, else 3 and the reason\n"
        "  help | --help, version | --version\n"
        "\n"
        "Exit codes: 0 all pass; 1 a check failed; 2 usage or configuration error;\n"
        "3 lab or harness error; 4 the endpoint could not be started.\n";

static int usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "onsight-conform: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(onsight-conform --help for usage)\n");
	return EXIT_USAGE;
}

/* --scenario takes an ID, a comma-separated list, or is repeated. */
static int add_ids(const char **ids, size_t *n, char *arg)
{
	for (char *save = NULL, *t = strtok_r(arg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n >= MAX_IDS)
			return E2BIG;
		ids[(*n)++] = t;
	}
	return 0;
}

static int parse_run(int argc, char **argv, struct run_opts *o, const char **ids, int selftest)
{
	static const struct option opts[] = {{"endpoint", required_argument, NULL, 'e'},
	                                     {"reference", no_argument, NULL, 'r'},
	                                     {"scenario", required_argument, NULL, 's'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"jobs", required_argument, NULL, 'j'},
	                                     {"shard", required_argument, NULL, 'S'},
	                                     {"junit", required_argument, NULL, 'J'},
	                                     {"json", required_argument, NULL, 'O'},
	                                     {"html", required_argument, NULL, 'H'},
	                                     {"keep-lab", no_argument, NULL, 'k'},
	                                     {"verbose", no_argument, NULL, 'v'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	o->out = "out";
	o->jobs = 1;
	o->ids = ids;
	optind = 1;
	while ((c = getopt_long(argc, argv, "e:rs:o:j:J:O:H:kvh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (selftest)
				return usage_err("selftest always runs %s",
				                 "the reference endpoint");
			o->adapter_path = optarg;
			break;
		case 'r':
			o->reference = 1;
			break;
		case 's':
			if (add_ids(ids, &o->nids, optarg))
				return usage_err("too many --scenario values%s", "");
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'j':
			errno = 0;
			o->jobs = (int)strtol(optarg, &end, 10);
			if (errno || *end || o->jobs < 1 || o->jobs > 64)
				return usage_err("--jobs %s: a number from 1 to 64", optarg);
			break;
		case 'S':
			if (runner_parse_shard(optarg, &o->shard_i, &o->shard_n))
				return usage_err("--shard %s: I/N with 1 <= I <= N", optarg);
			break;
		case 'J':
			o->junit = optarg;
			break;
		case 'O':
			o->json = optarg;
			break;
		case 'H':
			o->html = optarg;
			break;
		case 'k':
			o->keep_lab = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_err("unexpected argument \"%s\"", argv[optind]);
	if (o->adapter_path && o->reference)
		return usage_err("give --endpoint or --reference, not both%s", "");
	if (!o->adapter_path)
		o->reference = 1;
	o->progress = isatty(STDERR_FILENO);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	const char *ids[MAX_IDS];
	int e = parse_run(argc, argv, &o, ids, 0);

	return e ? e : runner_run(&o);
}

/* selftest --offline RUN_DIR [--json FILE]: no lab, so none of the run options. */
static int selftest_offline(int argc, char **argv)
{
	const char *dir = NULL, *json = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--offline") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else
			return usage_err("selftest --offline: unexpected argument \"%s\"", argv[i]);
	}
	if (!dir)
		return usage_err("selftest --offline needs a run folder%s", "");
	return selftest_offline_main(dir, json);
}

static int cmd_selftest(int argc, char **argv)
{
	struct run_opts o;
	const char *ids[MAX_IDS];

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--offline"))
			return selftest_offline(argc, argv);
	int e = parse_run(argc, argv, &o, ids, 1);

	return e ? e : runner_selftest(&o);
}

static int cmd_analyze(int argc, char **argv)
{
	return conform_analyze_main(argc, argv);
}

static void print_list(const char *const *l)
{
	for (size_t i = 0; l && l[i]; i++)
		printf("%s%s", i ? "," : "", l[i]);
}

/* The generated tables of docs/requirements.md: requirement -> checks, fault -> checks that
 * must trip it (from every scenario's `catches`). The doc holds exactly this output between
 * its "generated" markers, and a test keeps the two equal. */
static void list_markdown(struct conform_scenario *const *all, size_t n, const json_t *cov)
{
	json_t *faults = json_object(), *row, *c, *list;
	const char *name;
	size_t i, k;

	printf("| ID | checks |\n|---|---|\n");
	json_array_foreach(cov, i, row)
	{
		printf("| %s | ", json_string_value(json_object_get(row, "req")));
		if (!json_array_size(json_object_get(row, "checks")))
			printf("(not covered)");
		json_array_foreach(json_object_get(row, "checks"), k, c)
		{
			printf("%s%s", k ? ", " : "",
			       json_string_value(json_object_get(c, "check")));
		}
		printf(" |\n");
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < conform_scenario_check_count(all[i]); k++) {
			const struct conform_check_info *ci = conform_scenario_check(all[i], k);
			for (const char *const *f = ci->catches; f && *f; f++) {
				if (!(list = json_object_get(faults, *f)))
					json_object_set_new(faults, *f, list = json_array());
				json_array_append_new(list,
				                      json_sprintf("%s: %s",
				                                   conform_scenario_id(all[i]),
				                                   ci->id));
			}
		}
	printf("\n| fault | checks that must fail with it (scenario: check) |\n|---|---|\n");
	json_object_foreach(faults, name, list)
	{
		printf("| `%s` | ", name);
		json_array_foreach(list, k, c)
		{
			printf("%s%s", k ? ", " : "", json_string_value(c));
		}
		printf(" |\n");
	}
	json_decref(faults);
}

static int cmd_list(int argc, char **argv)
{
	struct conform_scenario **all = NULL;
	size_t n = 0;
	char err[512];
	int as_json = 0, as_md = 0, e;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			as_json = 1;
		else if (!strcmp(argv[i], "--markdown"))
			as_md = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else
			return usage_err("list: unexpected argument \"%s\"", argv[i]);
	}
	if ((e = conform_scenario_load_dir(&all, &n, conform_scenario_default_dir(), err,
	                                   sizeof(err)))) {
		fprintf(stderr, "onsight-conform: %s\n", err);
		return EXIT_USAGE;
	}
	json_t *cov = conform_coverage(all, n);
	if (as_md) {
		list_markdown(all, n, cov);
	} else if (as_json) {
		json_t *doc = json_pack("{s:[],s:O}", "scenarios", "coverage", cov);
		for (size_t i = 0; i < n; i++)
			json_array_append(json_object_get(doc, "scenarios"),
			                  (json_t *)conform_scenario_json(all[i]));
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else {
		for (size_t i = 0; i < n; i++) {
			const struct conform_scenario *s = all[i];
			printf("%-14s %s\n  profile %s, account %s, deadline %.0f s, requires ",
			       conform_scenario_id(s), conform_scenario_title(s),
			       conform_scenario_profile(s), conform_scenario_account(s),
			       conform_scenario_deadline(s));
			print_list(conform_scenario_requires(s));
			printf("\n");
			for (size_t k = 0; k < conform_scenario_check_count(s); k++) {
				const struct conform_check_info *c = conform_scenario_check(s, k);
				printf("  %-8s [", c->id);
				print_list(c->req);
				printf("] %s", c->description);
				if (c->catches && c->catches[0]) {
					printf(" (catches ");
					print_list(c->catches);
					printf(")");
				}
				printf("\n");
			}
		}
		printf("\nRequirement coverage:\n");
		size_t i;
		json_t *row;
		json_array_foreach(cov, i, row)
		{
			size_t k;
			json_t *c;
			printf("  %-12s %-44.44s ", json_string_value(json_object_get(row, "req")),
			       json_string_value(json_object_get(row, "title")) ?: "");
			if (!json_array_size(json_object_get(row, "checks")))
				printf("(not covered)");
			json_array_foreach(json_object_get(row, "checks"), k, c)
			{
				printf("%s%s", k ? " " : "",
				       json_string_value(json_object_get(c, "check")) ?: "");
			}
			printf("\n");
		}
	}
	json_decref(cov);
	conform_scenario_list_free(all, n);
	return 0;
}

/* Points each scenario's "dir" of a shard at its files, as seen from the merged out dir. */
static void rebase_dirs(json_t *r, const char *results_path, const char *out_abs)
{
	char tmp[PATH_MAX], base[PATH_MAX], full[PATH_MAX * 2];
	size_t i, ol = strlen(out_abs);
	json_t *s;

	snprintf(tmp, sizeof(tmp), "%s", results_path);
	char *rp = realpath(dirname(tmp), NULL);
	if (!rp)
		return;
	snprintf(base, sizeof(base), "%s", rp);
	free(rp);
	json_t *all = json_array();
	json_array_extend(all, json_object_get(r, "scenarios"));
	json_t *f;
	size_t fi;
	json_array_foreach(json_object_get(json_object_get(r, "selftest"), "faults"), fi, f)
	{
		json_array_extend(all, json_object_get(f, "runs"));
	}
	json_array_foreach(all, i, s)
	{
		const char *d = json_string_value(json_object_get(s, "dir"));
		if (!d || d[0] == '/')
			continue;
		snprintf(full, sizeof(full), "%s/%s", base, d);
		if (!strncmp(full, out_abs, ol) && full[ol] == '/')
			json_object_set_new(s, "dir", json_string(full + ol + 1));
		else
			json_object_set_new(s, "dir", json_string(full));
	}
	json_decref(all);
}

static int cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"out", required_argument, NULL, 'o'},  {"junit", required_argument, NULL, 'J'},
	        {"json", required_argument, NULL, 'O'}, {"html", required_argument, NULL, 'H'},
	        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
	const char *out = "out", *junit = NULL, *js = NULL, *html = NULL;
	json_t *parts[MAX_IDS] = {0}, *merged = NULL;
	size_t n = 0;
	char err[512];
	int c, code = EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:J:O:H:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'J':
			junit = optarg;
			break;
		case 'O':
			js = optarg;
			break;
		case 'H':
			html = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_err("merge: give the results.json of each shard%s", "");
	if (argc - optind > MAX_IDS)
		return usage_err("merge: at most 256 parts%s", "");
	if (runner_mkdirs(out))
		return usage_err("merge: cannot create %s", out);
	char *out_abs = realpath(out, NULL);
	if (!out_abs)
		return EXIT_USAGE;
	for (int i = optind; i < argc; i++) {
		if (results_load(&parts[n], argv[i], err, sizeof(err))) {
			fprintf(stderr, "onsight-conform: %s\n", err);
			goto out;
		}
		rebase_dirs(parts[n], argv[i], out_abs);
		n++;
	}
	if (results_merge(parts, n, &merged, err, sizeof(err))) {
		fprintf(stderr, "onsight-conform: merge: %s\n", err);
		goto out;
	}
	if (runner_write_reports(merged, out, js, junit, html)) {
		code = EXIT_HARNESS;
		goto out;
	}
	code = results_exit_code(merged);
	printf("onsight-conform: merged %zu parts, %zu scenarios; report: %s/report.html "
	       "(exit %d)\n",
	       n, json_array_size(json_object_get(merged, "scenarios")), out, code);
out:
	for (size_t i = 0; i < n; i++)
		json_decref(parts[i]);
	json_decref(merged);
	free(out_abs);
	return code;
}

static int cmd_gc(int argc, char **argv)
{
	char report[4096] = "";
	int e;

	(void)argv;
	if (argc > 1)
		return usage_err("gc takes no arguments%s", "");
	e = fwlab_gc(report, sizeof(report));
	fputs(*report ? report : "onsight-conform: no stale labs\n", stdout);
	scen_gc_rundirs();
	return e ? EXIT_HARNESS : 0;
}

static int cmd_check_lab(int argc, char **argv)
{
	char why[512] = "";

	(void)argv;
	if (argc > 1)
		return usage_err("check-lab takes no arguments%s", "");
	if (fwlab_available(why, sizeof(why))) {
		printf("onsight-conform: the lab cannot run here: %s\n", why);
		return EXIT_HARNESS;
	}
	printf("onsight-conform: the lab can run here\n");
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("onsight-conform %s\n", ONSIGHT_VERSION);
	return 0;
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
        {"run", cmd_run},
        {"list", cmd_list},
        {"analyze", cmd_analyze},
        {"selftest", cmd_selftest},
        {"merge", cmd_merge},
        {"gc", cmd_gc},
        {"check-lab", cmd_check_lab},
        {"help", cmd_help},
        {"--help", cmd_help},
        {"-h", cmd_help},
        {"version", cmd_version},
        {"--version", cmd_version},
};

int main(int argc, char **argv)
{
	log_init("onsight-conform", LOG_LVL_INFO);
	util_ignore_sigpipe();
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, argv[1]))
			return cmds[i].fn(argc - 1, argv + 1);
	return usage_err("unknown command \"%s\"", argv[1]);
}
