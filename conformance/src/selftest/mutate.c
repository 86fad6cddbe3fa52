/* mutate.c - the catalogue of timeline mutations (docs/selftest.md). Each one is small: a
 * per-event edit through rewrite(), or an event injected next to the evidence it relates to. */
#include "mutate.h"
#include "hosts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Where the endpoint's own traffic shows: its two addresses, and the NAT addresses that
 * carry it past the firewall and the outside router. */
static const char *const endpoint_side[] = {"endpoint-inside", "endpoint-outside", "fw-wan",
                                            "out-router"};
/* The SIP servers of the plan: "another server" is the next one in this list. */
static const char *const sip_servers[] = {"sip.librestream.com", "vcs-control.corp.example",
                                          "vcs-expressway.corp.example"};

static const char *sget(const json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

static bool kind_is(const json_t *e, const char *k)
{
	const char *s = sget(e, "kind");
	return s && !strcmp(s, k);
}

static bool kind_pre(const json_t *e, const char *p)
{
	const char *s = sget(e, "kind");
	return s && !strncmp(s, p, strlen(p));
}

static bool is_pcap(const json_t *e)
{
	return json_object_get(e, "src_ip") != NULL;
}

static const char *plan_addr(const struct mutate_env *env, const char *name)
{
	static struct lab_host builtin[HOSTS_MAX];
	static size_t nbuiltin;
	const struct lab_host *h;
	const json_t *e;
	size_t i;

	json_array_foreach(env ? env->hosts : NULL, i, e)
	{
		if (sget(e, "name") && !strcmp(sget(e, "name"), name) && sget(e, "addr"))
			return sget(e, "addr");
	}
	/* A run without hosts.json: the lab's own plan. */
	if (!nbuiltin)
		nbuiltin = hosts_plan(builtin, HOSTS_MAX, NULL);
	h = hosts_find(builtin, nbuiltin, name);
	return h ? h->addr : NULL;
}

/* value is "ADDR" or "ADDR:PORT" (IPv4, as the lab uses). */
static bool addr_is(const char *value, const char *addr)
{
	size_t n = addr ? strlen(addr) : 0;
	return value && n && !strncmp(value, addr, n) && (value[n] == '\0' || value[n] == ':');
}

static bool is_host(const struct mutate_env *env, const char *value, const char *name)
{
	return addr_is(value, plan_addr(env, name));
}

static bool is_ep(const struct mutate_env *env, const char *value)
{
	for (size_t i = 0; i < ARRAY_LEN(endpoint_side); i++)
		if (is_host(env, value, endpoint_side[i]))
			return true;
	return false;
}

static bool from_ep(const struct mutate_env *env, const json_t *e)
{
	if (is_pcap(e))
		return is_ep(env, sget(e, "src_ip"));
	return kind_pre(e, "onsight-ref.") || is_ep(env, sget(e, "client")) ||
	        is_ep(env, sget(e, "source"));
}

static bool to_ep(const struct mutate_env *env, const json_t *e)
{
	return is_ep(env, sget(e, is_pcap(e) ? "dst_ip" : "dest"));
}

static bool is_sip_msg(const json_t *e, const char *method)
{
	if (kind_is(e, "sip.request") || kind_is(e, "mock-sip.sip.request"))
		return sget(e, "method") && !strcmp(sget(e, "method"), method);
	if (kind_is(e, "sip.response") || kind_is(e, "mock-sip.sip.response")) {
		const char *m = sget(e, "cseq_method") ? sget(e, "cseq_method") : sget(e, "method");
		return m && !strcmp(m, method);
	}
	return false;
}

static bool is_2xx(const json_t *e)
{
	json_int_t s = json_integer_value(json_object_get(e, "status"));
	return s >= 200 && s <= 299;
}

/* ---- building the altered copy -------------------------------------------------------- */

enum edit { KEEP, CHANGED, DROP };
/* e is a private shallow copy the edit may change; arg is the mutation's own parameter. */
typedef enum edit (*edit_fn)(json_t *e, const struct mutate_env *env, const void *arg);

static int rewrite(const json_t *tl, const struct mutate_env *env, edit_fn fn, const void *arg,
                   json_t **out)
{
	json_t *a = json_array(), *ev;
	size_t i, touched = 0;

	if (!a)
		return ENOMEM;
	json_array_foreach(tl, i, ev)
	{
		json_t *c = json_copy(ev);
		enum edit r;

		if (!c) {
			json_decref(a);
			return ENOMEM;
		}
		r = fn(c, env, arg);
		touched += r != KEEP;
		if (r == CHANGED)
			json_array_append(a, c);
		else if (r == KEEP)
			json_array_append(a, ev);
		json_decref(c);
	}
	if (!touched) {
		json_decref(a);
		return ENOENT;
	}
	*out = a;
	return 0;
}

/* Sorts a in place by t, events of equal t keeping their order (insertion sort: the input
 * is sorted but for the few events a mutation moved or added). */
static int sort_by_t(json_t *a)
{
	size_t n = json_array_size(a);
	json_t **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_incref(json_array_get(a, i));
		double tx = json_number_value(json_object_get(x, "t"));
		size_t j = i;

		while (j > 0 && json_number_value(json_object_get(v[j - 1], "t")) > tx) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	json_array_clear(a);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
	return 0;
}

/* A copy of tl with ev (stolen) added in time order. */
static int with_event(const json_t *tl, json_t *ev, json_t **out)
{
	json_t *a = json_copy((json_t *)tl);
	int e;

	if (!a || !ev) {
		json_decref(a);
		json_decref(ev);
		return ENOMEM;
	}
	json_object_set_new(ev, "mutation", json_true());
	json_array_append_new(a, ev);
	if ((e = sort_by_t(a))) {
		json_decref(a);
		return e;
	}
	*out = a;
	return 0;
}

static const json_t *first_where(const json_t *tl, bool (*p)(const json_t *e, const void *arg),
                                 const void *arg)
{
	const json_t *e;
	size_t i;

	json_array_foreach(tl, i, e)
	{
		if (p(e, arg))
			return e;
	}
	return NULL;
}

static bool p_kind(const json_t *e, const void *arg)
{
	return kind_is(e, arg);
}

static bool p_register(const json_t *e, const void *arg)
{
	(void)arg;
	return is_sip_msg(e, "REGISTER") || kind_is(e, "mock-sip.register");
}

/* The endpoint's own address: what it sent from on its link, else its start line. */
static const char *endpoint_addr(const json_t *tl, const struct mutate_env *env)
{
	const json_t *e;
	size_t i;

	json_array_foreach(tl, i, e)
	{
		const char *s = sget(e, "src_ip");
		if (is_pcap(e) &&
		    (is_host(env, s, "endpoint-inside") || is_host(env, s, "endpoint-outside")))
			return s;
	}
	e = first_where(tl, p_kind, "onsight-ref.start");
	if (e && sget(e, "address"))
		return sget(e, "address");
	return plan_addr(env, "endpoint-inside");
}

static const char *endpoint_name(const struct mutate_env *env, const char *addr)
{
	return is_host(env, addr, "endpoint-outside") ? "endpoint-outside" : "endpoint-inside";
}

/* A captured packet event from the endpoint, made up by a mutation. */
static json_t *made_packet(const json_t *tl, const struct mutate_env *env, double t,
                           const char *kind, const char *proto, const char *dst_name, int dst_port,
                           const char *service)
{
	const char *ep = endpoint_addr(tl, env), *dst = plan_addr(env, dst_name);

	if (!ep || !dst)
		return NULL;
	return json_pack("{s:f,s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:i,s:s,s:s,s:s,s:s}", "t", t, "src",
	                 "pcap:ep#0", "kind", kind, "capture", "ep", "frame", 0, "src_ip", ep,
	                 "src_port", 41000, "dst_ip", dst, "dst_port", dst_port, "proto", proto,
	                 "src_host", endpoint_name(env, ep), "dst_host", dst_name, "dst_service",
	                 service);
}

/* ---- the mutations ---------------------------------------------------------------------- */

static enum edit e_no_register_ok(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)env, (void)arg;
	if (is_sip_msg(e, "REGISTER") && is_2xx(e))
		return DROP;
	if (kind_is(e, "mock-sip.register") && sget(e, "result") &&
	    !strcmp(sget(e, "result"), "ok"))
		return DROP;
	return KEEP;
}

