/* profile.c - loading and checking firewall profiles (docs/lab.md, the JSON Schema in
 * docs/firewall-profile.schema.json says the same in machine form). */
#include "profile.h"
#include "hosts.h"

#include "onsight/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Parse context: where we are, for messages. */
struct pctx {
	const char *file;
	char where[PROF_MAX_TEXT + 48]; /* "allow[2] (\"SIP\")" */
	char *err;
	size_t errlen;
	const struct lab_host *hosts;
	size_t nhosts;
};

static int fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pctx *c, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen) {
		if (c->where[0])
			snprintf(c->err, c->errlen, "%s: %s: %s", c->file, c->where, msg);
		else
			snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
	}
	return EINVAL;
}

static const char *const link_names[LINK_COUNT] = {"ep", "fw-lan", "fw-wan", "out"};

const char *profile_link_name(enum prof_link l)
{
	return (unsigned)l < LINK_COUNT ? link_names[l] : "?";
}

/* Only the keys in allowed (NULL-terminated) may appear in obj. */
static int strict_keys(struct pctx *c, const json_t *obj, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (!allowed[i])
			return fail(c, "unknown key \"%.64s\"", k);
	}
	return 0;
}

static int get_bool(struct pctx *c, const json_t *o, const char *key, int def, int *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return fail(c, "%s: must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_text(struct pctx *c, const json_t *o, const char *key, char *out, size_t len)
{
	const json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(c, "%s: must be a string", key);
	if (json_string_length(v) >= len)
		return fail(c, "%s: longer than %zu characters", key, len - 1);
	for (const char *s = json_string_value(v); *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return fail(
			        c, "%s: control characters, quotes and backslashes are not allowed",
			        key);
	str_copy(out, json_string_value(v), len);
	return 0;
}

/* A string or an array of strings, as an array (new reference), or NULL with an error. */
static json_t *as_list(struct pctx *c, const json_t *v, const char *key, size_t max, int *err)
{
	json_t *a;
	size_t i;
	json_t *e;

	*err = 0;
	if (json_is_string(v)) {
		a = json_array();
		json_array_append(a, (json_t *)v);
		return a;
	}
	if (!json_is_array(v) || json_array_size(v) == 0) {
		*err = fail(c, "%s: must be a string or a non-empty array of strings", key);
		return NULL;
	}
	if (json_array_size(v) > max) {
		*err = fail(c, "%s: more than %zu entries", key, max);
		return NULL;
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			*err = fail(c, "%s[%zu]: must be a string", key, i);
			return NULL;
		}
	}
	return json_incref((json_t *)v);
}

static int parse_cidr(const char *s, char *out, size_t len)
{
	char a[20];
	const char *slash = strchr(s, '/');
	struct in_addr ia;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long bits = 32;

	if (n == 0 || n >= sizeof(a))
		return EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	if (inet_pton(AF_INET, a, &ia) != 1)
		return EINVAL;
	if (slash) {
		char *end = NULL;

		if (!isdigit((unsigned char)slash[1]))
			return EINVAL;
		bits = strtol(slash + 1, &end, 10);
		if (*end || bits < 0 || bits > 32)
			return EINVAL;
		/* Normalise: nftables rejects a prefix with host bits set. */
		uint32_t m = bits ? htonl(~0u << (32 - bits)) : 0;
		ia.s_addr &= m;
		inet_ntop(AF_INET, &ia, a, sizeof(a));
	}
	snprintf(out, len, "%s/%ld", a, bits);
	return 0;
}

static int parse_from(struct pctx *c, const json_t *v, struct prof_rule *r)
{
	static const struct {
		const char *role, *cidr;
	} roles[] = {{"lan", LAB_LAN_CIDR},
	             {"ep", LAB_EP_INSIDE "/32"},
	             {"proxy", LAB_PROXY "/32"},
	             {"vcs-control", LAB_VCS_CONTROL "/32"},
	             {"lan-dns", LAB_LAN_DNS "/32"}};
	json_t *a, *e;
	size_t i;
	int err;

	r->nsrc = 0;
	if (!v)
		return 0; /* any source behind the firewall */
	a = as_list(c, v, "from", PROF_MAX_SRC, &err);
	if (!a)
		return err;
	json_array_foreach(a, i, e)
	{
		const char *s = json_string_value(e);
		size_t k;

		if (strcmp(s, "any") == 0) {
			r->nsrc = 0;
			break;
		}
		for (k = 0; k < ARRAY_SIZE(roles); k++)
			if (strcmp(s, roles[k].role) == 0)
				break;
		if (k == ARRAY_SIZE(roles)) {
			json_decref(a);
			return fail(
			        c,
			        "from: unknown role \"%.64s\" (use lan, ep, proxy, vcs-control, "
			        "lan-dns or any)",
			        s);
		}
		str_copy(r->src[r->nsrc++], roles[k].cidr, sizeof(r->src[0]));
	}
	json_decref(a);
	return 0;
}

static int add_dst(struct pctx *c, struct prof_rule *r, const char *cidr)
{
	for (size_t i = 0; i < r->ndst; i++)
		if (strcmp(r->dst[i], cidr) == 0)
			return 0;
	if (r->ndst >= PROF_MAX_DST)
		return fail(c, "to: expands to more than %d addresses", PROF_MAX_DST);
	str_copy(r->dst[r->ndst++], cidr, sizeof(r->dst[0]));
	return 0;
}

static int parse_to(struct pctx *c, const json_t *v, struct prof_rule *r)
{
	json_t *a, *e;
	size_t i;
	int err = 0;

	r->ndst = 0;
	r->to_text[0] = '\0';
	if (!v)
		return 0;
	a = as_list(c, v, "to", PROF_MAX_DST, &err);
	if (!a)
		return err;
	json_array_foreach(a, i, e)
	{
		const char *s = json_string_value(e);
		char cidr[24];
		size_t tl = strlen(r->to_text);

		snprintf(r->to_text + tl, sizeof(r->to_text) - tl, "%s%s", tl ? "," : "", s);

		if (strcmp(s, "any") == 0) {
			r->ndst = 0;
			break;
		}
		if (isdigit((unsigned char)s[0])) {
			if (parse_cidr(s, cidr, sizeof(cidr)) != 0) {
				err = fail(c, "to: \"%.64s\" is not an IPv4 address or prefix", s);
				break;
			}
			if ((err = add_dst(c, r, cidr)))
				break;
		} else if (strpbrk(s, "*?")) {
			size_t hits = 0;

			for (size_t k = 0; k < c->nhosts && !err; k++)
				if (hosts_glob(s, c->hosts[k].name)) {
					snprintf(cidr, sizeof(cidr), "%s/32", c->hosts[k].addr);
					err = add_dst(c, r, cidr);
					hits++;
				}
			if (!err && hits == 0)
				err = fail(c, "to: pattern \"%.64s\" matches no host of the lab",
				           s);
			if (err)
				break;
		} else {
			const struct lab_host *h = hosts_find(c->hosts, c->nhosts, s);

			if (!h) {
				err = fail(
				        c,
				        "to: unknown host \"%.96s\" (not in the lab's host table; "
				        "see docs/lab.md)",
				        s);
				break;
			}
			snprintf(cidr, sizeof(cidr), "%s/32", h->addr);
			if ((err = add_dst(c, r, cidr)))
				break;
		}
	}
	json_decref(a);
	return err;
}

static int parse_proto(struct pctx *c, const json_t *v, unsigned *proto)
{
	json_t *a, *e;
	size_t i;
	int err = 0;

	*proto = 0;
	if (!v)
		return 0;
	a = as_list(c, v, "proto", 3, &err);
	if (!a)
		return err;
	json_array_foreach(a, i, e)
	{
		const char *s = json_string_value(e);

		if (strcmp(s, "tcp") == 0)
			*proto |= PROF_TCP;
		else if (strcmp(s, "udp") == 0)
			*proto |= PROF_UDP;
		else if (strcmp(s, "icmp") == 0)
			*proto |= PROF_ICMP;
		else if (strcmp(s, "any") == 0)
			*proto = PROF_TCP | PROF_UDP | PROF_ICMP;
		else {
			err = fail(c, "proto: unknown protocol \"%.32s\" (tcp, udp, icmp or any)",
			           s);
			break;
		}
	}
	json_decref(a);
	if (*proto == (PROF_TCP | PROF_UDP | PROF_ICMP))
		*proto = 0;
	return err;
}

static int parse_port_value(struct pctx *c, const json_t *e, size_t i, struct prof_ports *p)
{
	long long lo, hi;

	if (json_is_integer(e)) {
		lo = hi = json_integer_value(e);
	} else if (json_is_string(e)) {
		const char *s = json_string_value(e);
		char *end = NULL;

		if (!isdigit((unsigned char)s[0]))
			return fail(c, "ports[%zu]: \"%.32s\" is not a port or a range LO-HI", i,
			            s);
		lo = strtoll(s, &end, 10);
		if (*end == '-' && isdigit((unsigned char)end[1]))
			hi = strtoll(end + 1, &end, 10);
		else
			hi = lo;
		if (*end)
			return fail(c, "ports[%zu]: \"%.32s\" is not a port or a range LO-HI", i,
			            s);
	} else {
		return fail(c, "ports[%zu]: must be a number or a \"LO-HI\" string", i);
	}
	if (lo < 1 || hi > 65535 || lo > hi)
		return fail(c, "ports[%zu]: %lld-%lld is not a range within 1-65535", i, lo, hi);
	p->lo = (uint16_t)lo;
	p->hi = (uint16_t)hi;
	return 0;
}

static int parse_ports(struct pctx *c, const json_t *v, struct prof_rule *r)
{
	json_t *e;
	size_t i;
	int err;

	r->nports = 0;
	if (!v)
		return 0;
	if (json_is_integer(v) || json_is_string(v))
		return (r->nports = 1, parse_port_value(c, v, 0, &r->ports[0]));
	if (!json_is_array(v) || json_array_size(v) == 0)
		return fail(
		        c, "ports: must be a port, a \"LO-HI\" range or a non-empty array of them");
	if (json_array_size(v) > PROF_MAX_PORTS)
		return fail(c, "ports: more than %d entries", PROF_MAX_PORTS);
	json_array_foreach(v, i, e)
	{
		if ((err = parse_port_value(c, e, i, &r->ports[r->nports])))
			return err;
		/* nftables rejects overlapping elements in one anonymous set. */
		for (size_t k = 0; k < r->nports; k++)
			if (r->ports[k].lo <= r->ports[r->nports].hi &&
			    r->ports[r->nports].lo <= r->ports[k].hi)
				return fail(c, "ports[%zu]: overlaps ports[%zu]", i, k);
		r->nports++;
	}
	return 0;
}

/* One rule of list (for messages: "allow", "outside.deny", ...). outside: the source is
 * fixed (the outside endpoint network), so "from" is refused. */
static int parse_rule(struct pctx *c, const json_t *o, struct prof_rule *r, const char *list,
                      size_t idx, int deny, int outside)
{
	static const char *const keys[] = {"comment", "from", "to", "proto", "ports", "log", NULL};
	const json_t *cm = json_object_get(o, "comment");
	int err;

	if (json_is_string(cm))
		snprintf(c->where, sizeof(c->where), "%s[%zu] (\"%.*s\")", list, idx, 64,
		         json_string_value(cm));
	else
		snprintf(c->where, sizeof(c->where), "%s[%zu]", list, idx);
	if (!json_is_object(o))
		return fail(c, "must be an object");
	if ((err = strict_keys(c, o, keys)))
		return err;
	if (outside && json_object_get(o, "from"))
		return fail(c,
		            "from: not allowed in outside rules (the source is always the outside "
		            "endpoint network " LAB_OUT_CIDR ")");
	if ((err = get_text(c, o, "comment", r->comment, sizeof(r->comment))) ||
	    (err = parse_from(c, json_object_get(o, "from"), r)) ||
	    (err = parse_to(c, json_object_get(o, "to"), r)) ||
	    (err = parse_proto(c, json_object_get(o, "proto"), &r->proto)) ||
	    (err = parse_ports(c, json_object_get(o, "ports"), r)) ||
	    (err = get_bool(c, o, "log", 0, &r->log)))
		return err;
	if (r->nports && (r->proto == 0 || (r->proto & PROF_ICMP)))
		return fail(c, "ports: need \"proto\" tcp and/or udp");
	if (outside) {
		str_copy(r->src[0], LAB_OUT_CIDR, sizeof(r->src[0]));
		r->nsrc = 1;
	}
	r->deny = deny;
	return 0;
}

/* Appends obj's list key ("allow" or "deny") to rules (capacity max, *n used). prefix names
 * the enclosing section in messages ("" or "outside."). */
static int parse_rules(struct pctx *c, const json_t *obj, const char *key, const char *prefix,
                       struct prof_rule *rules, size_t *n, size_t max)
{
	const json_t *a = json_object_get(obj, key), *e;
	char list[32];
	size_t i;
	int err;

	snprintf(list, sizeof(list), "%s%s", prefix, key);
	if (!a)
		return 0;
	if (!json_is_array(a))
		return fail(c, "%s: must be an array of rules", list);
	if (*n + json_array_size(a) > max)
		return fail(c, "%s: more than %zu rules in the %s", list, max,
		            *prefix ? "outside section" : "profile");
	json_array_foreach(a, i, e)
	{
		if ((err = parse_rule(c, e, &rules[*n], list, i, strcmp(key, "deny") == 0,
		                      *prefix != '\0')))
			return err;
		(*n)++;
	}
	c->where[0] = '\0';
	return 0;
}

static int parse_policy(struct pctx *c, const json_t *o, enum prof_policy *out)
{
	const char *pol = json_string_value(json_object_get(o, "policy"));

	if (!pol)
		return fail(c, "policy: required: \"drop\", \"reject\" or \"accept\"");
	if (strcmp(pol, "drop") == 0)
		*out = PROF_DROP;
	else if (strcmp(pol, "reject") == 0)
		*out = PROF_REJECT;
	else if (strcmp(pol, "accept") == 0)
		*out = PROF_ACCEPT;
	else
		return fail(c, "policy: \"%.32s\" is not \"drop\", \"reject\" or \"accept\"", pol);
	return 0;
}

/* The outside network's filter: same rule vocabulary, fixed source, its own policy. */
static int parse_outside(struct pctx *c, const json_t *root, struct profile *p)
{
	static const char *const keys[] = {"comment", "policy", "log", "allow", "deny", NULL};
	const json_t *o = json_object_get(root, "outside");
	struct prof_outside *out = &p->outside;
	int err;

	if (!o)
		return 0;
	str_copy(c->where, "outside", sizeof(c->where));
	if (!json_is_object(o))
		return fail(c, "must be an object");
	if ((err = strict_keys(c, o, keys)) ||
	    (err = get_text(c, o, "comment", out->comment, sizeof(out->comment))) ||
	    (err = parse_policy(c, o, &out->policy)) || (err = get_bool(c, o, "log", 0, &out->log)))
		return err;
	out->rules = calloc(PROF_MAX_OUTSIDE_RULES, sizeof(*out->rules));
	if (!out->rules)
		return ENOMEM;
	if ((err = parse_rules(c, o, "deny", "outside.", out->rules, &out->nrules,
	                       PROF_MAX_OUTSIDE_RULES)) ||
	    (err = parse_rules(c, o, "allow", "outside.", out->rules, &out->nrules,
	                       PROF_MAX_OUTSIDE_RULES)))
		return err;
	out->set = 1;
	c->where[0] = '\0';
	return 0;
}

static int parse_proxy(struct pctx *c, const json_t *root, struct profile *p)
{
	static const char *const keys[] = {"enabled", "allow", "connect_ports", NULL};
	const json_t *o = json_object_get(root, "proxy"), *v, *e;
	size_t i;
	int err;

	p->proxy_enabled = 1;
	snprintf(p->proxy_allow[0], sizeof(p->proxy_allow[0]), "*.%s", p->domain);
	p->nproxy_allow = 1;
	p->connect_ports[0] = 443;
	p->connect_ports[1] = 80;
	p->nconnect_ports = 2;
	if (!o)
		return 0;
	str_copy(c->where, "proxy", sizeof(c->where));
	if (!json_is_object(o))
		return fail(c, "must be an object");
	if ((err = strict_keys(c, o, keys)) ||
	    (err = get_bool(c, o, "enabled", 1, &p->proxy_enabled)))
		return err;
	if ((v = json_object_get(o, "allow"))) {
		if (!json_is_array(v) || json_array_size(v) > PROF_MAX_PROXY_ALLOW)
			return fail(c, "allow: must be an array of at most %d host patterns",
			            PROF_MAX_PROXY_ALLOW);
		p->nproxy_allow = 0;
		json_array_foreach(v, i, e)
		{
			const char *s = json_string_value(e);

			if (!s || !*s || strlen(s) >= PROF_MAX_TEXT)
				return fail(c, "allow[%zu]: must be a non-empty host pattern", i);
			for (const char *q = s; *q; q++)
				if (!isalnum((unsigned char)*q) && !strchr("-.*?", *q))
					return fail(c,
					            "allow[%zu]: \"%.64s\": only letters, digits, "
					            "'-', '.', '*' and '?' are allowed",
					            i, s);
			str_copy(p->proxy_allow[p->nproxy_allow++], s, sizeof(p->proxy_allow[0]));
		}
	}
	if ((v = json_object_get(o, "connect_ports"))) {
		if (!json_is_array(v) || json_array_size(v) > ARRAY_SIZE(p->connect_ports))
			return fail(c, "connect_ports: must be an array of at most %zu ports",
			            ARRAY_SIZE(p->connect_ports));
		p->nconnect_ports = 0;
		json_array_foreach(v, i, e)
		{
			json_int_t n = json_integer_value(e);

			if (!json_is_integer(e) || n < 1 || n > 65535)
				return fail(c, "connect_ports[%zu]: must be a port 1-65535", i);
			p->connect_ports[p->nconnect_ports++] = (uint16_t)n;
		}
	}
	c->where[0] = '\0';
	return 0;
}

int profile_parse_rate(const char *s, uint64_t *bps)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {{"bit", 1}, {"kbit", 1000}, {"mbit", 1000000}, {"gbit", 1000000000}};
	char *end = NULL;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v == 0 || v > 100000000000ull)
		return EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcasecmp(end, units[i].unit) == 0) {
			if (v * units[i].mul < 8000 || v * units[i].mul > 100000000000ull)
				return EINVAL;
			*bps = v * units[i].mul;
			return 0;
		}
	return EINVAL;
}

