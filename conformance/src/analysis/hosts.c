/* hosts.c - the timeline's host table: lab host names and their addresses, for {"host": NAME}
 * matchers and for naming the addresses in the evidence. It starts as the built-in lab plan
 * (mock-firewall's table, hosts.h); a run's own plan (hosts.json, written by the runner into
 * every scenario folder) replaces it with conform_hosts_load. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "analysis_int.h"
#include "hosts.h"

#define HOSTS_FILE_MAX (1u << 20) /* largest hosts.json read */
#define HOSTS_FILE_ENTRIES 1024u /* most hosts a plan may name */

int conform_hosts_add(struct conform_timeline *t, const char *name, const char *addr)
{
	char *n, *a;

	if (!t || !name || !addr)
		return EINVAL;
	/* A later entry for the same name wins: overrides replace. */
	for (size_t i = 0; i < t->nhosts; i++) {
		if (!strcasecmp(t->hosts[i].name, name)) {
			a = strdup(addr);
			if (!a)
				return ENOMEM;
			free(t->hosts[i].addr);
			t->hosts[i].addr = a;
			return 0;
		}
	}
	if (t->nhosts == t->caphosts) {
		size_t nc = t->caphosts ? t->caphosts * 2 : 64;
		struct host_entry *nh = realloc(t->hosts, nc * sizeof(*nh));

		if (!nh)
			return ENOMEM;
		t->hosts = nh;
		t->caphosts = nc;
	}
	n = strdup(name);
	a = strdup(addr);
	if (!n || !a) {
		free(n);
		free(a);
		return ENOMEM;
	}
	t->hosts[t->nhosts].name = n;
	t->hosts[t->nhosts].addr = a;
	t->nhosts++;
	return 0;
}

int hosts_init(struct conform_timeline *t)
{
	struct lab_host plan[HOSTS_MAX];
	size_t n = hosts_plan(plan, HOSTS_MAX, NULL);

	if (!n)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		int e = conform_hosts_add(t, plan[i].name, plan[i].addr);

		if (e)
			return e;
	}
	return 0;
}

/* Checks one "hosts" entry of a plan file; 0 or EINVAL with the reason. */
static int plan_entry_ok(const json_t *h, size_t i, const char *path, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(h, "name"));
	const char *addr = json_string_value(json_object_get(h, "addr"));
	char a[64];

	if (!name || !*name || !addr || !addr_part(addr, a, sizeof(a)) || strcmp(a, addr)) {
		snprintf(err, errlen,
		         "%s: hosts[%zu]: needs a \"name\" and an \"addr\" (an IP address)", path,
		         i);
		return EINVAL;
	}
	return 0;
}

int conform_hosts_load(struct conform_timeline *t, const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *hosts, *h;
	size_t i;
	int e = 0;

	if (!t || !path)
		return EINVAL;
	if (access(path, R_OK)) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT ? ENOENT : e;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return EINVAL;
	}
	hosts = json_object_get(root, "hosts");
	if (strcmp(json_string_value(json_object_get(root, "format")) ?: "", HOSTS_PLAN_FORMAT) ||
	    !json_is_array(hosts) || json_array_size(hosts) > HOSTS_FILE_ENTRIES) {
		snprintf(err, errlen,
		         "%s: not a lab plan (\"format\": \"%s\" and at most %u \"hosts\")", path,
		         HOSTS_PLAN_FORMAT, HOSTS_FILE_ENTRIES);
		e = EINVAL;
		goto out;
	}
	json_array_foreach(hosts, i, h)
	{
		if ((e = plan_entry_ok(h, i, path, err, errlen)))
			goto out;
	}
	/* The run's plan replaces the built-in one as a whole: a name it drops is unknown. */
	hosts_free(t);
	json_array_foreach(hosts, i, h)
	{
		e = conform_hosts_add(t, json_string_value(json_object_get(h, "name")),
		                      json_string_value(json_object_get(h, "addr")));
		if (e) {
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			goto out;
		}
	}
out:
	json_decref(root);
	return e;
}

const char *conform_hosts_name(const struct conform_timeline *t, const char *value)
{
	char addr[64];

	if (!t || !value || !addr_part(value, addr, sizeof(addr)))
		return NULL;
	for (size_t i = 0; i < t->nhosts; i++)
		if (!strcmp(t->hosts[i].addr, addr) && !strpbrk(t->hosts[i].name, "*?["))
			return t->hosts[i].name; /* a glob entry names no one host */
	return NULL;
}

void hosts_free(struct conform_timeline *t)
{
	for (size_t i = 0; i < t->nhosts; i++) {
		free(t->hosts[i].name);
		free(t->hosts[i].addr);
	}
	free(t->hosts);
	t->hosts = NULL;
	t->nhosts = t->caphosts = 0;
}

bool hosts_match(const struct conform_timeline *t, const char *pattern, const char *value)
{
	char addr[64];
	bool is_addr;

	if (!pattern || !value)
		return false;
	if (!fnmatch(pattern, value, FNM_CASEFOLD))
		return true; /* the name itself (journals name servers by host name) */
	is_addr = addr_part(value, addr, sizeof(addr));
	if (!is_addr)
		return false;
	for (size_t i = 0; i < t->nhosts; i++) {
		if (!fnmatch(pattern, t->hosts[i].name, FNM_CASEFOLD) &&
		    !strcmp(t->hosts[i].addr, addr))
			return true;
	}
	return false;
}