static bool is_config(const json_t *e)
{
	const char *uri = sget(e, "uri");
	return kind_is(e, "mock-oam.config") || kind_is(e, "onsight-ref.config") ||
	        (kind_is(e, "http.request") && uri && strstr(uri, "config"));
}

/* The HTTP response answering a config request goes with it: same flow, reversed. */
static bool answers(const json_t *resp, const json_t *req)
{
	return kind_is(resp, "http.response") && kind_is(req, "http.request") &&
	        json_equal(json_object_get(resp, "src_ip"), json_object_get(req, "dst_ip")) &&
	        json_equal(json_object_get(resp, "src_port"), json_object_get(req, "dst_port")) &&
	        json_equal(json_object_get(resp, "dst_ip"), json_object_get(req, "src_ip")) &&
	        json_equal(json_object_get(resp, "dst_port"), json_object_get(req, "src_port")) &&
	        json_equal(json_object_get(resp, "capture"), json_object_get(req, "capture"));
}

static enum edit e_no_config(json_t *e, const struct mutate_env *env, const void *arg)
{
	const json_t *tl = arg, *r;
	size_t i;

	(void)env;
	if (is_config(e))
		return DROP;
	json_array_foreach(tl, i, r)
	{
		if (is_config(r) && answers(e, r))
			return DROP;
	}
	return KEEP;
}

