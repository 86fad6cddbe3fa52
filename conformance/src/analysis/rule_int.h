/* rule_int.h - the compiled form of scenario rules (rules.c, rule_match.c; not installed).
 *
 * A scenario's rules are compiled once when the file loads: every rule becomes a tree of
 * typed nodes, every matcher a typed node with its argument parsed (regexes compiled, CIDR
 * prefixes parsed, ranges read). Judging walks these trees only; it never reads the rule's
 * JSON again. Names in {"host": ...} matchers are resolved through the timeline's host
 * table when judging, since the address plan belongs to the run.
 */
#ifndef CONFORM_RULE_INT_H
#define CONFORM_RULE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "analysis_int.h"

#define RULE_MAX_DEPTH 16

/* A growing text; allocation failure truncates (texts are for people). */
struct sbuf {
	char *p;
	size_t len, cap;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sb_take(struct sbuf *b); /* caller frees; never NULL unless out of memory */

/* "path: message" into err; returns EINVAL. */
int verr(char *err, size_t errlen, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ---- matchers (rule_match.c) ------------------------------------------------------------ */

struct matcher; /* one compiled matcher: literal, one_of, regex, glob, ... */

/* A MATCH: attribute path -> matcher, all of which must hold for an event. */
struct match {
	struct match_attr {
		char *path; /* "method", "probes.port" */
		struct matcher *m;
	} * attr;
	size_t n;
	char *json; /* the match as written (compact), for expected texts */
};

/* Compiles a MATCH object; errors name the JSON path. */
int match_compile(struct match **mp, const json_t *j, const char *path, char *err, size_t errlen)
        __attribute__((warn_unused_result));
void match_free(struct match *m);
bool match_event(const struct match *m, const struct conform_timeline *t, const json_t *ev);
/* Does the event's `kind` satisfy the match's own kind matcher? false when it has none. */
bool match_kind_only(const struct match *m, const struct conform_timeline *t, const json_t *ev);
bool match_has_kind(const struct match *m);
/* A scalar event value as text (numbers as JSON writes them, booleans as true/false): the
 * string itself, or buf filled; NULL for objects, arrays and null. */
const char *rule_str_of(const json_t *v, char *buf, size_t len);
/* "a sip.request with method REGISTER to sip.librestream.com" */
void match_describe(const struct match *m, struct sbuf *b);

/* The operator tables (documentation tests): name of entry i, NULL past the end. */
const char *matcher_op_name(size_t i);
const char *rule_op_name(size_t i);

#endif
