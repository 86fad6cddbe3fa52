/* hosts.c - the lab address plan (hosts.h). */
#include "hosts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void put(struct lab_host *h, const char *label, const char *domain, const char *addr,
                const char *ns, const char *what)
{
	if (domain)
		snprintf(h->name, sizeof(h->name), "%s.%s", label, domain);
	else
		snprintf(h->name, sizeof(h->name), "%s", label);
	snprintf(h->addr, sizeof(h->addr), "%s", addr);
	h->ns = ns;
	h->what = what;
}

int hosts_domain_ok(const char *d)
{
	size_t n;

	if (!d)
		return 0;
	n = strlen(d);
	if (n == 0 || n > HOSTS_NAME_MAX - 20 || d[0] == '.' || d[0] == '-' || d[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)d[i]) && d[i] != '-' && d[i] != '.')
			return 0;
	return strstr(d, "..") == NULL;
}

size_t hosts_build(struct lab_host *tab, size_t cap, const char *domain)
{
	static const char *const tl[] = {"teamlink1", "teamlink2", "teamlink3", "teamlink4",
	                                 "teamlink5", "teamlink6", "teamlink7", "teamlink10"};
	static const int tl_addr[] = {41, 42, 43, 44, 45, 46, 47, 50};
	char label[32], addr[16];
	size_t n = 0;

	if (!domain)
		domain = HOSTS_DOMAIN_DEFAULT;
	if (!tab || cap < HOSTS_MAX || !hosts_domain_ok(domain))
		return 0;
	put(&tab[n++], "onsight", domain, "203.0.113.10", "net", "OAM");
	put(&tab[n++], "sip", domain, "203.0.113.20", "net", "SIP + STUN");
	for (int i = 1; i <= 6; i++) {
		snprintf(label, sizeof(label), "media%d", i);
		snprintf(addr, sizeof(addr), "203.0.113.%d", 20 + i);
		put(&tab[n++], label, domain, addr, "net", "media relay");
	}
	put(&tab[n++], "tcm", domain, "203.0.113.30", "net", "TeamLink cluster manager");
	for (int i = 1; i <= 3; i++) {
		snprintf(label, sizeof(label), "tcm%d", i);
		snprintf(addr, sizeof(addr), "203.0.113.%d", 30 + i);
		put(&tab[n++], label, domain, addr, "net", "TeamLink cluster manager");
	}
	for (size_t i = 0; i < sizeof(tl) / sizeof(tl[0]); i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", tl_addr[i]);
		put(&tab[n++], tl[i], domain, addr, "net", "TeamLink server");
	}
	put(&tab[n++], "vcs-expressway.corp.example", NULL, "203.0.113.60", "net",
	    "enterprise public SIP");
	put(&tab[n++], "proxy.corp.example", NULL, LAB_PROXY, "lan", "web proxy");
	put(&tab[n++], "vcs-control.corp.example", NULL, LAB_VCS_CONTROL, "lan",
	    "enterprise private SIP");
	return n;
}

size_t hosts_plan(struct lab_host *tab, size_t cap, const char *domain)
{
	size_t n = hosts_build(tab, cap, domain);

	if (!n || n + 8 > cap)
		return 0;
	put(&tab[n++], "dns", domain ? domain : HOSTS_DOMAIN_DEFAULT, LAB_NET_DNS, "net",
	    "cloud DNS");
	put(&tab[n++], "fw-wan", NULL, LAB_FW_WAN, "fw", "firewall, WAN side");
	put(&tab[n++], "out-router", NULL, LAB_OUT_NET, "out", "outside router, cloud side");
	put(&tab[n++], "fw-lan", NULL, LAB_FW_LAN, "fw", "firewall, LAN side");
	put(&tab[n++], "dns.corp.example", NULL, LAB_LAN_DNS, "lan", "enterprise DNS");
	put(&tab[n++], "endpoint-inside", NULL, LAB_EP_INSIDE, "ep", "endpoint on the LAN");
	put(&tab[n++], "endpoint-outside", NULL, LAB_EP_OUTSIDE, "ep",
	    "endpoint outside the firewall");
	put(&tab[n++], "out-router-ep", NULL, LAB_OUT_EP, "out", "outside router, endpoint side");
	return n;
}

json_t *hosts_plan_json(const struct lab_host *tab, size_t n)
{
	json_t *arr = json_array();
	json_t *root = json_pack("{s:s,s:o}", "format", HOSTS_PLAN_FORMAT, "hosts", arr);

	if (!root)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_pack("{s:s,s:s,s:s,s:s}", "name", tab[i].name, "addr", tab[i].addr,
		                      "ns", tab[i].ns, "what", tab[i].what);

		if (!h || json_array_append_new(arr, h)) {
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

int hosts_plan_write(const char *path, const char *domain)
{
	struct lab_host tab[HOSTS_MAX];
	size_t n = hosts_plan(tab, HOSTS_MAX, domain);
	json_t *j = n ? hosts_plan_json(tab, n) : NULL;
	int e = 0;

	if (!n)
		return EINVAL;
	if (!j)
		return ENOMEM;
	if (json_dump_file(j, path, JSON_INDENT(2)))
		e = errno ? errno : EIO;
	json_decref(j);
	return e;
}

const struct lab_host *hosts_by_addr(const struct lab_host *tab, size_t n, const char *addr)
{
	if (!addr)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i].addr, addr) == 0)
			return &tab[i];
	return NULL;
}

const struct lab_host *hosts_find(const struct lab_host *tab, size_t n, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(tab[i].name, name) == 0)
			return &tab[i];
	return NULL;
}

int hosts_glob(const char *p, const char *s)
{
	/* Iterative glob with one backtrack point: linear in practice, no recursion. */
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || tolower((unsigned char)*p) == tolower((unsigned char)*s)) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}