static int m_no_config(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	return rewrite(tl, env, e_no_config, tl, out);
}

struct retime {
	const json_t *tl;
	double to, first; /* moved events keep their spacing: t' = to + (t - first) */
};

static enum edit e_config_late(json_t *e, const struct mutate_env *env, const void *arg)
{
	const struct retime *rt = arg;
	const json_t *r;
	size_t i;
	bool move = is_config(e);

	(void)env;
	json_array_foreach(rt->tl, i, r)
	{
		move = move || (is_config(r) && answers(e, r));
	}
	if (!move || json_number_value(json_object_get(e, "t")) >= rt->to)
		return KEEP;
	json_object_set_new(
	        e, "t", json_real(rt->to + json_number_value(json_object_get(e, "t")) - rt->first));
	return CHANGED;
}

static bool p_register_ok(const json_t *e, const void *arg)
{
	return e_no_register_ok((json_t *)e, arg, NULL) == DROP;
}

static bool p_config(const json_t *e, const void *arg)
{
	(void)arg;
	return is_config(e);
}

static int m_config_late(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	const json_t *reg = first_where(tl, p_register_ok, env),
	             *cfg = first_where(tl, p_config, NULL);
	struct retime rt = {.tl = tl};
	int e;

	if (!reg || !cfg)
		return ENOENT;
	/* Just after the registration was accepted. */
	rt.to = json_number_value(json_object_get(reg, "t")) + 0.001;
	rt.first = json_number_value(json_object_get(cfg, "t"));
	if ((e = rewrite(tl, env, e_config_late, &rt, out)))
		return e;
	if ((e = sort_by_t(*out))) {
		json_decref(*out);
		return e;
	}
	return 0;
}

static enum edit e_login_http(json_t *e, const struct mutate_env *env, const void *arg)
{
	const char *oam = "onsight.librestream.com", *sni = sget(e, "sni"), *host = sget(e, "host");
	const char *scheme = sget(e, "scheme");

