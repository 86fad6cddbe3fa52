/* nftgen.c - profile -> nftables JSON. */
#include "nftgen.h"
#include "hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *cmd(const char *verb, const char *kind, json_t *obj)
{
	return json_pack("{s:{s:o}}", verb, kind, obj);
}

static json_t *match(json_t *left, const char *op, json_t *right)
{
	return json_pack("{s:{s:s, s:o, s:o}}", "match", "op", op, "left", left, "right", right);
}

static json_t *payload(const char *proto, const char *field)
{
	return json_pack("{s:{s:s, s:s}}", "payload", "protocol", proto, "field", field);
}

static json_t *meta(const char *key)
{
	return json_pack("{s:{s:s}}", "meta", "key", key);
}

/* "198.51.100.0/24" -> {"prefix":{...}}; "/32" -> the bare address. */
static json_t *addr_value(const char *cidr)
{
	char a[20];
	const char *slash = strchr(cidr, '/');
	int bits = slash ? atoi(slash + 1) : 32;
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);

	snprintf(a, sizeof(a), "%.*s", (int)n, cidr);
	if (bits == 32)
		return json_string(a);
	return json_pack("{s:{s:s, s:i}}", "prefix", "addr", a, "len", bits);
}

static json_t *addr_set(const char (*list)[20], size_t n)
{
	json_t *set;

	if (n == 1)
		return addr_value(list[0]);
	set = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(set, addr_value(list[i]));
	return json_pack("{s:o}", "set", set);
}

static json_t *port_set(const struct prof_ports *p, size_t n)
{
	json_t *set = json_array();

	for (size_t i = 0; i < n; i++) {
		if (p[i].lo == p[i].hi)
			json_array_append_new(set, json_integer(p[i].lo));
		else
			json_array_append_new(set,
			                      json_pack("{s:[i,i]}", "range", p[i].lo, p[i].hi));
	}
	if (n == 1 && p[0].lo == p[0].hi) {
		json_t *one = json_incref(json_array_get(set, 0));

		json_decref(set);
		return one;
	}
	return json_pack("{s:o}", "set", set);
}

static json_t *proto_value(unsigned proto)
{
	json_t *set = json_array();

	if (proto & PROF_TCP)
		json_array_append_new(set, json_string("tcp"));
	if (proto & PROF_UDP)
		json_array_append_new(set, json_string("udp"));
	if (proto & PROF_ICMP)
		json_array_append_new(set, json_string("icmp"));
	if (json_array_size(set) == 1) {
		json_t *one = json_incref(json_array_get(set, 0));

		json_decref(set);
		return one;
	}
	return json_pack("{s:o}", "set", set);
}

static json_t *rule(const char *family, const char *table, const char *chain, const char *comment,
                    json_t *expr)
{
	json_t *r = json_pack("{s:s, s:s, s:s, s:o}", "family", family, "table", table, "chain",
	                      chain, "expr", expr);

	if (comment && *comment)
		json_object_set_new(r, "comment", json_string(comment));
	return cmd("add", "rule", r);
}

static json_t *verdict(const char *v)
{
	return json_pack("{s:n}", v);
}

static json_t *counter(void)
{
	return json_pack("{s:n}", "counter");
}

static json_t *log_stmt(const char *prefix)
{
	return json_pack("{s:{s:s}}", "log", "prefix", prefix);
}

/* nft keeps at most 128 bytes of a comment (NUL included): cut there, on a UTF-8 boundary,
 * and mark the cut. */
static void nft_comment_cap(char *c)
{
	size_t n = strlen(c);

	if (n <= NFT_COMMENT_MAX)
		return;
	n = NFT_COMMENT_MAX - 3;
	while (n > 0 && ((unsigned char)c[n] & 0xc0) == 0x80)
		n--;
	memcpy(c + n, "...", 4);
}

/* tag: "" for fw's rules, "out-" for the outside network's (log prefixes). */
static json_t *profile_rule(const struct prof_rule *r, size_t idx, const char *tag)
{
	json_t *e = json_array();
	char prefix[64], comment[2 * PROF_MAX_TEXT + 48];

	if (r->nsrc)
		json_array_append_new(
		        e, match(payload("ip", "saddr"), "==", addr_set(r->src, r->nsrc)));
	if (r->ndst)
		json_array_append_new(
		        e, match(payload("ip", "daddr"), "==", addr_set(r->dst, r->ndst)));
	if (r->proto)
		json_array_append_new(e, match(meta("l4proto"), "==", proto_value(r->proto)));
	if (r->nports)
		json_array_append_new(
		        e, match(payload("th", "dport"), "==", port_set(r->ports, r->nports)));
	json_array_append_new(e, counter());
	if (r->log) {
		snprintf(prefix, sizeof(prefix), "fwlab-%s%s%zu ", tag, r->deny ? "deny" : "allow",
		         idx);
		json_array_append_new(e, log_stmt(prefix));
	}
	json_array_append_new(e, verdict(r->deny ? "drop" : "accept"));
	snprintf(comment, sizeof(comment), "%s[%zu]%s%s%s%s%s", r->deny ? "deny" : "allow", idx,
	         r->comment[0] ? ": " : "", r->comment, r->to_text[0] ? " (to " : "", r->to_text,
	         r->to_text[0] ? ")" : "");
	nft_comment_cap(comment);
	return rule("inet", NFT_TABLE, "forward", comment, e);
}

