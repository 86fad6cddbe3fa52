#include "onsight/jsoncfg.h"
#include "onsight/util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JCFG_MAX_PATH 256

int jcfg_loadb(const char *name, const char *buf, size_t len, json_t **rootp, char *err,
               size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	if (!buf || !rootp)
		return EINVAL;
	if (len > JCFG_MAX_FILE) {
		err_set(err, errlen, "%s: larger than %u bytes", name, JCFG_MAX_FILE);
		return EFBIG;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		err_set(err, errlen, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
		return EINVAL;
	}
	*rootp = root;
	return 0;
}

int jcfg_load(const char *path, json_t **rootp, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = file_read(path, JCFG_MAX_FILE, &buf, &len);
	if (rc) {
		err_set(err, errlen, "%s: %s", path, rc == EFBIG ? "file too large" : strerror(rc));
		return rc;
	}
	rc = jcfg_loadb(path, buf, len, rootp, err, errlen);
	free(buf);
	return rc;
}

/* Finds the value at a dotted path, or NULL. */
static const json_t *get_path(const json_t *root, const char *path)
{
	char part[JCFG_MAX_PATH];
	const char *p = path;

	while (root && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		root = json_is_object(root) ? json_object_get(root, part) : NULL;
		p = dot ? dot + 1 : p + n;
	}
	return root;
}

static const struct jcfg_key *key_find(const struct jcfg_key *keys, size_t nkeys, const char *path,
                                       int *is_prefix)
{
	size_t n = strlen(path);

	*is_prefix = 0;
	for (size_t i = 0; i < nkeys; i++) {
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
		if (strncmp(keys[i].path, path, n) == 0 && keys[i].path[n] == '.')
			*is_prefix = 1;
	}
	return NULL;
}

static int check_unknown(const json_t *obj, const char *prefix, const struct jcfg_key *keys,
                         size_t nkeys, const char *file, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		char path[JCFG_MAX_PATH];
		int is_prefix;
		int n = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			err_set(err, errlen, "%s: $.%s...: key path too long", file, prefix);
			return EINVAL;
		}
		if (key_find(keys, nkeys, path, &is_prefix))
			continue;
		if (!is_prefix) {
			err_set(err, errlen, "%s: $.%s: unknown key", file, path);
			return EINVAL;
		}
		if (!json_is_object(v)) {
			err_set(err, errlen, "%s: $.%s: expected an object", file, path);
			return EINVAL;
		}
		if (check_unknown(v, path, keys, nkeys, file, err, errlen))
			return EINVAL;
	}
	return 0;
}

static int apply_int(const struct jcfg_key *k, const json_t *v, void *out, const char *file,
                     char *err, size_t errlen)
{
	long long x = k->def_int;

	if (v) {
		if (!json_is_integer(v)) {
			err_set(err, errlen, "%s: $.%s: expected an integer", file, k->path);
			return EINVAL;
		}
		x = json_integer_value(v);
	}
	if (x < k->min || x > k->max) {
		err_set(err, errlen, "%s: $.%s: %lld is out of range [%lld, %lld]", file, k->path,
		        x, k->min, k->max);
		return ERANGE;
	}
	memcpy((char *)out + k->offset, &x, sizeof(x));
	return 0;
}

static int apply_bool(const struct jcfg_key *k, const json_t *v, void *out, const char *file,
                      char *err, size_t errlen)
{
	int x = (int)k->def_int;

	if (v) {
		if (!json_is_boolean(v)) {
			err_set(err, errlen, "%s: $.%s: expected true or false", file, k->path);
			return EINVAL;
		}
		x = json_is_true(v);
	}
	memcpy((char *)out + k->offset, &x, sizeof(x));
	return 0;
}