	(void)arg;
	if (kind_is(e, "tls.client_hello") && sni && !strcmp(sni, oam))
		return DROP;
	if (kind_is(e, "http.connect") && host && !strcmp(host, oam) &&
	    json_integer_value(json_object_get(e, "port")) == 443) {
		json_object_set_new(e, "port", json_integer(80));
		json_object_set_new(e, "uri", json_string("onsight.librestream.com:80"));
		return CHANGED;
	}
	if (kind_pre(e, "mock-oam.") && scheme && !strcmp(scheme, "https")) {
		json_object_set_new(e, "scheme", json_string("http"));
		return CHANGED;
	}
	if (!is_pcap(e))
		return KEEP;
	if (is_host(env, sget(e, "dst_ip"), oam) &&
	    json_integer_value(json_object_get(e, "dst_port")) == 443) {
		if (kind_pre(e, "tls."))
			return DROP;
		json_object_set_new(e, "dst_port", json_integer(80));
		if (json_object_get(e, "dst_service"))
			json_object_set_new(e, "dst_service", json_string("http"));
		return CHANGED;
	}
	if (is_host(env, sget(e, "src_ip"), oam) &&
	    json_integer_value(json_object_get(e, "src_port")) == 443) {
		if (kind_pre(e, "tls."))
			return DROP;
		json_object_set_new(e, "src_port", json_integer(80));
		return CHANGED;
	}
	return KEEP;
}

static bool sip_port(const json_t *e)
{
	json_int_t s = json_integer_value(json_object_get(e, "src_port")),
	           d = json_integer_value(json_object_get(e, "dst_port"));
	return s == 5060 || s == 5061 || d == 5060 || d == 5061;
}

static enum edit e_sip_udp(json_t *e, const struct mutate_env *env, const void *arg)
{
	enum edit r = KEEP;

	(void)env, (void)arg;
	if (kind_pre(e, "tcp.") && sip_port(e))
		return DROP; /* no connection: the datagrams need none */
	if (kind_is(e, "sip.request") || kind_is(e, "sip.response")) {
		json_object_set_new(e, "proto", json_string("udp"));
		if (json_object_get(e, "via_transport"))
			json_object_set_new(e, "via_transport", json_string("udp"));
		r = CHANGED;
	}
	if ((kind_pre(e, "sip.") || kind_pre(e, "mock-sip.") || kind_pre(e, "onsight-ref.")) &&
	    sget(e, "transport") && strcmp(sget(e, "transport"), "udp")) {
		json_object_set_new(e, "transport", json_string("udp"));
		r = CHANGED;
	}
	return r;
}

static const char *other_server(const struct mutate_env *env, const char *addr, size_t *idx)
{
	for (size_t i = 0; i < ARRAY_LEN(sip_servers); i++) {
		if (is_host(env, addr, sip_servers[i]) || (addr && !strcmp(addr, sip_servers[i]))) {
			*idx = (i + 1) % ARRAY_LEN(sip_servers);
			return sip_servers[*idx];
		}
	}
	return NULL;
}

/* One side of a captured SIP message moved to another server of the plan. */
static bool move_side(json_t *e, const struct mutate_env *env, const char *ipk, const char *hostk)
{
	size_t k;
	const char *to = other_server(env, sget(e, ipk), &k), *addr;

	if (!to || !(addr = plan_addr(env, to)))
		return false;
	json_object_set_new(e, ipk, json_string(addr));
	if (json_object_get(e, hostk))
		json_object_set_new(e, hostk, json_string(to));
	return true;
}

/* Which server a journal line says it is (`at`, `local`), moved likewise. */
static bool move_at(json_t *e, const struct mutate_env *env)
{
	const json_t *at = json_object_get(e, "at");
	const char *local = sget(e, "local"), *to, *addr, *port;
	bool moved = false;
	size_t k;

	if (at && (to = other_server(env, sget(at, "host"), &k))) {
		json_object_set_new(e, "at", json_pack("{s:s}", "host", to));
		moved = true;
	}
	if (local && (to = other_server(env, local, &k)) && (addr = plan_addr(env, to))) {
		char buf[96];
		port = strrchr(local, ':');
		snprintf(buf, sizeof(buf), "%s%s", addr, port ? port : "");
		json_object_set_new(e, "local", json_string(buf));
		moved = true;
	}
	return moved;
}

static enum edit e_elsewhere(json_t *e, const struct mutate_env *env, const void *arg)
{
	const char *method = arg;
	bool moved = false;

