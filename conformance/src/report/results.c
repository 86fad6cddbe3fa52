/* results.c - the results document: load, merge shards, verdict arithmetic. */
#include "report.h"

#include "buf.h"
#include "onsight/jsoncfg.h"
#include "onsight/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_shape(const json_t *r, const char *name, char *err, size_t errlen)
{
	const json_t *sc = json_object_get(r, "scenarios");
	size_t i;
	const json_t *s;

	if (!json_is_object(r) || !json_is_string(json_object_get(r, "format")) ||
	    strcmp(json_string_value(json_object_get(r, "format")), RESULTS_FORMAT)) {
		err_set(err, errlen, "%s: not a results document (format \"%s\" expected)", name,
		        RESULTS_FORMAT);
		return EINVAL;
	}
	if (!json_is_array(sc)) {
		err_set(err, errlen, "%s: $.scenarios: must be an array", name);
		return EINVAL;
	}
	json_array_foreach(sc, i, s)
	{
		if (!json_is_string(json_object_get(s, "id")) ||
		    !json_is_string(json_object_get(s, "verdict"))) {
			err_set(err, errlen, "%s: $.scenarios[%zu]: needs string id and verdict",
			        name, i);
			return EINVAL;
		}
		const json_t *ch = json_object_get(s, "checks");
		if (ch && !json_is_array(ch)) {
			err_set(err, errlen, "%s: $.scenarios[%zu].checks: must be an array", name,
			        i);
			return EINVAL;
		}
	}
	return 0;
}

int results_load(json_t **rootp, const char *path, char *err, size_t errlen)
{
	json_t *r = NULL;
	int e = jcfg_load(path, &r, err, errlen);

	if (e)
		return e;
	e = check_shape(r, path, err, errlen);
	if (e) {
		json_decref(r);
		return e;
	}
	*rootp = r;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "id")),
	              json_string_value(json_object_get(y, "id")));
}

int results_merge(json_t *const *parts, size_t n, json_t **outp, char *err, size_t errlen)
{
	json_t *out = NULL, **all = NULL;
	size_t total = 0, k = 0;
	int e = 0;

	if (!parts || !n || !outp)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "part %zu", i + 1);
		if ((e = check_shape(parts[i], name, err, errlen)))
			return e;
		total += json_array_size(json_object_get(parts[i], "scenarios"));
	}
	out = json_deep_copy(parts[0]);
	all = calloc(total ? total : 1, sizeof(*all));
	if (!out || !all) {
		e = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *sc = json_object_get(parts[i], "scenarios"), *s;
		size_t j;
		json_array_foreach(sc, j, s)
		{
			all[k++] = s;
		}
		/* The selftest matrix and requirements come from whichever shard has them. */
		if (i > 0 && !json_object_get(out, "selftest") &&
		    json_object_get(parts[i], "selftest"))
			json_object_set(out, "selftest", json_object_get(parts[i], "selftest"));
		if (i > 0 && !json_object_get(out, "requirements") &&
		    json_object_get(parts[i], "requirements"))
			json_object_set(out, "requirements",
			                json_object_get(parts[i], "requirements"));
	}
	qsort(all, total, sizeof(*all), cmp_id);
	json_t *merged = json_array();
	if (!merged) {
		e = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < total; i++) {
		if (i > 0 && !cmp_id(&all[i - 1], &all[i])) {
			err_set(err, errlen, "scenario %s appears in more than one part",
			        json_string_value(json_object_get(all[i], "id")));
			json_decref(merged);
			e = EINVAL;
			goto out;
		}
		json_array_append(merged, all[i]);
	}
	json_object_set_new(out, "scenarios", merged);
	json_object_set_new(
	        out, "shard",
	        json_pack("{s:i,s:i,s:i}", "index", 0, "count", 1, "merged_from", (int)n));
	double wall = 0;
	for (size_t i = 0; i < n; i++) {
		double w = json_number_value(json_object_get(parts[i], "wall_s"));
		if (w > wall)
			wall = w; /* shards run side by side: the slowest one is the wall time */
	}
	json_object_set_new(out, "wall_s", json_real(wall));
	results_finish(out);
	*outp = out;
	out = NULL;
out:
	free(all);
	json_decref(out);
	return e;
}

int results_finish(json_t *r)
{
	json_t *sc = json_object_get(r, "scenarios"), *s;
	size_t i;
	int npass = 0, nfail = 0, nerr = 0, nns = 0, nna = 0;
	int cpass = 0, cfail = 0, cna = 0, cerr = 0, code;

	json_array_foreach(sc, i, s)
	{
		const char *v = json_string_value(json_object_get(s, "verdict"));
		json_t *checks = json_object_get(s, "checks"), *c;
		size_t j;

		if (!v)
			v = V_ERROR;
		if (!strcmp(v, V_PASS))
			npass++;
		else if (!strcmp(v, V_FAIL))
			nfail++;
		else if (!strcmp(v, V_NOT_STARTED))
			nns++;
		else if (!strcmp(v, V_NA))
			nna++;
		else
			nerr++;
		json_array_foreach(checks, j, c)
		{
			const char *cv = json_string_value(json_object_get(c, "verdict"));
			if (cv && !strcmp(cv, V_PASS))
				cpass++;
			else if (cv && !strcmp(cv, V_FAIL))
				cfail++;
			else if (cv && !strcmp(cv, V_NA))
				cna++;
			else
				cerr++;
		}
	}
	code = nerr ? EXIT_HARNESS : nns ? EXIT_ENDPOINT : nfail ? EXIT_CHECK_FAILED : EXIT_PASS;
	/* selftest: a fault no check caught fails the run like a failed check. */
	if (code == EXIT_PASS &&
	    json_integer_value(json_object_get(json_object_get(r, "selftest"), "uncaught")) > 0)
		code = EXIT_CHECK_FAILED;
	/* selftest: a check no column killed, or a requirement without a killed check, is a
	 * check nobody knows can fail. */
	const json_t *mx = json_object_get(json_object_get(r, "selftest"), "matrix");
	if (code == EXIT_PASS &&
	    (json_array_size(json_object_get(mx, "never_killed")) ||
	     json_array_size(json_object_get(mx, "requirements_never_killed"))))
		code = EXIT_CHECK_FAILED;
	/* An interrupted run proves nothing: a harness outcome. */
	if (json_is_true(json_object_get(r, "interrupted")))
		code = EXIT_HARNESS;
	json_object_set_new(r, "summary",
	                    json_pack("{s:{s:i,s:i,s:i,s:i,s:i},s:{s:i,s:i,s:i,s:i}}", "scenarios",
	                              "pass", npass, "fail", nfail, "error", nerr, "not_started",
	                              nns, "na", nna, "checks", "pass", cpass, "fail", cfail, "na",
	                              cna, "error", cerr));
	json_object_set_new(r, "exit_code", json_integer(code));
	return code;
}

int results_exit_code(const json_t *r)
{
	const json_t *c = json_object_get(r, "exit_code");
	return json_is_integer(c) ? (int)json_integer_value(c) : EXIT_HARNESS;
}

int report_write_json(const json_t *r, const char *path)
{
	struct buf b;
	char *s = json_dumps(r, JSON_INDENT(2) | JSON_SORT_KEYS);
	int e;

	if (!s)
		return ENOMEM;
	buf_init(&b, RESULTS_MAX_FILE);
	e = buf_puts(&b, s);
	if (!e)
		e = buf_puts(&b, "\n");
	free(s);
	if (!e)
		e = buf_write_file(&b, path);
	buf_free(&b);
	return e;
}