static int apply_string(const struct jcfg_key *k, const json_t *v, void *out, const char *file,
                        char *err, size_t errlen)
{
	const char *s = k->def_str;
	char *copy = NULL;

	if (v) {
		if (!json_is_string(v)) {
			err_set(err, errlen, "%s: $.%s: expected a string", file, k->path);
			return EINVAL;
		}
		s = json_string_value(v);
		if (k->max > 0 && (long long)json_string_length(v) > k->max) {
			err_set(err, errlen, "%s: $.%s: longer than %lld characters", file, k->path,
			        k->max);
			return ERANGE;
		}
		if (strlen(s) != json_string_length(v)) {
			err_set(err, errlen, "%s: $.%s: contains a NUL character", file, k->path);
			return EINVAL;
		}
	}
	if (s && !(copy = strdup(s)))
		return ENOMEM;
	memcpy((char *)out + k->offset, &copy, sizeof(copy));
	/* Ownership moved into *out (freed by jcfg_free). */
	// cppcheck-suppress memleak
	return 0;
}

static int apply_strlist(const struct jcfg_key *k, const json_t *v, void *out, const char *file,
                         char *err, size_t errlen)
{
	char **list = NULL;
	size_t i, n;
	json_t *e;

	if (v && !json_is_array(v)) {
		err_set(err, errlen, "%s: $.%s: expected an array of strings", file, k->path);
		return EINVAL;
	}
	n = v ? json_array_size(v) : 0;
	if (k->max > 0 && (long long)n > k->max) {
		err_set(err, errlen, "%s: $.%s: more than %lld entries", file, k->path, k->max);
		return ERANGE;
	}
	list = calloc(n + 1, sizeof(*list));
	if (!list)
		return ENOMEM;
	memcpy((char *)out + k->offset, &list, sizeof(list));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			err_set(err, errlen, "%s: $.%s[%zu]: expected a string", file, k->path, i);
			return EINVAL;
		}
		list[i] = strdup(json_string_value(e));
		if (!list[i])
			return ENOMEM;
	}
	return 0;
}

int jcfg_apply(const json_t *root, const struct jcfg_key *keys, size_t nkeys, void *out,
               const char *file, char *err, size_t errlen)
{
	int rc = 0;

	if (!keys || !out)
		return EINVAL;
	if (!file)
		file = "config";
	if (root && !json_is_object(root)) {
		err_set(err, errlen, "%s: $: expected an object", file);
		return EINVAL;
	}
	for (size_t i = 0; i < nkeys && !rc; i++) {
		const struct jcfg_key *k = &keys[i];
		const json_t *v = root ? get_path(root, k->path) : NULL;

		if (v && json_is_null(v))
			v = NULL;
		if (!v && k->required) {
			err_set(err, errlen, "%s: $.%s: required key is missing", file, k->path);
			rc = EINVAL;
			break;
		}
		switch (k->type) {
		case JCFG_INT:
			rc = apply_int(k, v, out, file, err, errlen);
			break;
		case JCFG_BOOL:
			rc = apply_bool(k, v, out, file, err, errlen);
			break;
		case JCFG_STRING:
			rc = apply_string(k, v, out, file, err, errlen);
			break;
		case JCFG_STRLIST:
			rc = apply_strlist(k, v, out, file, err, errlen);
			break;
		}
	}
	if (!rc && root)
		rc = check_unknown(root, "", keys, nkeys, file, err, errlen);
	if (rc)
		jcfg_free(keys, nkeys, out);
	return rc;
}

void jcfg_free(const struct jcfg_key *keys, size_t nkeys, void *out)
{
	for (size_t i = 0; keys && out && i < nkeys; i++) {
		void *p;
		if (keys[i].type != JCFG_STRING && keys[i].type != JCFG_STRLIST)
			continue;
		memcpy(&p, (char *)out + keys[i].offset, sizeof(p));
		if (p && keys[i].type == JCFG_STRLIST)
			for (char **l = p; *l; l++)
				free(*l);
		free(p);
		p = NULL;
		memcpy((char *)out + keys[i].offset, &p, sizeof(p));
	}
}
