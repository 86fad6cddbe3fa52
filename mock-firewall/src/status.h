/* status.h - what `mock-firewall status` and `rules` print. */
#ifndef FWLAB_STATUS_H
#define FWLAB_STATUS_H

#include "fwlab.h"
#include "profile.h"

#include <jansson.h>
#include <stdio.h>

/* Namespaces, addresses, processes in each namespace and the live ruleset with counters. */
int status_print(struct fwlab *l, FILE *f, int json);
/* The profile in words, then the ruleset as nft itself lists it (each batch is loaded into a
 * throwaway namespace, which also proves it applies): fw's, then out's if out_batch is not
 * NULL. */
int status_rules_text(const struct profile *p, json_t *fw, json_t *out_batch, FILE *f, char *err,
                      size_t errlen);

#endif