	if (!is_sip_msg(e, method) &&
	    !(!strcmp(method, "REGISTER") && kind_is(e, "mock-sip.register")))
		return KEEP;
	if (is_pcap(e)) {
		moved = move_side(e, env, "dst_ip", "dst_host");
		moved = move_side(e, env, "src_ip", "src_host") || moved;
	} else {
		moved = move_at(e, env);
	}
	return moved ? CHANGED : KEEP;
}

static int m_register_elsewhere(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	return rewrite(tl, env, e_elsewhere, "REGISTER", out);
}

static int m_invite_elsewhere(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	return rewrite(tl, env, e_elsewhere, "INVITE", out);
}

/* The endpoint's media ports mapped by f, on both directions of every stream. */
static enum edit media_ports(json_t *e, const struct mutate_env *env, int (*f)(int))
{
	enum edit r = KEEP;

	if (kind_is(e, "onsight-ref.media") && json_object_get(e, "local_port")) {
		json_object_set_new(
		        e, "local_port",
		        json_integer(f((int)json_integer_value(json_object_get(e, "local_port")))));
		return CHANGED;
	}
	if (!kind_is(e, "rtp.stream") && !kind_is(e, "rtcp"))
		return KEEP;
	if (from_ep(env, e)) {
		json_object_set_new(
		        e, "src_port",
		        json_integer(f((int)json_integer_value(json_object_get(e, "src_port")))));
		r = CHANGED;
	}
	if (to_ep(env, e)) {
		json_object_set_new(
		        e, "dst_port",
		        json_integer(f((int)json_integer_value(json_object_get(e, "dst_port")))));
		r = CHANGED;
	}
	return r;
}

static int port_low(int p)
{
	return 1000 + p % 24; /* a privileged port */
}

static int port_high(int p)
{
	return 65100 + p % 400; /* past the top of the lab's media range 15000-65000 */
}

static enum edit e_port_low(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)arg;
	return media_ports(e, env, port_low);
}

static enum edit e_port_range(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)arg;
	return media_ports(e, env, port_high);
}

static enum edit e_no_rtp_back(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)arg;
	return kind_is(e, "rtp.stream") && to_ep(env, e) ? DROP : KEEP;
}

static enum edit e_no_rtp(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)env, (void)arg;
	return kind_is(e, "rtp.stream") || kind_is(e, "rtcp") ? DROP : KEEP;
}

static bool p_tunnel_open(const json_t *e, const void *arg)
{
	(void)arg;
	return kind_is(e, "mock-teamlink.tunnel.open") ||
	        (kind_is(e, "onsight-ref.tunnel") && sget(e, "state") &&
	         !strcmp(sget(e, "state"), "open"));
}

static int m_sip_syn_tunnelled(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	const json_t *open = first_where(tl, p_tunnel_open, NULL);

	if (!open)
		return ENOENT;
	return with_event(tl,
	                  made_packet(tl, env,
	                              json_number_value(json_object_get(open, "t")) + 0.001,
	                              "tcp.syn", "tcp", "sip.librestream.com", 5060, "sip"),
	                  out);
}

static int m_stun_before_register(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	const json_t *reg = first_where(tl, p_register, NULL);
	json_t *a = NULL, *ev;
	int e;

	if (!reg)
		return ENOENT;
	double t = json_number_value(json_object_get(reg, "t")) - 0.002;
	ev = made_packet(tl, env, t, "stun.request", "udp", "sip.librestream.com", 3478, "stun");
	if (ev) {
		json_object_set_new(ev, "method", json_string("binding"));
		json_object_set_new(ev, "type", json_integer(1));
	}
	if ((e = with_event(tl, ev, &a)))
		return e;
	/* The STUN server's own line for it. */
	char source[64];
	snprintf(source, sizeof(source), "%s:41000", endpoint_addr(tl, env));
	e = with_event(a,
	               json_pack("{s:f,s:s,s:s,s:s,s:s,s:s,s:i,s:{s:s}}", "t", t + 0.0005, "src",
	                         "journal:mock-sip", "kind", "mock-sip.stun", "service", "mock-sip",
	                         "event", "stun", "source", source, "port", 3478, "at", "host",
	                         "sip.librestream.com"),
	               out);
	json_decref(a);
	return e;
}

