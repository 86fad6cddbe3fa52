/* runner.h - `run` and `selftest`: scenarios as jobs in parallel labs, results, reports. */
#ifndef CONFORM_RUNNER_H
#define CONFORM_RUNNER_H

#include <stddef.h>

struct run_opts {
	const char *adapter_path; /* NULL with reference = the onsight-ref adapter */
	int reference;
	const char *const *ids; /* --scenario (IDs or files); NULL/0 = all */
	size_t nids;
	const char *out;
	int jobs;
	int shard_i, shard_n; /* 1-based index of count; 0/0 = no sharding */
	const char *junit, *json, *html; /* NULL = in out */
	int keep_lab;
	int verbose;
	int progress; /* live progress line (a terminal) */
};

/* Both return the process exit code (report.h enum conform_exit). */
int runner_run(const struct run_opts *o);
int runner_selftest(const struct run_opts *o);

/* Parses "I/N" (1 <= I <= N <= 1000); 0 or EINVAL. */
int runner_parse_shard(const char *s, int *i, int *n);
/* Writes results.json, junit.xml and report.html for r (paths from o, default in o->out). */
struct json_t;
int runner_write_reports(struct json_t *r, const char *out, const char *json, const char *junit,
                         const char *html);
/* mkdir -p; 0 or an errno. */
int runner_mkdirs(const char *path);
/* The repository tree the runner uses for scripts, adapters and the lab accounts:
 * $ONSIGHT_SOURCE_DIR or the tree it was built from. */
const char *runner_source_dir(void);

#endif