static int parse_impair(struct pctx *c, const json_t *root, struct profile *p)
{
	static const char *const keys[] = {"link",     "loss_percent", "rate",
	                                   "delay_ms", "comment",      NULL};
	const json_t *a = json_object_get(root, "impair"), *o;
	size_t i;
	int err;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > LINK_COUNT)
		return fail(c, "impair: must be an array of at most %d links", LINK_COUNT);
	json_array_foreach(a, i, o)
	{
		const char *ln = json_string_value(json_object_get(o, "link"));
		const json_t *v;
		struct prof_impair *im = NULL;
		size_t k;

		snprintf(c->where, sizeof(c->where), "impair[%zu]", i);
		if (!json_is_object(o))
			return fail(c, "must be an object");
		if ((err = strict_keys(c, o, keys)))
			return err;
		for (k = 0; ln && k < LINK_COUNT; k++)
			if (strcmp(ln, link_names[k]) == 0)
				im = &p->impair[k];
		if (!im)
			return fail(c, "link: must be one of ep, fw-lan, fw-wan, out");
		snprintf(c->where, sizeof(c->where), "impair[%zu] (link %s)", i, ln);
		if (im->set)
			return fail(c, "link: listed twice");
		im->set = 1;
		if ((v = json_object_get(o, "loss_percent"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 100)
				return fail(c, "loss_percent: must be an integer 0-100");
			im->loss = (int)json_integer_value(v);
		}
		if ((v = json_object_get(o, "rate")) &&
		    profile_parse_rate(json_string_value(v), &im->rate_bps) != 0)
			return fail(c, "rate: must be like \"2mbit\", \"512kbit\" (8kbit-100gbit)");
		if ((v = json_object_get(o, "delay_ms"))) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 10000)
				return fail(c, "delay_ms: must be an integer 0-10000");
			im->delay_ms = (int)json_integer_value(v);
		}
	}
	c->where[0] = '\0';
	return 0;
}

