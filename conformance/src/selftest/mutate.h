/* mutate.h - timeline mutations: a fault-free run's timeline altered the way a faulty endpoint
 * would have altered it, so every check can be shown to fail without a lab (docs/selftest.md).
 *
 * A mutation takes a timeline (a JSON array of events, borrowed, never changed) and returns
 * an altered copy (new reference; events it did not touch are shared with the input), or
 * ENOENT when it finds nothing to alter ("not applicable"). Events may carry the host
 * attributes (`at`, `src_host`, `dst_host`, `dst_service`) or only addresses (`src_ip`,
 * `dst_ip`, journal `client`/`source`): both work.
 */
#ifndef CONFORM_MUTATE_H
#define CONFORM_MUTATE_H

#include <jansson.h>
#include <stddef.h>

/* The lab address plan the mutations resolve names with: the "hosts" array of a run's
 * hosts.json ([{"name","addr"}], borrowed), or NULL for the built-in plan. */
struct mutate_env {
	const json_t *hosts;
};

struct mutation {
	const char *name; /* "no-register-ok" */
	const char *models; /* one line: the endpoint mistake it stands for */
	int (*fn)(const json_t *tl, const struct mutate_env *env, json_t **out);
};

size_t mutation_count(void);
const struct mutation *mutation_get(size_t i);
const struct mutation *mutation_find(const char *name);
/* Runs m over tl: 0 and *out (new reference), ENOENT (not applicable), EINVAL, ENOMEM. */
int mutation_apply(const struct mutation *m, const json_t *tl, const struct mutate_env *env,
                   json_t **out) __attribute__((warn_unused_result));

#endif
