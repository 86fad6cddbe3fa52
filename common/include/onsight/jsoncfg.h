/* jsoncfg.h - JSON files with errors a person can act on, and config tables.
 *
 * Errors name the file, line and column (parse errors) or the key path ("$.sip.port")
 * and the problem. A config is a table of keys with types, bounds and defaults, applied
 * to a struct once at start-up (redis's static_configs[]); unknown keys are errors.
 */
#ifndef ONSIGHT_JSONCFG_H
#define ONSIGHT_JSONCFG_H

#include <jansson.h>
#include <stddef.h>

/* Largest JSON file jcfg_load reads. */
#define JCFG_MAX_FILE (4u << 20)

/* Loads path (duplicate keys rejected). On error returns an errno (EINVAL for bad JSON)
 * and writes "FILE:LINE:COL: message" into err. The caller owns *rootp. */
int jcfg_load(const char *path, json_t **rootp, char *err, size_t errlen)
        __attribute__((warn_unused_result));
/* The same for a buffer; name is used in messages. */
int jcfg_loadb(const char *name, const char *buf, size_t len, json_t **rootp, char *err,
               size_t errlen) __attribute__((warn_unused_result));

enum jcfg_type {
	JCFG_INT, /* long long, with min/max */
	JCFG_BOOL, /* int 0/1 */
	JCFG_STRING, /* char * (strdup'd; free with jcfg_free), max = longest length */
	JCFG_STRLIST /* char ** NULL-terminated (jcfg_free), max = most entries */
};

struct jcfg_key {
	const char *path; /* dotted path from the root: "listen.port" */
	enum jcfg_type type;
	size_t offset; /* offsetof() into the target struct */
	long long min, max;
	long long def_int; /* default for INT/BOOL */
	const char *def_str; /* default for STRING (NULL: none) */
	int required;
};

/* Fills out from root per keys (defaults first). Unknown keys anywhere under the objects
 * the table names are errors. file names the source in messages. */
int jcfg_apply(const json_t *root, const struct jcfg_key *keys, size_t nkeys, void *out,
               const char *file, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Frees the strings and lists jcfg_apply allocated in out. */
void jcfg_free(const struct jcfg_key *keys, size_t nkeys, void *out);

#endif