static bool p_options(const json_t *e, const void *arg)
{
	(void)arg;
	return is_sip_msg(e, "OPTIONS") || kind_is(e, "mock-sip.options");
}

static bool p_sip_register(const json_t *e, const void *arg)
{
	(void)arg;
	return kind_is(e, "sip.request") && is_sip_msg(e, "REGISTER");
}

static int m_options_when_disabled(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	const json_t *reg = first_where(tl, p_register, NULL),
	             *sreg = first_where(tl, p_sip_register, NULL);
	json_t *a = NULL, *probe;
	int e;

	(void)env;
	if (!reg || first_where(tl, p_options, NULL))
		return ENOENT;
	double t = json_number_value(json_object_get(reg, "t"));
	if (sreg) {
		probe = json_deep_copy(sreg);
		if (probe) {
			json_object_set_new(probe, "t", json_real(t + 0.0005));
			json_object_set_new(probe, "method", json_string("OPTIONS"));
			json_object_set_new(probe, "cseq_method", json_string("OPTIONS"));
			json_object_del(probe, "expires");
			json_object_del(probe, "contact");
		}
		if ((e = with_event(tl, probe, &a)))
			return e;
	} else {
		a = json_incref((json_t *)tl);
	}
	probe = json_pack("{s:f,s:s,s:s,s:s,s:s,s:s}", "t", t + 0.001, "src", "journal:mock-sip",
	                  "kind", "mock-sip.options", "service", "mock-sip", "event", "options",
	                  "transport", sget(reg, "transport") ? sget(reg, "transport") : "tcp");
	if (probe && sget(reg, "source"))
		json_object_set_new(probe, "source", json_string(sget(reg, "source")));
	if (probe && json_object_get(reg, "at"))
		json_object_set(probe, "at", json_object_get(reg, "at"));
	e = with_event(a, probe, out);
	json_decref(a);
	return e;
}

static int m_connect_not_allowed(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	const json_t *c = first_where(tl, p_kind, "http.connect");
	json_t *ev;

	(void)env;
	if (!c)
		return ENOENT;
	ev = json_deep_copy(c);
	if (ev) {
		json_object_set_new(ev, "t",
		                    json_real(json_number_value(json_object_get(c, "t")) + 0.0005));
		json_object_set_new(ev, "host", json_string("updates.example.net"));
		json_object_set_new(ev, "uri", json_string("updates.example.net:443"));
		json_object_set_new(ev, "port", json_integer(443));
	}
	return with_event(tl, ev, out);
}

/* When a made-up attempt happens: just after the registration was accepted (inside the
 * windows that start there, after the scenario's usual witness), else at the first event. */
static double attempt_time(const json_t *tl)
{
	const json_t *reg = first_where(tl, p_register_ok, NULL);
	const json_t *e = reg ? reg : json_array_get(tl, 0);

	return json_number_value(json_object_get(e, "t")) + 0.001;
}

/* SIP through the web proxy (note §2: direct SIP is never sent through a web proxy): the
 * endpoint's first CONNECT repeated towards the SIP server's TLS port, or, when it used no
 * proxy, a CONNECT to the lab's proxy for it. */
static int m_sip_via_proxy(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	const json_t *c = first_where(tl, p_kind, "http.connect");
	json_t *ev;

	if (!json_array_size(tl))
		return ENOENT;
	if (c) {
		ev = json_deep_copy(c);
		if (ev)
			json_object_set_new(
			        ev, "t",
			        json_real(json_number_value(json_object_get(c, "t")) + 0.0005));
	} else {
		ev = made_packet(tl, env, attempt_time(tl), "http.connect", "tcp",
		                 "proxy.corp.example", 3128, "http-proxy");
		if (ev)
			json_object_set_new(ev, "method", json_string("CONNECT"));
	}
	if (ev) {
		json_object_set_new(ev, "host", json_string("sip.librestream.com"));
		json_object_set_new(ev, "uri", json_string("sip.librestream.com:5061"));
		json_object_set_new(ev, "port", json_integer(5061));
	}
	return with_event(tl, ev, out);
}

