/* hosts.c - the lab's host names and addresses (contracts §A) for {"host": NAME} matchers. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis_int.h"

static const char *const lab_plan[][2] = {
        {"onsight.librestream.com", "203.0.113.10"},
        {"sip.librestream.com", "203.0.113.20"},
        {"media1.librestream.com", "203.0.113.21"},
        {"media2.librestream.com", "203.0.113.22"},
        {"media3.librestream.com", "203.0.113.23"},
        {"media4.librestream.com", "203.0.113.24"},
        {"media5.librestream.com", "203.0.113.25"},
        {"media6.librestream.com", "203.0.113.26"},
        {"tcm.librestream.com", "203.0.113.30"},
        {"tcm1.librestream.com", "203.0.113.31"},
        {"tcm2.librestream.com", "203.0.113.32"},
        {"tcm3.librestream.com", "203.0.113.33"},
        {"teamlink1.librestream.com", "203.0.113.41"},
        {"teamlink2.librestream.com", "203.0.113.42"},
        {"teamlink3.librestream.com", "203.0.113.43"},
        {"teamlink4.librestream.com", "203.0.113.44"},
        {"teamlink5.librestream.com", "203.0.113.45"},
        {"teamlink6.librestream.com", "203.0.113.46"},
        {"teamlink7.librestream.com", "203.0.113.47"},
        {"teamlink10.librestream.com", "203.0.113.50"},
        {"vcs-expressway.corp.example", "203.0.113.60"},
        {"dns.librestream.com", "203.0.113.53"},
        {"fw-wan", "203.0.113.2"},
        {"out-router", "203.0.113.3"},
        {"fw-lan", "198.51.100.1"},
        {"proxy.corp.example", "198.51.100.3"},
        {"vcs-control.corp.example", "198.51.100.5"},
        {"dns.corp.example", "198.51.100.53"},
        {"endpoint-inside", "198.51.100.10"},
        {"endpoint-outside", "192.0.2.10"},
        {"out-router-ep", "192.0.2.1"},
};

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
	for (size_t i = 0; i < ARRAY_LEN(lab_plan); i++) {
		int e = conform_hosts_add(t, lab_plan[i][0], lab_plan[i][1]);

		if (e)
			return e;
	}
	return 0;
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

const char *hosts_name(const struct conform_timeline *t, const char *value)
{
	char addr[64];

	if (!t || !value || !addr_part(value, addr, sizeof(addr)))
		return NULL;
	for (size_t i = 0; i < t->nhosts; i++)
		if (!strcmp(t->hosts[i].addr, addr) && !strpbrk(t->hosts[i].name, "*?["))
			return t->hosts[i].name; /* a glob entry names no one host */
	return NULL;
}
