/* selftest.h - the kill matrix: every check of every scenario against every deliberate fault
 * run and every timeline mutation (docs/selftest.md).
 *
 * A check is killed by a column (a fault run "fault:NAME" or a mutation "mutation:NAME") when
 * it fails there - not error, not n/a - and passes in the fault-free run.
 */
#ifndef CONFORM_SELFTEST_H
#define CONFORM_SELFTEST_H

#include <jansson.h>
#include <stdio.h>

#include "conform/analysis.h"

/* Judges sc over a saved timeline (borrowed) fault-free and under every mutation. hosts: the
 * "hosts" array of the run's hosts.json or NULL. caps as conform_analyze. Returns
 * {"clean":{CHECK:verdict},"columns":[{"by":"mutation:NAME","verdicts":{CHECK:verdict}}],
 *  "not_applicable":[NAME]} (new reference) or NULL with err set. */
json_t *selftest_judge_mutations(const struct conform_scenario *sc, const json_t *timeline,
                                 const json_t *hosts, const char *const *caps, char *err,
                                 size_t errlen);

/* The matrix of a run folder: results (borrowed; its "scenarios" are the fault-free run, its
 * "selftest.faults[].runs[].dir" the fault runs, read from run_dir/DIR/result.json) and every
 * fault-free scenario's run_dir/DIR/timeline.json judged under every mutation. Scenario files
 * come from scen_dir. *matrixp: {"checks":[{scenario,check,req,clean,killed_by:[{by,
 * verdict}]}],"never_killed":["SCENARIO/CHECK"],"requirements_never_killed":[ID],
 * "columns":[...],"counts":{...}}. */
int selftest_matrix_from_run(const char *run_dir, const json_t *results, const char *scen_dir,
                             json_t **matrixp, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* The matrix compactly: one line per check with its killers, then the checks never killed. */
void selftest_print(const json_t *matrix, FILE *f);
/* 0 when every check is killed (by a fail) and every requirement has a killed check, else 1. */
int selftest_matrix_exit(const json_t *matrix);

/* `selftest --offline RUN_DIR [--json FILE]`: the matrix of an existing run, no lab. */
int selftest_offline_main(const char *run_dir, const char *json_out);

#endif
