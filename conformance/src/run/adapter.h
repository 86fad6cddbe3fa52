/* adapter.h - how an endpoint plugs into the runner (docs/adapters.md).
 *
 * An adapter file names the endpoint's command line with placeholders, its environment,
 * files it needs written into its work directory, the capabilities it declares, when it
 * counts as ready and how it is stopped. Parsing is strict: unknown keys, unknown
 * placeholders and unknown capabilities are errors that name the file and key path.
 */
#ifndef CONFORM_ADAPTER_H
#define CONFORM_ADAPTER_H

#include <jansson.h>
#include <stddef.h>

#define ADAPTER_MAX_FILE (256u << 10) /* largest adapter file read */
#define ADAPTER_MAX_ARGS 128
#define ADAPTER_MAX_ENV 64
#define ADAPTER_MAX_FILES 16
#define ADAPTER_MAX_EXPANDED (64u << 10) /* longest expansion of one template */

/* Capabilities an endpoint may declare (a bit each). */
enum adapter_cap {
	CAP_OAM_LOGIN = 1 << 0,
	CAP_TEAMLINK = 1 << 1,
	CAP_TLS = 1 << 2,
	CAP_AUTO_ANSWER = 1 << 3,
	CAP_CALL_OUT = 1 << 4,
};

/* "oam-login" -> CAP_OAM_LOGIN; 0 if unknown. */
unsigned adapter_cap_parse(const char *name);
/* CAP_OAM_LOGIN -> "oam-login"; NULL if not exactly one known bit. */
const char *adapter_cap_name(unsigned cap);

enum adapter_ready_kind {
	READY_START, /* ready as soon as the process runs */
	READY_STDOUT, /* a line of stdout matches an extended regex */
	READY_JOURNAL, /* an event appears in a mock service's journal */
};

/* The values placeholders expand to; NULL or "" means "not available here". */
struct adapter_vars {
	const char *oam_url, *username, *password, *password_file, *ca_file, *proxy, *workdir,
	        *call_uri, *events, *sip_uri, *sip_user, *sip_password, *sip_domain, *sip_server,
	        *sip_transport, *call_after, *call_hold, *fault, *keylog;
};

struct adapter;

/* Parses an adapter from text; name is used in messages ("FILE: $.key: problem"). */
int adapter_parse(struct adapter **ap, const char *name, const char *text, size_t len, char *err,
                  size_t errlen) __attribute__((warn_unused_result));
int adapter_load(struct adapter **ap, const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void adapter_free(struct adapter *a);

const char *adapter_name(const struct adapter *a);
unsigned adapter_caps(const struct adapter *a);
/* Comma-separated capability names into buf; returns buf. */
const char *adapter_caps_str(unsigned caps, char *buf, size_t len);
enum adapter_ready_kind adapter_ready_kind(const struct adapter *a);
/* READY_STDOUT: the regex; READY_JOURNAL: the service ("mock-sip"). */
const char *adapter_ready_pattern(const struct adapter *a);
/* READY_JOURNAL: the event name ("register"). */
const char *adapter_ready_event(const struct adapter *a);
/* Seconds the runner waits for readiness. */
int adapter_ready_timeout_s(const struct adapter *a);
int adapter_stop_signal(const struct adapter *a);
int adapter_stop_grace_ms(const struct adapter *a);
/* READY_JOURNAL: 1 if the journal line ev (its "service", "event" and every field the
 * adapter's "fields" name, equal values) is the one the endpoint is ready at. */
int adapter_ready_journal_match(const struct adapter *a, const json_t *ev);
/* 1 if a line matches the READY_STDOUT regex. */
int adapter_ready_match(const struct adapter *a, const char *line);

/* Expands one template. "{name}" is a placeholder, "{{" and "}}" are literal braces.
 * Returns 0; ENOENT if a placeholder has no value (missing names it, when not NULL);
 * EINVAL on an unknown placeholder or unbalanced brace; E2BIG past ADAPTER_MAX_EXPANDED.
 * Caller frees *outp. */
int adapter_expand(const char *tmpl, const struct adapter_vars *v, char **outp,
                   const char **missing) __attribute__((warn_unused_result));

/* The command line: a NULL-terminated argv (caller frees with adapter_strv_free). Optional
 * groups whose placeholders have no value are left out; a required argument without a
 * value is an error (ENOENT, with the reason in err). */
int adapter_argv(const struct adapter *a, const struct adapter_vars *v, char ***argvp, char *err,
                 size_t errlen) __attribute__((warn_unused_result));
/* "KEY=value" strings for the adapter's environment (added to the runner's own). */
int adapter_envv(const struct adapter *a, const struct adapter_vars *v, char ***envp, char *err,
                 size_t errlen) __attribute__((warn_unused_result));
/* Writes the adapter's files (paths and contents expanded) with mode 0600. */
int adapter_write_files(const struct adapter *a, const struct adapter_vars *v, char *err,
                        size_t errlen) __attribute__((warn_unused_result));
void adapter_strv_free(char **v);

#endif
