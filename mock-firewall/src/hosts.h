/* hosts.h - the lab's host table: every host name of the address plan (docs/lab.md), its one
 * IPv4 address and the namespace it lives in. This is the only copy of the plan: the
 * conformance runner starts its mock services on these addresses and writes the plan into
 * every scenario folder (hosts.json, `mock-firewall plan --json`), and the analyzer names the
 * addresses it sees with it.
 *
 * The same table feeds the DNS servers (dnsmasq host-record lines) and the profile compiler
 * (a rule's destination "sip.librestream.com" or "media*.librestream.com" is resolved here,
 * never through the host's resolver), so the firewall and DNS cannot disagree.
 */
#ifndef FWLAB_HOSTS_H
#define FWLAB_HOSTS_H

#include <jansson.h>
#include <stddef.h>

#define HOSTS_DOMAIN_DEFAULT "librestream.com"
#define HOSTS_NAME_MAX 96

/* Fixed addresses of the plan. */
#define LAB_NET_DNS "203.0.113.53"
#define LAB_FW_WAN "203.0.113.2"
#define LAB_OUT_NET "203.0.113.3"
#define LAB_FW_LAN "198.51.100.1"
#define LAB_PROXY "198.51.100.3"
#define LAB_VCS_CONTROL "198.51.100.5"
#define LAB_LAN_DNS "198.51.100.53"
#define LAB_EP_INSIDE "198.51.100.10"
#define LAB_OUT_EP "192.0.2.1"
#define LAB_EP_OUTSIDE "192.0.2.10"
#define LAB_NET_CIDR "203.0.113.0/24"
#define LAB_LAN_CIDR "198.51.100.0/24"
#define LAB_OUT_CIDR "192.0.2.0/24"
#define LAB_PROXY_PORT 3128

struct lab_host {
	char name[HOSTS_NAME_MAX];
	char addr[16];
	const char *ns; /* the namespace role: "net" or "lan" (hosts_build), "fw", "out", "ep" */
	const char *what; /* a word for docs and status */
};

/* Fills tab (capacity cap) with the plan for domain (NULL: librestream.com). Returns the
 * number of hosts, or 0 if cap is too small or domain is invalid. */
size_t hosts_build(struct lab_host *tab, size_t cap, const char *domain);
#define HOSTS_MAX 40

/* The whole address plan: hosts_build's hosts, then the lab's own addresses (DNS servers,
 * firewall and router interfaces) and the endpoint's two addresses (endpoint-inside,
 * endpoint-outside). Those extra entries name addresses in evidence only: the lab neither
 * serves them by DNS nor adds them as aliases, so the DNS and firewall code uses hosts_build.
 * Same return and capacity rule as hosts_build. */
size_t hosts_plan(struct lab_host *tab, size_t cap, const char *domain);

#define HOSTS_PLAN_FORMAT "onsight-lab/hosts/1"
/* {"format":HOSTS_PLAN_FORMAT,"hosts":[{"name","addr","ns","what"}...]} (new reference, NULL
 * when out of memory). */
json_t *hosts_plan_json(const struct lab_host *tab, size_t n);
/* Writes the plan for domain (NULL: the default) as JSON to path; 0 or an errno. */
int hosts_plan_write(const char *path, const char *domain) __attribute__((warn_unused_result));

/* Exact (case-insensitive) lookup; NULL if unknown. */
const struct lab_host *hosts_find(const struct lab_host *tab, size_t n, const char *name);
/* The host of an IPv4 address (the first entry with it); NULL if unknown. */
const struct lab_host *hosts_by_addr(const struct lab_host *tab, size_t n, const char *addr);
/* Glob match of pattern ('*' matches any run of characters, '?' one) against name,
 * case-insensitive. */
int hosts_glob(const char *pattern, const char *name);
/* A domain name is acceptable: letters, digits, '-', '.', at most HOSTS_NAME_MAX - 20. */
int hosts_domain_ok(const char *domain);

#endif