static void add_loss(json_t *b, const struct profile *p, enum prof_link lk, const char *dev)
{
	static const char *const hooks[] = {"ingress", "egress"};
	const struct prof_impair *im = &p->impair[lk];

	if (!im->set || im->loss <= 0)
		return;
	for (size_t h = 0; h < 2; h++) {
		char chain[32], comment[64];

		snprintf(chain, sizeof(chain), "%s_%s", dev, hooks[h]);
		json_array_append_new(
		        b,
		        cmd("add", "chain",
		            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "family",
		                      "netdev", "table", NFT_IMPAIR_TABLE, "name", chain, "type",
		                      "filter", "hook", hooks[h], "dev", dev, "prio", 0, "policy",
		                      "accept")));
		snprintf(comment, sizeof(comment), "link %s: %d%% loss", profile_link_name(lk),
		         im->loss);
		/* numgen random mod 100 < N: a uniform N% of packets, each direction. */
		json_array_append_new(
		        b,
		        rule("netdev", NFT_IMPAIR_TABLE, chain, comment,
		             json_pack("[o,o,o,o]",
		                       /* IP only: losing ARP would stall the link for whole
		                           * neighbour timeouts instead of dropping N% of packets */
		                       match(meta("protocol"), "==", json_string("ip")),
		                       match(json_pack("{s:{s:s, s:i, s:i}}", "numgen", "mode",
		                                       "random", "mod", 100, "offset", 0),
		                             "<", json_integer(im->loss)),
		                       counter(), verdict("drop"))));
	}
}

static void replace_table(json_t *b, const char *family, const char *name, int recreate)
{
	json_t *t = json_pack("{s:s, s:s}", "family", family, "name", name);

	/* add (no-op if present) + delete: removes the old table whether or not it existed. */
	json_array_append_new(b, cmd("add", "table", json_deep_copy(t)));
	json_array_append_new(b, cmd("delete", "table", json_deep_copy(t)));
	if (recreate)
		json_array_append_new(b, cmd("add", "table", json_incref(t)));
	json_decref(t);
}

static const struct {
	enum prof_link link;
	const char *role, *dev;
} loss_at[] = {{LINK_EP, "ep", "eth0"},
               {LINK_FW_LAN, "fw", FW_DEV_LAN},
               {LINK_FW_WAN, "fw", FW_DEV_WAN},
               {LINK_OUT, "out", OUT_DEV_NET}};

int nftgen_has_impair(const struct profile *p, const char *role)
{
	for (size_t i = 0; i < sizeof(loss_at) / sizeof(loss_at[0]); i++)
		if (strcmp(loss_at[i].role, role) == 0 && p->impair[loss_at[i].link].set &&
		    p->impair[loss_at[i].link].loss > 0)
			return 1;
	return 0;
}

static void add_impair(json_t *b, const struct profile *p, const char *role)
{
	int any = nftgen_has_impair(p, role);

	replace_table(b, "netdev", NFT_IMPAIR_TABLE, any);
	for (size_t i = 0; any && i < sizeof(loss_at) / sizeof(loss_at[0]); i++)
		if (strcmp(loss_at[i].role, role) == 0)
			add_loss(b, p, loss_at[i].link, loss_at[i].dev);
}

json_t *nftgen_impair(const struct profile *p, const char *role)
{
	json_t *b = json_array();

	add_impair(b, p, role);
	return json_pack("{s:o}", "nftables", b);
}

static void add_chain(json_t *b, const char *name, const char *type, const char *hook, int prio,
                      const char *policy)
{
	json_array_append_new(b,
	                      cmd("add", "chain",
	                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "family", "inet",
	                                    "table", NFT_TABLE, "name", name, "type", type, "hook",
	                                    hook, "prio", prio, "policy", policy)));
}

