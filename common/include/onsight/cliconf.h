/* cliconf.h - a server's command line: flags that mirror config keys, plus --config FILE,
 * --check-config, --help and --version.
 *
 * Flags are collected into a JSON object shaped like the config file and merged over it,
 * so both go through the same jcfg_key table with its types, bounds and defaults, and a
 * flag always wins over the file.
 */
#ifndef ONSIGHT_CLICONF_H
#define ONSIGHT_CLICONF_H

#include "onsight/jsoncfg.h"

#include <stddef.h>
#include <stdio.h>

/* A flag takes the type of its key in the jcfg_key table: JCFG_STRING, JCFG_STRLIST
 * (repeatable) or JCFG_INT. */
struct cliconf_flag {
	const char *flag; /* long option without dashes: "jwt-secret-file" */
	const char *key; /* top-level config key: "jwt_secret_file" */
};

struct cliconf {
	const char *prog; /* prefixes every message: "mock-sip: ..." */
	const struct cliconf_flag *flags;
	size_t nflags;
	const struct jcfg_key *keys;
	size_t nkeys;
	void (*usage)(FILE *f);
};

/* Parses argv, loads --config (if given), merges the flags over it and fills conf (free it
 * with jcfg_free). Sets *check for --check-config. --help prints usage to stdout and
 * --version "PROG VERSION", then both exit(0). On bad usage or configuration prints one
 * "PROG: message" line (or the usage) to stderr and returns -1. */
int cliconf_load(const struct cliconf *cc, int argc, char **argv, void *conf, int *check)
        __attribute__((warn_unused_result));

/* Checks a log level name (err, warn, info, debug); prints "PROG: ..." and returns -1 if
 * it is none of them. */
int cliconf_log_level(const char *prog, const char *level);

#endif