static int parse_description(struct pctx *c, const json_t *root, struct profile *p)
{
	const json_t *v = json_object_get(root, "description"), *e;
	size_t i, off = 0;

	p->description[0] = '\0';
	if (!v)
		return 0;
	if (json_is_string(v)) {
		str_copy(p->description, json_string_value(v), sizeof(p->description));
		return 0;
	}
	if (!json_is_array(v))
		return fail(c, "description: must be a string or an array of lines");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return fail(c, "description[%zu]: must be a string", i);
		off += (size_t)snprintf(p->description + off, sizeof(p->description) - off, "%s%s",
		                        i ? "\n" : "", json_string_value(e));
		if (off >= sizeof(p->description))
			return fail(c, "description: longer than %zu characters",
			            sizeof(p->description) - 1);
	}
	return 0;
}

static int parse_root(struct pctx *c, const json_t *root, struct profile *p)
{
	static const char *const keys[] = {"$schema", "description", "domain", "policy", "nat",
	                                   "log",     "dns_forward", "allow",  "deny",   "proxy",
	                                   "impair",  "outside",     NULL};
	int err;

	if (!json_is_object(root))
		return fail(c, "the profile must be a JSON object");
	if ((err = strict_keys(c, root, keys)) || (err = parse_description(c, root, p)) ||
	    (err = parse_policy(c, root, &p->policy)))
		return err;
	if ((err = get_bool(c, root, "nat", 1, &p->nat)) ||
	    (err = get_bool(c, root, "log", 0, &p->log)) ||
	    (err = get_bool(c, root, "dns_forward", 1, &p->dns_forward)))
		return err;
	/* Deny rules come first so they win over allow rules, as in most firewalls' UIs. */
	if ((err = parse_rules(c, root, "deny", "", p->rules, &p->nrules, PROF_MAX_RULES)) ||
	    (err = parse_rules(c, root, "allow", "", p->rules, &p->nrules, PROF_MAX_RULES)) ||
	    (err = parse_proxy(c, root, p)) || (err = parse_impair(c, root, p)) ||
	    (err = parse_outside(c, root, p)))
		return err;
	return 0;
}

