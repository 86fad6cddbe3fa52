/* conform/analysis.h - the analysis half of onsight-conform: scenario files, the timeline
 * (captures + journals merged in time order) and the checks that judge it.
 *
 * Formats: docs/scenarios.md (scenario files and rules), docs/timeline.md (timeline events),
 * docs/requirements.md (requirement IDs). Static library target `conform-analysis`
 * (conformance/analysis.cmake).
 *
 * Ownership: `const` pointers returned by accessors borrow from the object they came from and
 * live as long as it. Constructors return 0 or an errno and set *out only on success; every
 * _free accepts NULL. Functions taking `err, errlen` write a one-line human message there
 * (file, line/column or JSON path where known) when they fail.
 */
#ifndef CONFORM_ANALYSIS_H
#define CONFORM_ANALYSIS_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define CONFORM_WUR __attribute__((warn_unused_result))

/* ---- scenario files (docs/scenarios.md) ---------------------------------------------- */

struct conform_scenario; /* opaque: one loaded and validated scenario file */

/* What the runner executes, in order. The loader has already checked kinds and keys. */
enum conform_step_kind {
	CONFORM_STEP_WAIT, /* wait for an endpoint status event `for` (new since the step
	                          began), at most timeout_s */
	CONFORM_STEP_CALL_IN, /* the far-end peer calls the endpoint; call lasts seconds */
	CONFORM_STEP_CALL_OUT, /* the endpoint calls `uri` (default sip:peer@<domain>) */
	CONFORM_STEP_HANGUP, /* end the current call */
	CONFORM_STEP_MIGRATE, /* move the endpoint: `to` is "inside" or "outside" */
	CONFORM_STEP_APPLY, /* swap the firewall rules to `profile` */
	CONFORM_STEP_SLEEP, /* let time pass: seconds */
	CONFORM_STEP_STOP, /* stop the endpoint (SIGTERM) */
};

struct conform_step {
	enum conform_step_kind kind;
	const char *do_name; /* the "do" string as written */
	const char *event; /* WAIT: endpoint status event name, e.g. "registered" */
	const char *to; /* MIGRATE: "inside" | "outside" */
	const char *profile; /* APPLY: profile name or path */
	const char *uri; /* CALL_OUT: NULL = the peer of the scenario's domain */
	double timeout_s; /* WAIT (default 10), CALL_IN/CALL_OUT: answer timeout (10) */
	double seconds; /* SLEEP: seconds; CALL_IN/CALL_OUT: call length (default 3) */
};

/* Loads and validates a scenario file (strict keys, known requirement IDs, valid rules and
 * regexes). `text` variant: for tests and fuzzing; name is used in messages. */
int conform_scenario_load(struct conform_scenario **sp, const char *path, char *err,
                          size_t errlen) CONFORM_WUR;
int conform_scenario_parse(struct conform_scenario **sp, const char *text, size_t len,
                           const char *name, char *err, size_t errlen) CONFORM_WUR;
void conform_scenario_free(struct conform_scenario *s);

/* Every *.json of dir, sorted by scenario ID. On failure nothing is returned. */
int conform_scenario_load_dir(struct conform_scenario ***listp, size_t *np, const char *dir,
                              char *err, size_t errlen) CONFORM_WUR;
/* Finds `id_or_path` (an existing file path, or a scenario ID looked up in dir). */
int conform_scenario_find(struct conform_scenario **sp, const char *dir, const char *id_or_path,
                          char *err, size_t errlen) CONFORM_WUR;
void conform_scenario_list_free(struct conform_scenario **list, size_t n);

/* The built-in scenario folder: ONSIGHT_SOURCE_DIR/conformance/scenarios, unless the
 * environment variable ONSIGHT_SCENARIOS names another one. */
const char *conform_scenario_default_dir(void);

const char *conform_scenario_id(const struct conform_scenario *s);
const char *conform_scenario_title(const struct conform_scenario *s);
const char *conform_scenario_profile(const struct conform_scenario *s);
const char *conform_scenario_account(const struct conform_scenario *s);
const char *conform_scenario_path(const struct conform_scenario *s); /* "" when parsed */
double conform_scenario_deadline(const struct conform_scenario *s); /* deadline_s */
/* Scenario-level capabilities ("requires"), NULL-terminated. */
const char *const *conform_scenario_requires(const struct conform_scenario *s);
/* Note sections ("note"), NULL-terminated. */
const char *const *conform_scenario_note(const struct conform_scenario *s);
/* Optional "lab" object of the file (how the runner sets the lab up: "start": "inside" |
 * "outside", "oam_cert": "valid" | "untrusted" | "expired", "config": a partial endpoint
 * configuration merged over the account's, see docs/scenarios.md): borrowed, may be NULL.
 * The analyzer only checks that it is an object. */