/* The endpoint connected to a TeamLink server and opened TLS there (a tunnel attempt,
 * whether TeamLink is enabled or not): the SYN, then the ClientHello. */
static int m_teamlink_contact(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	json_t *syn, *hello, *mid = NULL;
	double t;
	int e;

	if (!json_array_size(tl))
		return ENOENT;
	t = attempt_time(tl);
	syn = made_packet(tl, env, t, "tcp.syn", "tcp", "teamlink1.librestream.com", 443, "https");
	hello = made_packet(tl, env, t + 0.001, "tls.client_hello", "tcp",
	                    "teamlink1.librestream.com", 443, "https");
	if (hello) {
		json_object_set_new(hello, "sni", json_string("teamlink1.librestream.com"));
		json_object_set_new(hello, "version", json_string("1.3"));
	}
	if ((e = with_event(tl, syn, &mid))) {
		json_decref(hello);
		return e;
	}
	e = with_event(mid, hello, out);
	json_decref(mid);
	return e;
}

static enum edit e_no_sni(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)env, (void)arg;
	if (!kind_is(e, "tls.client_hello") || !json_object_get(e, "sni"))
		return KEEP;
	json_object_del(e, "sni");
	return CHANGED;
}

static enum edit e_wrong_sni(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)env, (void)arg;
	if (!kind_is(e, "tls.client_hello") || !json_object_get(e, "sni"))
		return KEEP;
	json_object_set_new(e, "sni", json_string("www.example.com"));
	return CHANGED;
}

static enum edit e_no_tunnel(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)env, (void)arg;
	if (kind_pre(e, "mock-teamlink.tunnel.") || kind_pre(e, "mock-teamlink.channel.") ||
	    kind_is(e, "ws.upgrade") || p_tunnel_open(e, NULL))
		return DROP;
	return KEEP;
}

static int m_no_tunnel(const json_t *tl, const struct mutate_env *env, json_t **out)
{
	/* Only where a tunnel was opened: dropping channels alone models nothing. */
	if (!first_where(tl, p_tunnel_open, NULL))
		return ENOENT;
	return rewrite(tl, env, e_no_tunnel, NULL, out);
}

static enum edit e_no_private_probe(json_t *e, const struct mutate_env *env, const void *arg)
{
	const char *priv = "vcs-control.corp.example";
	const json_t *at = json_object_get(e, "at");

	(void)arg;
	if (!p_options(e, NULL))
		return KEEP;
	if (is_host(env, sget(e, "dst_ip"), priv) || is_host(env, sget(e, "src_ip"), priv) ||
	    is_host(env, sget(e, "local"), priv) ||
	    (sget(at, "host") && !strcmp(sget(at, "host"), priv)))
		return DROP;
	return KEEP;
}

static bool answered_state(const json_t *e)
{
	static const char *const st[] = {"answered", "established", "confirmed", "connected"};
	const char *s = sget(e, "state");
	const char *k = sget(e, "kind");
	size_t n = k ? strlen(k) : 0;

	if (!s || n < 5 || strcmp(k + n - 5, ".call"))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(st); i++)
		if (!strcmp(s, st[i]))
			return true;
	return false;
}

static enum edit e_no_answer(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)env, (void)arg;
	if ((is_sip_msg(e, "INVITE") && is_2xx(e)) || is_sip_msg(e, "ACK") || answered_state(e))
		return DROP;
	return KEEP;
}

static enum edit e_silent(json_t *e, const struct mutate_env *env, const void *arg)
{
	(void)arg;
	/* The proxy relays only for the endpoint: its traffic goes too. */
	if (from_ep(env, e) || to_ep(env, e) || is_ep(env, sget(e, "dst_ip")) ||
	    is_host(env, sget(e, "src_ip"), "proxy.corp.example") ||
	    is_host(env, sget(e, "dst_ip"), "proxy.corp.example"))
		return DROP;
	return KEEP;
}