/* The cloud domain: the profile's "domain", else the lab's, else librestream.com. A profile
 * for another domain than the running lab's is refused. */
static int pick_domain(struct pctx *c, const json_t *root, const char *lab, struct profile *p)
{
	const json_t *v = json_is_object(root) ? json_object_get(root, "domain") : NULL;
	const char *d = json_string_value(v);

	if (v && (!d || !hosts_domain_ok(d)))
		return fail(c, "domain: must be a DNS domain (letters, digits, '-', '.')");
	if (d && lab && strcasecmp(d, lab) != 0)
		return fail(c, "domain: \"%.64s\" is not the lab's domain \"%.64s\"", d, lab);
	if (!d)
		d = lab && hosts_domain_ok(lab) ? lab : HOSTS_DOMAIN_DEFAULT;
	str_copy(p->domain, d, sizeof(p->domain));
	return 0;
}

int profile_parse(struct profile **pp, const char *file, const char *buf, size_t len,
                  const char *domain, char *err, size_t errlen)
{
	struct lab_host hosts[HOSTS_MAX];
	struct pctx c = {0};
	struct profile *p = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	int rc = 0;

	if (!pp || !buf || !file)
		return EINVAL;
	c.file = file;
	c.err = err;
	c.errlen = errlen;
	c.hosts = hosts;
	if (len > PROF_MAX_FILE)
		return fail(&c, "larger than %u bytes", PROF_MAX_FILE);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
		return EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->rules = calloc(PROF_MAX_RULES, sizeof(*p->rules));
	if (!p || !p->rules) {
		rc = ENOMEM;
		goto out;
	}
	str_copy(p->path, file, sizeof(p->path));
	rc = pick_domain(&c, root, domain, p);
	if (rc)
		goto out;
	c.nhosts = hosts_build(hosts, HOSTS_MAX, p->domain);
	rc = parse_root(&c, root, p);
	if (rc)
		goto out;
	*pp = p;
	p = NULL;
out:
	json_decref(root);
	profile_free(p);
	return rc;
}