const json_t *conform_scenario_lab(const struct conform_scenario *s);
/* The whole document as loaded (borrowed). */
const json_t *conform_scenario_json(const struct conform_scenario *s);

size_t conform_scenario_step_count(const struct conform_scenario *s);
const struct conform_step *conform_scenario_step(const struct conform_scenario *s, size_t i);

struct conform_check_info {
	const char *id; /* "S2.3" */
	const char *description;
	const char *const *req; /* requirement IDs, NULL-terminated */
	const char *const *requires; /* capabilities, NULL-terminated (may be empty) */
	const char *const *catches; /* reference-endpoint faults this check is meant to trip */
};
size_t conform_scenario_check_count(const struct conform_scenario *s);
const struct conform_check_info *conform_scenario_check(const struct conform_scenario *s, size_t i);

/* ---- timeline (docs/timeline.md) ------------------------------------------------------ */

struct conform_timeline; /* opaque */

struct conform_timeline_limits {
	size_t max_events; /* default 2,000,000: further events are counted, not kept */
	size_t max_flows; /* TCP flows tracked at once (default 65536) */
	size_t max_stream_buf; /* per direction reassembly + message buffer (default 256 KiB) */
	unsigned rtp_port_min; /* RTP heuristic port range, default 1..65535: the checks    */
	unsigned rtp_port_max; /* judge the configured media range, the decoder must see all */
};

int conform_timeline_alloc(struct conform_timeline **tp,
                           const struct conform_timeline_limits *lim /* NULL = defaults */)
        CONFORM_WUR;
void conform_timeline_free(struct conform_timeline *t);

/* Decodes a pcap or pcapng file; events are named "pcap:<capture>#<frame>" (frames count
 * from 1 as in Wireshark). capture NULL = the file's base name without extension. */
int conform_timeline_add_pcap(struct conform_timeline *t, const char *path, const char *capture,
                              char *err, size_t errlen) CONFORM_WUR;
/* Same from memory (fuzzing, tests). */
int conform_timeline_add_pcap_mem(struct conform_timeline *t, const void *data, size_t len,
                                  const char *capture, char *err, size_t errlen) CONFORM_WUR;
/* A JSON Lines journal. Lines without "service" get `service` (NULL = base name of the file
 * up to the first '.'). Lines that are not JSON objects with "ts" and "event" are counted
 * as skipped (conform_timeline_stats), not fatal. */
int conform_timeline_add_journal(struct conform_timeline *t, const char *path, const char *service,
                                 char *err, size_t errlen) CONFORM_WUR;
int conform_timeline_add_journal_mem(struct conform_timeline *t, const char *text, size_t len,
                                     const char *service, char *err, size_t errlen) CONFORM_WUR;
/* Flushes per-flow state (unanswered SYNs, RTP/UDP stream summaries) and sorts by time.
 * Called implicitly by the functions below; adding after it is allowed (re-sorts). */
/* The events of a saved timeline.json (an array of event objects, as conform_timeline_save
 * writes them; borrowed) added to t, to judge a run again offline. Every element must be an
 * object with a number `t` and a string `kind`, else nothing is added (EINVAL). The events
 * are shared with `events`, not copied: neither side may change them afterwards. */
int conform_timeline_add_events_json(struct conform_timeline *t, const json_t *events, char *err,
                                     size_t errlen) CONFORM_WUR;
void conform_timeline_finish(struct conform_timeline *t);

size_t conform_timeline_count(struct conform_timeline *t);
/* Event i (a JSON object, borrowed) in time order. */
const json_t *conform_timeline_event(struct conform_timeline *t, size_t i);
/* The whole timeline as a JSON array (new reference). */
json_t *conform_timeline_json(struct conform_timeline *t);
int conform_timeline_save(struct conform_timeline *t, const char *path, char *err,
                          size_t errlen) CONFORM_WUR;

struct conform_timeline_stats {
	unsigned long long frames; /* pcap records read */
	unsigned long long bytes; /* captured bytes read */
	unsigned long long undecoded; /* frames not IPv4/IPv6 or truncated */
	unsigned long long dropped_events; /* over max_events */
	unsigned long long journal_lines;
	unsigned long long journal_skipped;
	unsigned long long tcp_gaps; /* reassembly gaps (lost or uncaptured segments) */
	unsigned long long ip_reassembled; /* IP datagrams rebuilt from fragments */
	unsigned long long
	        ip_frag_dropped; /* fragmented datagrams never completed (or malformed) */
};
void conform_timeline_stats(const struct conform_timeline *t, struct conform_timeline_stats *st);

/* Address book used by {"host": NAME} matchers and to name addresses in the evidence: starts
 * with the built-in lab address plan; a later entry for the same name replaces the address. */
