/* profile.h - firewall profiles: what the enterprise firewall, its proxy and its links do.
 *
 * A profile is a JSON file (docs/firewall-profile.schema.json, docs/lab.md). Loading checks
 * every key (unknown keys are errors) and resolves every destination through the lab's host
 * table, so a profile that loads always compiles. Errors name the file, the rule and the
 * problem: "s9.json: allow[2] (\"SIP to cloud\"): to: unknown host \"sipp.librestream.com\"".
 */
#ifndef FWLAB_PROFILE_H
#define FWLAB_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define PROF_MAX_RULES 128
#define PROF_MAX_DST 64 /* addresses/prefixes one rule's "to" may expand to */
#define PROF_MAX_SRC 4
#define PROF_MAX_PORTS 32
#define PROF_MAX_PROXY_ALLOW 32
#define PROF_MAX_TEXT 160
#define PROF_MAX_FILE (256u << 10)
#define PROF_MAX_OUTSIDE_RULES 32

enum prof_policy { PROF_DROP, PROF_ACCEPT, PROF_REJECT };
enum { PROF_TCP = 1, PROF_UDP = 2, PROF_ICMP = 4 };
enum prof_link { LINK_EP, LINK_FW_LAN, LINK_FW_WAN, LINK_OUT, LINK_COUNT };

struct prof_ports {
	uint16_t lo, hi;
};

struct prof_rule {
	char comment[PROF_MAX_TEXT];
	char to_text[PROF_MAX_TEXT]; /* "to" as written (names, not addresses), for comments */
	char src[PROF_MAX_SRC][20]; /* CIDR or address, from the role */
	size_t nsrc; /* 0: any source */
	char dst[PROF_MAX_DST][20];
	size_t ndst; /* 0: any destination */
	unsigned proto; /* PROF_TCP|PROF_UDP|PROF_ICMP; 0: any */
	struct prof_ports ports[PROF_MAX_PORTS];
	size_t nports; /* 0: any port */
	int log;
	int deny; /* from "deny": drop instead of accept */
};

struct prof_impair {
	int set;
	int loss; /* percent, each direction */
	uint64_t rate_bps; /* 0: unlimited */
	int delay_ms; /* one way, each direction; needs tc netem */
};

/* The outside network's filter (the profile's "outside" section), run by the router out in
 * front of the endpoint's outside address: every rule's source is the outside endpoint
 * network (LAB_OUT_CIDR); replies to allowed flows pass. */
struct prof_outside {
	int set; /* 0: no section: out forwards everything, unfiltered */
	char comment[PROF_MAX_TEXT];
	enum prof_policy policy;
	int log; /* log what the policy drops */
	struct prof_rule *rules; /* deny rules first, then allow rules, in file order */
	size_t nrules;
};

struct profile {
	char path[512];
	char domain[96]; /* the cloud domain the profile's names are in */
	char description[1024]; /* lines joined with '\n' */
	enum prof_policy policy;
	int nat;
	int log; /* log what the policy drops */
	int dns_forward; /* LAN DNS may reach public DNS (lab plumbing; default on) */
	struct prof_rule *rules; /* deny rules first, then allow rules, in file order */
	size_t nrules;
	char proxy_allow[PROF_MAX_PROXY_ALLOW][PROF_MAX_TEXT]; /* globs */
	size_t nproxy_allow;
	uint16_t connect_ports[8];
	size_t nconnect_ports;
	int proxy_enabled;
	struct prof_impair impair[LINK_COUNT];
	struct prof_outside outside;
};

/* Loads a profile by path or short name (profile_find). domain: the running lab's cloud
 * domain (NULL: none yet; the profile's "domain" key or librestream.com). */
int profile_load(struct profile **pp, const char *name, const char *domain, char *err,
                 size_t errlen) __attribute__((warn_unused_result));
/* Parses a profile from memory; file is the name used in messages. */
int profile_parse(struct profile **pp, const char *file, const char *buf, size_t len,
                  const char *domain, char *err, size_t errlen) __attribute__((warn_unused_result));
void profile_free(struct profile *p);

/* A path as given if it contains '/' or ends in ".json"; else NAME.json in $FWLAB_PROFILE_DIR
 * or the source tree's mock-firewall/profiles. Returns 0 or ENOENT. */
int profile_find(const char *name, char *out, size_t len);

const char *profile_link_name(enum prof_link l);
/* Parses "10mbit", "512kbit", "1gbit", "64000bit" (also "bps" suffixed forms). 0 or EINVAL. */
int profile_parse_rate(const char *s, uint64_t *bps);

#endif