int profile_find(const char *name, char *out, size_t len)
{
	const char *dirs[2] = {getenv("FWLAB_PROFILE_DIR"),
	                       ONSIGHT_SOURCE_DIR "/mock-firewall/profiles"};
	size_t n;

	if (!name || !*name)
		return ENOENT;
	n = strlen(name);
	if (strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".json") == 0)) {
		str_copy(out, name, len);
		return access(out, R_OK) == 0 ? 0 : ENOENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (!dirs[i])
			continue;
		snprintf(out, len, "%s/%s.json", dirs[i], name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return ENOENT;
}

int profile_load(struct profile **pp, const char *name, const char *domain, char *err,
                 size_t errlen)
{
	char path[512], *buf = NULL;
	size_t len = 0;
	int rc;

	if (!pp || !name)
		return EINVAL;
	rc = profile_find(name, path, sizeof(path));
	if (!rc) {
		/* Absolute, so the state file names it for any later command, from any directory. */
		char abs[PATH_MAX];

		if (realpath(path, abs) && strlen(abs) < sizeof(path))
			str_copy(path, abs, sizeof(path));
	}
	if (rc) {
		snprintf(err, errlen,
		         "%s: no such profile (a path, or a name in mock-firewall/profiles/)",
		         name);
		return rc;
	}
	rc = file_read(path, PROF_MAX_FILE, &buf, &len);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path,
		         rc == EFBIG ? "file too large" : strerror(rc));
		return rc;
	}
	rc = profile_parse(pp, path, buf, len, domain, err, errlen);
	free(buf);
	return rc;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	free(p->rules);
	free(p->outside.rules);
	free(p);
}