int conform_hosts_add(struct conform_timeline *t, const char *name, const char *addr) CONFORM_WUR;
/* Replaces the address book with a run's plan file (hosts.json:
 * {"format":"onsight-lab/hosts/1","hosts":[{"name","addr",...}]}). 0, ENOENT if the file
 * cannot be read, EINVAL if it is not a plan; the reason in err. On error the book is kept. */
int conform_hosts_load(struct conform_timeline *t, const char *path, char *err,
                       size_t errlen) CONFORM_WUR;
/* The host name of an address ("ip", "ip:port", "[v6]:port"); NULL when the plan has none.
 * The name is borrowed from the timeline. */
const char *conform_hosts_name(const struct conform_timeline *t, const char *addr);

/* ---- checks and verdicts -------------------------------------------------------------- */

enum conform_verdict { CONFORM_PASS = 0, CONFORM_FAIL, CONFORM_NA, CONFORM_ERROR };
const char *conform_verdict_name(enum conform_verdict v); /* "pass" "fail" "n/a" "error" */

struct conform_evidence {
	double t;
	const char *kind;
	const char *src; /* "pcap:ep#12" or "journal:mock-sip" */
	const char *capture; /* NULL for journal events */
	long frame; /* 0 for journal events */
	const char *summary; /* one line, e.g. "sip.request REGISTER 198.51.100.10:5060 -> ..." */
};

struct conform_result {
	const struct conform_check_info *check; /* borrowed from the scenario */
	enum conform_verdict verdict;
	const char *expected; /* human text: what the rule wants */
	const char *observed; /* human text: what the timeline shows */
	const char *reason; /* n/a or error reason, else NULL */
	size_t n_evidence; /* at most 8 events named */
	const struct conform_evidence *evidence;
	/* What evidence the check needs, in words generated from its rule ("a sip.request with
	 * method REGISTER to sip.librestream.com; then a mock-sip.register with result ok");
	 * borrowed from the scenario. */
	const char *needs;
	/* 1 when the check failed only because the scenario's witness never happened ("no
	 * evidence: ..."): the rule could not be judged, which says nothing about the behaviour
	 * it judges. results JSON: "unwitnessed": true. */
	int unwitnessed;
};

struct conform_results; /* opaque */

/* Judges every check of s over t. caps: the endpoint's declared capabilities (NULL-terminated;
 * NULL = all declared). A check whose scenario or own "requires" names a capability not in
 * caps is "n/a" with reason "capability X not declared". */
int conform_analyze(struct conform_results **rp, const struct conform_scenario *s,
                    struct conform_timeline *t, const char *const *caps) CONFORM_WUR;
void conform_results_free(struct conform_results *r);
size_t conform_results_count(const struct conform_results *r);
const struct conform_result *conform_results_get(const struct conform_results *r, size_t i);
/* Worst verdict: FAIL if any check failed, else ERROR if any errored, else PASS (n/a and
 * pass only). */
enum conform_verdict conform_results_worst(const struct conform_results *r);
/* {"scenario":ID,"checks":[{"id","req":[],"description","verdict","expected","observed",
 *   "reason","evidence":[{t,kind,src,capture,frame,summary}]}], "summary":{pass,fail,na,error}}
 * (new reference). */
json_t *conform_results_json(const struct conform_results *r);
/* Plain text, one line per check plus expected/observed/evidence lines for failures. */
void conform_results_print(const struct conform_results *r, FILE *f);

/* ---- requirements (docs/requirements.md) ---------------------------------------------- */

struct conform_requirement {
	const char *id; /* "R-AUTH-1" */
	const char *title;
	const char *note; /* "§1, §1.1" */
};
size_t conform_requirement_count(void);
const struct conform_requirement *conform_requirement_get(size_t i);
const struct conform_requirement *conform_requirement_find(const char *id);
/* Coverage matrix: [{"req","title","note","checks":[{"scenario","check"}]}] over the given
 * scenarios, in requirement-table order; requirements no check covers have "checks": []
 * (new reference). */
json_t *conform_coverage(struct conform_scenario *const *list, size_t n);

/* ---- the `analyze` subcommand ---------------------------------------------------------- */

/* onsight-conform analyze CAPTURE... --scenario ID|FILE [--events [SERVICE=]FILE]...
 *     [--caps a,b,c] [--scenarios DIR] [--timeline FILE] [--json FILE] [--quiet]
 * CAPTURE is PATH or NAME=PATH (NAME = capture/link name used in the timeline).
 * argv[0] is the subcommand name. Prints the verdicts; returns the process exit code:
 * 0 all pass (or n/a), 1 a check failed (or could not be evaluated), 2 usage/configuration
 * error, 3 unreadable input. */
int conform_analyze_main(int argc, char **argv);

#endif