/* Replies to flows a rule let through pass; packets conntrack cannot place are dropped. */
static void add_state_rules(json_t *b)
{
	json_array_append_new(
	        b,
	        rule("inet", NFT_TABLE, "forward", "replies to allowed flows",
	             json_pack("[o,o,o]",
	                       match(json_pack("{s:{s:s}}", "ct", "key", "state"), "in",
	                             json_pack("[s,s]", "established", "related")),
	                       counter(), verdict("accept"))));
	json_array_append_new(b,
	                      rule("inet", NFT_TABLE, "forward", "broken state",
	                           json_pack("[o,o,o]",
	                                     match(json_pack("{s:{s:s}}", "ct", "key", "state"),
	                                           "in", json_pack("[s]", "invalid")),
	                                     counter(), verdict("drop"))));
}

static void add_drop_from(json_t *b, const char *dev, const char *comment)
{
	json_array_append_new(
	        b,
	        rule("inet", NFT_TABLE, "forward", comment,
	             json_pack("[o,o,o]", match(meta("iifname"), "==", json_string(dev)), counter(),
	                       verdict("drop"))));
}

static void add_rules(json_t *b, const struct prof_rule *rules, size_t n, const char *tag)
{
	for (size_t i = 0, na = 0, nd = 0; i < n; i++)
		json_array_append_new(b, profile_rule(&rules[i], rules[i].deny ? nd++ : na++, tag));
}

/* The last rule: counts (and logs, if asked) what the policy catches; reject answers. */
static void add_policy_rule(json_t *b, enum prof_policy pol, int log, const char *prefix)
{
	json_t *e = json_array();

	json_array_append_new(e, counter());
	if (log && pol != PROF_ACCEPT)
		json_array_append_new(e, log_stmt(prefix));
	if (pol == PROF_REJECT)
		json_array_append_new(e, json_pack("{s:n}", "reject"));
	json_array_append_new(b,
	                      rule("inet", NFT_TABLE, "forward",
	                           pol == PROF_ACCEPT           ? "policy: accept"
	                                   : pol == PROF_REJECT ? "policy: reject"
	                                                        : "policy: drop",
	                           e));
}

json_t *nftgen_fw(const struct profile *p)
{
	json_t *b = json_array();
	const char *pol = p->policy == PROF_ACCEPT ? "accept" : "drop";

	replace_table(b, "inet", NFT_TABLE, 1);
	add_chain(b, "forward", "filter", "forward", 0, pol);
	add_state_rules(b);
	/* Only traffic from the LAN side is filtered by the profile; the internet never opens
	 * connections into the LAN (and with NAT it cannot address it). */
	add_drop_from(b, FW_DEV_WAN, "nothing enters from outside");
	if (p->dns_forward)
		json_array_append_new(
		        b,
		        rule("inet", NFT_TABLE, "forward",
		             "lab: the LAN DNS forwards to public DNS",
		             json_pack(
		                     "[o,o,o,o,o,o]",
		                     match(payload("ip", "saddr"), "==", json_string(LAB_LAN_DNS)),
		                     match(payload("ip", "daddr"), "==", json_string(LAB_NET_DNS)),
		                     match(meta("l4proto"), "==", proto_value(PROF_TCP | PROF_UDP)),
		                     match(payload("th", "dport"), "==", json_integer(53)),
		                     counter(), verdict("accept"))));
	add_rules(b, p->rules, p->nrules, "");
	add_policy_rule(b, p->policy, p->log, NFT_LOG_PREFIX);
	add_chain(b, "postrouting", "nat", "postrouting", 100, "accept");
	if (p->nat)
		json_array_append_new(
		        b,
		        rule("inet", NFT_TABLE, "postrouting", "NAT: the LAN leaves as " LAB_FW_WAN,
		             json_pack(
		                     "[o,o,o,o]",
		                     match(meta("oifname"), "==", json_string(FW_DEV_WAN)),
		                     match(payload("ip", "saddr"), "==", addr_value(LAB_LAN_CIDR)),
		                     counter(), json_pack("{s:n}", "masquerade"))));
	add_impair(b, p, "fw");
	return json_pack("{s:o}", "nftables", b);
}

json_t *nftgen_out(const struct profile *p)
{
	json_t *b = json_array();
	const struct prof_outside *o = &p->outside;

	/* Without an outside section the table is only removed (if an earlier profile made
	 * it): out forwards everything. */
	replace_table(b, "inet", NFT_TABLE, o->set);
	if (o->set) {
		add_chain(b, "forward", "filter", "forward", 0,
		          o->policy == PROF_ACCEPT ? "accept" : "drop");
		add_state_rules(b);
		/* Like any network behind a router: the internet opens nothing towards it. */
		add_drop_from(b, OUT_DEV_NET, "nothing enters from the internet");
		add_rules(b, o->rules, o->nrules, "out-");
		add_policy_rule(b, o->policy, o->log, NFT_OUT_LOG_PREFIX);
	}
	add_impair(b, p, "out");
	return json_pack("{s:o}", "nftables", b);
}
