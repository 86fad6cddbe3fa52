/* scen.h - one scenario, end to end, in the calling process: lab up, mock services, captures,
 * endpoint through its adapter, the scenario's steps under a hard deadline, teardown,
 * pcapng with TLS secrets, judgement by the analysis library.
 *
 * The runner calls scen_run in a child process per scenario (so --jobs N labs run side by
 * side and a stuck scenario can always be killed and its lab collected by fwlab_gc).
 */
#ifndef CONFORM_SCEN_H
#define CONFORM_SCEN_H

#include <jansson.h>

struct adapter;
struct conform_scenario;

struct scen_spec {
	const struct conform_scenario *sc;
	const struct adapter *ad;
	const char *adapter_path;
	const char *outdir; /* the run's --out */
	const char *dir; /* this scenario's directory, relative to outdir */
	const char *prefix; /* lab prefix, unique per job */
	const char *certs; /* scripts/mkcerts output */
	const char *jwt_secret; /* file */
	const char *accounts; /* mock-oam accounts file (the lab's accounts) */
	const char *tooldirs; /* ':'-separated dirs of the built binaries, put first in PATH */
	const char *fault; /* onsight-ref --fault for selftest, or NULL */
	int keep_lab; /* leave the lab up after the scenario (for inspection) */
	int verbose;
};

/* Runs the scenario; always returns a scenario result object (see conformance/README.md)
 * whose "verdict" is pass, fail, error (lab/harness), not-started (endpoint) or na. */
json_t *scen_run(const struct scen_spec *spec);

/* Set from a signal handler: the scenario stops what it is doing and tears down. */
void scen_interrupt(void);

/* Removes the scratch folders (mock-sip control sockets) of killed runs: no lab with their
 * prefix any more, and untouched for a minute (a scenario makes its folder just before its
 * lab and removes it just after). Prints a line per folder removed. */
void scen_gc_rundirs(void);

/* Writes the account (username) of accounts_path, with overlay (borrowed, may be NULL)
 * merged over its "config", into out_path as a one-account accounts file; the account's
 * merged object is returned (new reference) in *accountp when not NULL. */
int scen_write_accounts(const char *accounts_path, const char *username, const json_t *overlay,
                        const char *out_path, json_t **accountp, char *err, size_t errlen)
        __attribute__((warn_unused_result));

#endif
