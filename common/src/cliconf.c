/* cliconf.c - a server's command line merged over its config file (see cliconf.h). */
#include "onsight/cliconf.h"

#include "onsight/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#ifndef ONSIGHT_VERSION
#define ONSIGHT_VERSION "0"
#endif

enum { OPT_CONFIG = 1000, OPT_CHECK, OPT_HELP, OPT_VERSION };

/* The key a flag fills, from the config table; NULL (and a message) if the table lacks it. */
static const struct jcfg_key *flag_key(const struct cliconf *cc, const struct cliconf_flag *f)
{
	for (size_t i = 0; i < cc->nkeys; i++)
		if (!strcmp(cc->keys[i].path, f->key))
			return &cc->keys[i];
	fprintf(stderr, "%s: --%s: no config key \"%s\"\n", cc->prog, f->flag, f->key);
	return NULL;
}

static int flag_apply(const struct cliconf *cc, json_t *flags, const struct cliconf_flag *f,
                      const char *val)
{
	const struct jcfg_key *k = flag_key(cc, f);
	char *end;
	long long v;

	if (!k)
		return -1;
	switch (k->type) {
	case JCFG_STRLIST: {
		json_t *a = json_object_get(flags, f->key);
		if (!a) {
			a = json_array();
			if (json_object_set_new(flags, f->key, a))
				return -1;
		}
		return json_array_append_new(a, json_string(val));
	}
	case JCFG_INT:
		errno = 0;
		v = strtoll(val, &end, 10);
		if (errno || *end || end == val) {
			fprintf(stderr, "%s: --%s: \"%s\" is not a number\n", cc->prog, f->flag,
			        val);
			return -1;
		}
		return json_object_set_new(flags, f->key, json_integer(v));
	default:
		return json_object_set_new(flags, f->key, json_string(val));
	}
}

static int parse_args(const struct cliconf *cc, int argc, char **argv, json_t *flags,
                      const char **config, int *check)
{
	struct option *opts = calloc(cc->nflags + 5, sizeof(*opts));
	size_t n = 0;
	int c, rc = 0;

	if (!opts) {
		fprintf(stderr, "%s: out of memory\n", cc->prog);
		return -1;
	}
	for (; n < cc->nflags; n++)
		opts[n] = (struct option){cc->flags[n].flag, required_argument, NULL, (int)n};
	opts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	opts[n++] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
	opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	opts[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
	optind = 0; /* glibc: start over, also after an earlier parse */
	while (!rc && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c >= 0 && (size_t)c < cc->nflags) {
			rc = flag_apply(cc, flags, &cc->flags[c], optarg) ? -1 : 0;
		} else if (c == OPT_CONFIG) {
			*config = optarg;
		} else if (c == OPT_CHECK) {
			*check = 1;
		} else if (c == OPT_HELP) {
			free(opts);
			cc->usage(stdout);
			exit(0);
		} else if (c == OPT_VERSION) {
			free(opts);
			printf("%s %s\n", cc->prog, ONSIGHT_VERSION);
			exit(0);
		} else {
			cc->usage(stderr);
			rc = -1;
		}
	}
	free(opts);
	if (!rc && optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", cc->prog, argv[optind]);
		rc = -1;
	}
	return rc;
}

int cliconf_load(const struct cliconf *cc, int argc, char **argv, void *conf, int *check)
{
	json_t *flags = json_object(), *root = NULL;
	const char *config = NULL;
	char err[512];
	int rc = -1;

	if (!flags) {
		fprintf(stderr, "%s: out of memory\n", cc->prog);
		return -1;
	}
	if (parse_args(cc, argc, argv, flags, &config, check))
		goto out;
	if (config && jcfg_load(config, &root, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cc->prog, err);
		goto out;
	}
	if (!root)
		root = json_object();
	if (!root || json_object_update(root, flags)) {
		fprintf(stderr, "%s: out of memory\n", cc->prog);
		goto out;
	}
	if (jcfg_apply(root, cc->keys, cc->nkeys, conf, config ? config : "command line", err,
	               sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cc->prog, err);
		goto out;
	}
	rc = 0;
out:
	json_decref(flags);
	json_decref(root);
	return rc;
}

int cliconf_log_level(const char *prog, const char *level)
{
	if (level && log_level_parse(level) >= 0)
		return 0;
	fprintf(stderr, "%s: log level \"%s\" is not err, warn, info or debug\n", prog,
	        level ? level : "");
	return -1;
}
