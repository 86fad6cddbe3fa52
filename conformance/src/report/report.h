/* report.h - the run's results document and the reports made from it.
 *
 * results.json (format "onsight-conform/results/1", described in conformance/README.md) is
 * the one source every report is rendered from: report.html, junit.xml, and `merge`, which
 * combines the results of shards into one document and renders the reports again.
 */
#ifndef CONFORM_REPORT_H
#define CONFORM_REPORT_H

#include <jansson.h>
#include <stddef.h>

#define RESULTS_FORMAT "onsight-conform/results/1"
#define RESULTS_MAX_FILE (64u << 20)
#define REPORT_MAX_HTML (64u << 20)
#define TIMELINE_MAX_FILE (32u << 20)

/* Exit codes of onsight-conform (DESIGN §5). */
enum conform_exit {
	EXIT_PASS = 0,
	EXIT_CHECK_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_HARNESS = 3,
	EXIT_ENDPOINT = 4,
};

/* Scenario verdicts; check verdicts use pass, fail, na, error. */
#define V_PASS "pass"
#define V_FAIL "fail"
#define V_ERROR "error" /* the lab or harness failed: exit 3 */
#define V_NOT_STARTED "not-started" /* the endpoint could not be started: exit 4 */
#define V_NA "na" /* not applicable: a required capability is not declared */

/* Loads and checks the shape of a results document (format, scenarios array). */
int results_load(json_t **rootp, const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));
/* Merges shard results (borrowed) into a new document: scenarios concatenated in id order,
 * requirements and selftest taken once; duplicate scenario ids are an error. */
int results_merge(json_t *const *parts, size_t n, json_t **outp, char *err, size_t errlen)
        __attribute__((warn_unused_result));
/* Recomputes "summary" and "exit_code" from the scenarios; returns the exit code:
 * 3 if any scenario is an error, else 4 if an endpoint could not start, else 1 if any
 * check failed, else 0. */
int results_finish(json_t *r);
int results_exit_code(const json_t *r);

int report_write_json(const json_t *r, const char *path) __attribute__((warn_unused_result));
int report_write_junit(const json_t *r, const char *path) __attribute__((warn_unused_result));
/* outdir is where the scenario directories (with their timeline.json) live; the ladder
 * diagrams are drawn from those timelines. */
int report_write_html(const json_t *r, const char *outdir, const char *path)
        __attribute__((warn_unused_result));

/* The ladder diagram of a timeline (a JSON array, borrowed) as inline SVG, appended to b. */
struct buf;
int report_ladder_svg(struct buf *b, const json_t *timeline, const char *title);

#endif