#define EDIT(name, fn, arg) \
	static int name(const json_t *tl, const struct mutate_env *env, json_t **out) \
	{ \
		return rewrite(tl, env, fn, arg, out); \
	}
EDIT(m_no_register_ok, e_no_register_ok, NULL)
EDIT(m_login_http, e_login_http, NULL)
EDIT(m_sip_udp, e_sip_udp, NULL)
EDIT(m_port_low, e_port_low, NULL)
EDIT(m_port_range, e_port_range, NULL)
EDIT(m_no_rtp_back, e_no_rtp_back, NULL)
EDIT(m_no_rtp, e_no_rtp, NULL)
EDIT(m_no_sni, e_no_sni, NULL)
EDIT(m_wrong_sni, e_wrong_sni, NULL)
EDIT(m_no_private_probe, e_no_private_probe, NULL)
EDIT(m_no_answer, e_no_answer, NULL)
EDIT(m_silent, e_silent, NULL)

static const struct mutation catalogue[] = {
        {"no-register-ok", "the registrar never accepted the REGISTER (no 2xx, no ok)",
         m_no_register_ok},
        {"no-config", "the endpoint never fetched its configuration", m_no_config},
        {"config-after-register", "the endpoint registered before fetching its configuration",
         m_config_late},
        {"login-plain-http", "the endpoint logged in over plain HTTP (port 80, no TLS)",
         m_login_http},
        {"sip-udp", "the endpoint sent SIP over UDP instead of TCP", m_sip_udp},
        {"register-elsewhere", "the endpoint registered with another SIP server of the plan",
         m_register_elsewhere},
        {"invite-elsewhere", "the endpoint's call went through another SIP server of the plan",
         m_invite_elsewhere},
        {"media-port-low", "the endpoint used media ports below 1024", m_port_low},
        {"media-port-range", "the endpoint used media ports outside the configured range",
         m_port_range},
        {"no-rtp-back", "no RTP reached the endpoint (one-way audio)", m_no_rtp_back},
        {"no-rtp", "no RTP or RTCP at all during the call", m_no_rtp},
        {"sip-syn-tunnelled", "the endpoint tried direct SIP (TCP 5060) although it was tunnelled",
         m_sip_syn_tunnelled},
        {"stun-before-register", "the endpoint sent STUN before registering",
         m_stun_before_register},
        {"options-when-disabled", "the endpoint sent an OPTIONS probe although probing is off",
         m_options_when_disabled},
        {"connect-not-allowed", "the endpoint asked the proxy to CONNECT to a host not allowed",
         m_connect_not_allowed},
        {"sip-via-proxy", "the endpoint asked the web proxy to CONNECT to the SIP server",
         m_sip_via_proxy},
        {"teamlink-contact", "the endpoint opened TLS to a TeamLink server", m_teamlink_contact},
        {"no-sni", "the endpoint's TLS hello named no server (no SNI)", m_no_sni},
        {"wrong-sni", "the endpoint's TLS hello named the wrong server", m_wrong_sni},
        {"no-tunnel", "the TeamLink tunnel was never opened", m_no_tunnel},
        {"no-private-probe", "the endpoint skipped the OPTIONS probe to the private server",
         m_no_private_probe},
        {"no-answer", "the call was never answered", m_no_answer},
        {"endpoint-silent", "the endpoint sent nothing at all", m_silent},
};

size_t mutation_count(void)
{
	return ARRAY_LEN(catalogue);
}

const struct mutation *mutation_get(size_t i)
{
	return i < ARRAY_LEN(catalogue) ? &catalogue[i] : NULL;
}

const struct mutation *mutation_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(catalogue); i++)
		if (!strcmp(catalogue[i].name, name))
			return &catalogue[i];
	return NULL;
}

int mutation_apply(const struct mutation *m, const json_t *tl, const struct mutate_env *env,
                   json_t **out)
{
	json_t *r = NULL;
	int e;

	if (!m || !json_is_array(tl) || !out)
		return EINVAL;
	e = m->fn(tl, env, &r);
	if (e)
		return e;
	*out = r;
	return 0;
}
