/* proxy.c - request routing, calls, SDP through the relay. */
#define LOG_TAG "proxy"
#include "proxy.h"
#include "onsight/log.h"
#include "onsight/sdp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE, INFO"
#define CALL_LINGER_MS TXN_TIMEOUT_MS
#define CALL_TICK_MS 5000
#define SETUP_MAX_MS (3 * 60 * 1000)

enum call_state { CALL_FREE = 0, CALL_TRYING, CALL_ANSWERED, CALL_ENDED };

struct call {
	struct proxy *p;
	uint64_t id; /* generation << 32 | slot; cookies are id << 1 | destination side */
	enum call_state state;
	char call_id[SIPMSG_TOKEN];
	char tag[2][SIPMSG_TOKEN]; /* From tag of the caller, To tag of the callee */
	char from[SIPMSG_TOKEN], to[SIPMSG_TOKEN];
	char up_branch[SIPMSG_TOKEN]; /* the caller's INVITE branch (CANCEL matches it) */
	char down_branch[64]; /* our INVITE branch */
	struct tp_flow flow[2]; /* 0 caller, 1 callee */
	char *fwd_invite; /* the INVITE as we sent it (CANCEL and ACK are built from it) */
	size_t fwd_len;
	struct relay_sess *media;
	uint64_t started_ms, timer;
};

struct proxy {
	struct evloop *loop;
	struct journal *j;
	struct proxy_cfg cfg;
	struct tp *tp;
	struct txnl *txn;
	struct registrar *reg;
	struct relay *relay;
	struct call *calls;
	size_t ncalls;
	uint32_t gen, branch_seq;
	char peer_user[128], peer_contact[512];
	struct tp_flow peer_flow;
	int have_peer;
};

/* ---- calls ---- */

static struct call *call_by_cookie(struct proxy *p, uint64_t cookie)
{
	uint64_t id = cookie >> 1;
	size_t slot = (size_t)(id & 0xffffffffu);

	if (!id || slot >= p->cfg.max_calls || p->calls[slot].id != id)
		return NULL;
	return &p->calls[slot];
}

static struct call *call_by_id(struct proxy *p, const char *call_id)
{
	for (size_t i = 0; i < p->cfg.max_calls; i++)
		if (p->calls[i].state != CALL_FREE && strcmp(p->calls[i].call_id, call_id) == 0)
			return &p->calls[i];
	return NULL;
}

static void call_release(struct call *c)
{
	struct proxy *p = c->p;

	evloop_timer_cancel(p->loop, c->timer);
	txn_client_forget(p->txn, c->id << 1);
	txn_client_forget(p->txn, (c->id << 1) | 1);
	relay_sess_free(c->media);
	free(c->fwd_invite);
	memset(c, 0, sizeof(*c));
	p->ncalls--;
}

static void call_linger_done(void *arg)
{
	struct call *c = arg;

	c->timer = 0;
	call_release(c);
}

static void call_end(struct call *c, const char *reason)
{
	struct proxy *p = c->p;

	if (c->state == CALL_ENDED)
		return;
	c->state = CALL_ENDED;
	journal_emit_at(p->j, &c->flow[0].local, "call", "{s:s, s:s, s:s, s:s, s:s}", "state",
	                "end", "call_id", c->call_id, "from", c->from, "to", c->to, "reason",
	                reason);
	relay_sess_free(c->media); /* journals media.stream, frees the ports */
	c->media = NULL;
	/* Kept a while so retransmissions and the ACK of a failure find it. */
	evloop_timer_cancel(p->loop, c->timer);
	c->timer = evloop_timer_add(p->loop, CALL_LINGER_MS, call_linger_done, c);
}

static void call_tick(void *arg)
{
	struct call *c = arg;
	struct proxy *p = c->p;
	uint64_t now = evloop_now_ms();

	c->timer = 0;
	if (c->state == CALL_TRYING && now - c->started_ms > SETUP_MAX_MS)
		return call_end(c, "setup timeout");
	if (c->state == CALL_ANSWERED && c->media &&
	    now - relay_sess_last_ms(c->media) > p->cfg.media_timeout_ms)
		return call_end(c, "media timeout");
	if (now - c->started_ms > p->cfg.call_max_ms)
		return call_end(c, "call too long");
	c->timer = evloop_timer_add(p->loop, CALL_TICK_MS, call_tick, c);
}

static struct call *call_new(struct proxy *p, const struct sipmsg *req)
{
	struct call *c = NULL;

	for (size_t i = 0; i < p->cfg.max_calls && !c; i++) {
		if (p->calls[i].state == CALL_FREE) {
			c = &p->calls[i];
			if (++p->gen == 0)
				p->gen = 1;
			c->id = ((uint64_t)p->gen << 32) | i;
		}
	}
	if (!c)
		return NULL;
	if (relay_sess_alloc(&c->media, p->relay, req->call_id)) {
		memset(c, 0, sizeof(*c));
		return NULL;
	}
	c->p = p;
	c->state = CALL_TRYING;
	snprintf(c->call_id, sizeof(c->call_id), "%s", req->call_id);
	snprintf(c->tag[0], sizeof(c->tag[0]), "%s", req->from_tag);
	snprintf(c->from, sizeof(c->from), "%s", req->from_uri);
	snprintf(c->to, sizeof(c->to), "%s", req->to_uri);
	snprintf(c->up_branch, sizeof(c->up_branch), "%s", req->branch);
	c->started_ms = evloop_now_ms();
	c->timer = evloop_timer_add(p->loop, CALL_TICK_MS, call_tick, c);
	p->ncalls++;
	return c;
}

/* ---- message surgery ---- */

static void pop_via(osip_message_t *m)
{
	osip_via_t *v = osip_list_get(&m->vias, 0);

	if (v) {
		osip_list_remove(&m->vias, 0);
		osip_via_free(v);
	}
}

static void remove_routes(osip_message_t *m)
{
	osip_list_special_free(&m->routes, (void (*)(void *))osip_route_free);
}

static void remove_record_routes(osip_message_t *m)
{
	osip_list_special_free(&m->record_routes, (void (*)(void *))osip_record_route_free);
}

static void set_max_forwards(osip_message_t *m, int mf)
{
	osip_header_t *h = NULL;
	char v[16];

	snprintf(v, sizeof(v), "%d", mf < 0 ? 70 : mf);
	if (osip_message_header_get_byname(m, "max-forwards", 0, &h) >= 0 && h) {
		osip_free(h->hvalue);
		h->hvalue = osip_strdup(v);
	} else {
		osip_message_set_header(m, "Max-Forwards", v);
	}
}

static const char *via_proto(enum tp_kind k)
{
	return k == TP_UDP ? "UDP" : k == TP_TCP ? "TCP" : "TLS";
}

/* Our address as "host:port" ([v6]:port) for flow f. */
static void our_hostport(struct proxy *p, const struct tp_flow *f, char *out, size_t cap)
{
	struct sock_addr a;

	if (tp_local(p->tp, f->kind, f->peer.ss.ss_family, &a) != 0)
		a = f->local;
	sock_addr_str(&a, out, cap);
}

static void add_via(struct proxy *p, osip_message_t *m, const struct tp_flow *to, char *branch,
                    size_t cap, uint64_t cookie)
{
	char hp[SOCK_ADDR_STRLEN], v[SOCK_ADDR_STRLEN + 128];
	osip_via_t *via = NULL;

	snprintf(branch, cap, "z9hG4bK-ms%" PRIx64 "x%x", cookie, ++p->branch_seq);
	our_hostport(p, to, hp, sizeof(hp));
	snprintf(v, sizeof(v), "SIP/2.0/%s %s;branch=%s;rport", via_proto(to->kind), hp, branch);
	if (osip_via_init(&via) == 0 && osip_via_parse(via, v) == 0)
		osip_list_add(&m->vias, via, 0);
	else
		osip_via_free(via);
}

/* RFC 5658 double Record-Route: one entry per side, each in that side's transport (one
 * entry when both sides would get the same). */
static void add_record_routes(struct proxy *p, osip_message_t *m, const struct tp_flow *in,
                              const struct tp_flow *out)
{
	const struct tp_flow *f[2] = {in, out};
	char prev[SOCK_ADDR_STRLEN + 64] = "";

	for (int i = 0; i < 2; i++) {
		char hp[SOCK_ADDR_STRLEN], rr[SOCK_ADDR_STRLEN + 64];
		osip_record_route_t *r = NULL;
		our_hostport(p, f[i], hp, sizeof(hp));
		snprintf(rr, sizeof(rr), "<sip:%s;transport=%s;lr>", hp, tp_kind_name(f[i]->kind));
		if (strcmp(rr, prev) == 0)
			break;
		snprintf(prev, sizeof(prev), "%s", rr);
		if (osip_record_route_init(&r) == 0 && osip_record_route_parse(r, rr) == 0)
			osip_list_add(&m->record_routes, r, 0);
		else
			osip_record_route_free(r);
	}
}

/* received/rport on the top Via (RFC 3261 §18.2.1, RFC 3581 §4). */
static void stamp_via(osip_message_t *m, const struct tp_flow *from)
{
	osip_via_t *v = osip_list_get(&m->vias, 0);
	osip_generic_param_t *rp = NULL;
	char host[64], port[8];

	if (!v)
		return;
	sock_addr_host(&from->peer, host, sizeof(host));
	if (!v->host || strcmp(v->host, host) != 0)
		osip_via_set_received(v, osip_strdup(host));
	if (osip_via_param_get_byname(v, "rport", &rp) >= 0 && rp && !rp->gvalue) {
		snprintf(port, sizeof(port), "%u", sock_addr_port(&from->peer));
		rp->gvalue = osip_strdup(port);
	}
}

/* Rewrites the SDP body of m that side sent, so the other side sends to the relay. */
static int rewrite_sdp(struct call *c, osip_message_t *m, int side)
{
	struct sdp_info info;
	uint16_t ports[SDP_MAX_STREAMS];
	char out[SDP_MAX_LEN + 1024];
	size_t blen = 0, olen = 0;
	const char *body = sipmsg_body(m, &blen);
	int err;

	if (!body || !blen || !c->media)
		return 0;
	err = sdp_parse(body, blen, &info);
	if (!err)
		err = relay_sess_offer(c->media, side, &info, ports);
	if (!err)
		err = sdp_rewrite(body, blen, relay_addr(c->p->relay), ports, info.n, out,
		                  sizeof(out), &olen);
	if (!err)
		err = sipmsg_set_body(m, out, olen, NULL);
	if (err)
		log_warnx("call %s: SDP not relayed: %s", c->call_id, strerror(err));
	return err;
}

static int send_msg(struct proxy *p, osip_message_t *m, const struct tp_flow *to)
{
	char *buf = NULL;
	size_t len = 0;
	int err = sipmsg_print(m, &buf, &len);

	if (!err)
		err = tp_send(p->tp, to, buf, len);
	osip_free(buf);
	return err;
}

static int forward(struct proxy *p, osip_message_t *m, const struct tp_flow *to, uint64_t cookie,
                   const char *branch, const char *method, const struct tp_flow *up,
                   const char *raw, size_t rawlen, char **copy, size_t *copylen)
{
	char *buf = NULL;
	size_t len = 0;
	int err = sipmsg_print(m, &buf, &len);

	if (err)
		return err;
	err = txn_client_send(p->txn, to, branch, method, buf, len, cookie, up, raw, rawlen);
	if (copy && (*copy = malloc(len + 1)) != NULL) {
		memcpy(*copy, buf, len);
		(*copy)[len] = '\0';
		*copylen = len;
	}
	osip_free(buf);
	return err;
}

/* ---- replies ---- */

static void add_allow(osip_message_t *r, void *arg)
{
	(void)arg;
	osip_message_set_header(r, "Allow", SIP_ALLOW);
	osip_message_set_header(r, "Accept", "application/sdp");
	osip_message_set_header(r, "Supported", "path, outbound");
	osip_message_set_header(r, "Accept-Language", "en");
}

static void add_unsupported(osip_message_t *r, void *arg)
{
	osip_message_set_header(r, "Unsupported", (const char *)arg);
}

static void reply(struct proxy *p, const struct sipmsg *req, const struct tp_flow *from, int status,
                  const char *reason)
{
	(void)txn_reply(p->txn, req, from, status, reason, "ms",
	                status == 405 || status == 200 ? add_allow : NULL, NULL);
}

/* ---- INVITE (dialog creating) ---- */

static int find_target(struct proxy *p, const struct sipmsg *req, struct tp_flow *flow,
                       char *contact, size_t cap, int *st, const char **reason)
{
	const char *user = req->m->req_uri->username;
	struct binding_view b;

	*st = 404;
	*reason = "Not Found";
	if (!user)
		return -1;
	if (p->have_peer && strcmp(user, p->peer_user) == 0) {
		*flow = p->peer_flow;
		snprintf(contact, cap, "%s", p->peer_contact);
		return 0;
	}
	if (!registrar_user_known(p->reg, user))
		return -1;
	if (registrar_lookup(p->reg, user, &b) != 0) {
		*st = 480;
		*reason = "Temporarily Unavailable";
		return -1;
	}
	*flow = b.flow;
	snprintf(contact, cap, "%s", b.contact);
	return 0;
}

static int set_request_uri(osip_message_t *m, const char *uri)
{
	osip_uri_t *u = NULL;

	if (osip_uri_init(&u) != 0 || osip_uri_parse(u, uri) != 0) {
		osip_uri_free(u);
		return EINVAL;
	}
	osip_uri_free(m->req_uri);
	m->req_uri = u;
	return 0;
}

static int body_is_sdp(const osip_message_t *m)
{
	size_t n = 0;
	const osip_content_type_t *ct = m->content_type;

	if (!sipmsg_body(m, &n) || n == 0)
		return 1;
	return ct && ct->type && ct->subtype && strcasecmp(ct->type, "application") == 0 &&
	        strcasecmp(ct->subtype, "sdp") == 0;
}

static void invite_start(struct proxy *p, struct sipmsg *req, const struct tp_flow *from,
                         const char *raw, size_t rawlen)
{
	char contact[512];
	struct tp_flow to;
	const char *reason;
	struct call *c;
	int st;

	if (find_target(p, req, &to, contact, sizeof(contact), &st, &reason))
		return reply(p, req, from, st, reason);
	if (req->max_forwards == 0)
		return reply(p, req, from, 483, "Too Many Hops");
	if (!body_is_sdp(req->m))
		return reply(p, req, from, 415, "Unsupported Media Type");
	c = call_by_id(p, req->call_id);
	if (c && c->state != CALL_ENDED)
		return reply(p, req, from, 482, "Loop Detected");
	if (c)
		call_release(c); /* a new attempt after a failure, with the same Call-ID */
	c = call_new(p, req);
	if (!c)
		return reply(p, req, from, 503, "Service Unavailable");
	reply(p, req, from, 100, "Trying");
	c->flow[0] = *from;
	c->flow[1] = to;
	journal_emit_at(p->j, &from->local, "call", "{s:s, s:s, s:s, s:s}", "state", "start",
	                "call_id", c->call_id, "from", c->from, "to", c->to);
	if (set_request_uri(req->m, contact) || rewrite_sdp(c, req->m, 0)) {
		reply(p, req, from, 488, "Not Acceptable Here");
		return call_end(c, "bad offer");
	}
	set_max_forwards(req->m, req->max_forwards - 1);
	add_record_routes(p, req->m, from, &to);
	add_via(p, req->m, &to, c->down_branch, sizeof(c->down_branch), c->id << 1 | 1);
	if (forward(p, req->m, &to, c->id << 1 | 1, c->down_branch, "INVITE", from, raw, rawlen,
	            &c->fwd_invite, &c->fwd_len)) {
		reply(p, req, from, 503, "Service Unavailable");
		call_end(c, "callee unreachable");
	}
}

/* Builds ACK or CANCEL for our INVITE (RFC 3261 §9.1, §17.1.1.3). */
static void send_from_invite(struct call *c, const char *method, const osip_message_t *resp)
{
	struct sipmsg m;
	const char *reason;

	if (!c->fwd_invite || sipmsg_parse(&m, c->fwd_invite, c->fwd_len, &reason) != SIPMSG_OK) {
		sipmsg_clear(&m);
		return;
	}
	osip_free(m.m->sip_method);
	m.m->sip_method = osip_strdup(method);
	osip_free(m.m->cseq->method);
	m.m->cseq->method = osip_strdup(method);
	while (osip_list_size(&m.m->vias) > 1) {
		osip_via_t *v = osip_list_get(&m.m->vias, 1);
		osip_list_remove(&m.m->vias, 1);
		osip_via_free(v);
	}
	remove_record_routes(m.m);
	if (resp && resp->to) {
		osip_to_free(m.m->to);
		osip_to_clone(resp->to, &m.m->to);
	}
	sipmsg_set_body(m.m, NULL, 0, NULL);
	if (strcmp(method, "CANCEL") == 0) {
		char *buf = NULL;
		size_t len = 0;
		if (sipmsg_print(m.m, &buf, &len) == 0)
			(void)txn_client_send(c->p->txn, &c->flow[1], c->down_branch, "CANCEL", buf,
			                      len, c->id << 1 | 1, NULL, NULL, 0);
		osip_free(buf);
	} else {
		(void)send_msg(c->p, m.m, &c->flow[1]);
	}
	sipmsg_clear(&m);
}

/* ---- in dialog ---- */

/* Which side sent req: 0 caller, 1 callee, -1 neither. */
static int dialog_side(const struct call *c, const struct sipmsg *req)
{
	if (strcmp(req->from_tag, c->tag[0]) == 0)
		return 0;
	if (c->tag[1][0] && strcmp(req->from_tag, c->tag[1]) == 0)
		return 1;
	return -1;
}

static void ack_forward(struct proxy *p, struct sipmsg *req)
{
	struct call *c = call_by_id(p, req->call_id);
	char branch[64];
	int side;

	if (!c || c->state != CALL_ANSWERED || (side = dialog_side(c, req)) < 0)
		return; /* ACK of a failure, or stray: absorbed here (RFC 3261 §16.7 step 4) */
	remove_routes(req->m);
	set_max_forwards(req->m, req->max_forwards - 1);
	rewrite_sdp(c, req->m, side); /* late offer: the answer rides in the ACK */
	add_via(p, req->m, &c->flow[!side], branch, sizeof(branch), 0);
	(void)send_msg(p, req->m, &c->flow[!side]);
}

static void in_dialog(struct proxy *p, struct sipmsg *req, const struct tp_flow *from,
                      const char *raw, size_t rawlen)
{
	struct call *c = call_by_id(p, req->call_id);
	char branch[64];
	int side;

	if (!c || c->state == CALL_ENDED || (side = dialog_side(c, req)) < 0)
		return reply(p, req, from, 481, "Call/Transaction Does Not Exist");
	if (req->max_forwards == 0)
		return reply(p, req, from, 483, "Too Many Hops");
	c->flow[side] = *from; /* the party may have a new connection */
	remove_routes(req->m);
	set_max_forwards(req->m, req->max_forwards - 1);
	if (body_is_sdp(req->m))
		rewrite_sdp(c, req->m, side);
	add_via(p, req->m, &c->flow[!side], branch, sizeof(branch), c->id << 1 | (uint64_t)!side);
	if (forward(p, req->m, &c->flow[!side], c->id << 1 | (uint64_t)!side, branch, req->method,
	            from, raw, rawlen, NULL, NULL)) {
		reply(p, req, from, 503, "Service Unavailable");
		if (strcmp(req->method, "BYE") == 0)
			call_end(c, "bye undeliverable");
	}
}

static void cancel(struct proxy *p, struct sipmsg *req, const struct tp_flow *from)
{
	struct call *c = call_by_id(p, req->call_id);

	if (!c || strcmp(c->up_branch, req->branch) != 0)
		return reply(p, req, from, 481, "Call/Transaction Does Not Exist");
	reply(p, req, from, 200, "OK");
	if (c->state == CALL_TRYING)
		send_from_invite(c, "CANCEL", NULL);
}

/* ---- responses ---- */

static void invite_response(struct call *c, int side_to, struct sipmsg *resp)
{
	int initial = side_to == 1 && strcmp(resp->branch, c->down_branch) == 0;

	if (resp->status >= 101 && resp->status < 300)
		rewrite_sdp(c, resp->m, side_to);
	if (!initial || c->state == CALL_ENDED)
		return;
	if (resp->status >= 200 && resp->status < 300 && c->state == CALL_TRYING) {
		c->state = CALL_ANSWERED;
		snprintf(c->tag[1], sizeof(c->tag[1]), "%s", resp->to_tag);
		journal_emit_at(c->p->j, &c->flow[0].local, "call", "{s:s, s:s, s:s, s:s}", "state",
		                "answered", "call_id", c->call_id, "from", c->from, "to", c->to);
	}
}

static void forward_response(struct proxy *p, struct sipmsg *resp, const struct tp_flow *up)
{
	struct sipmsg key = {.method = resp->method};
	osip_via_t *v = osip_list_get(&resp->m->vias, 0);
	osip_generic_param_t *b = NULL;
	char *buf = NULL;
	size_t len = 0;

	if (!v || osip_via_param_get_byname(v, "branch", &b) < 0 || !b || !b->gvalue)
		return;
	snprintf(key.branch, sizeof(key.branch), "%s", b->gvalue);
	snprintf(key.call_id, sizeof(key.call_id), "%s", resp->call_id);
	if (sipmsg_print(resp->m, &buf, &len) == 0)
		(void)txn_server_send(p->txn, &key, up, resp->status, buf, len);
	osip_free(buf);
}

static void client_timeout(struct proxy *p, struct call *c, const struct tp_flow *up,
                           const char *up_req, size_t up_len)
{
	struct sipmsg req;
	const char *reason;

	if (up_req && sipmsg_parse(&req, up_req, up_len, &reason) == SIPMSG_OK) {
		(void)txn_reply(p->txn, &req, up, 408, "Request Timeout", "ms", NULL, NULL);
		if (c &&
		    (strcmp(req.method, "BYE") == 0 ||
		     (strcmp(req.method, "INVITE") == 0 && c->state == CALL_TRYING)))
			call_end(c, "timeout");
	}
	sipmsg_clear(&req);
}

/* A downstream element that copied the Vias of our CANCEL into its 487 (seen in the wild)
 * leaves none after ours: the upstream request still has them. */
static int restore_vias(osip_message_t *m, const char *up_req, size_t up_len)
{
	struct sipmsg req;
	const char *reason;
	int err = -1;

	if (sipmsg_parse(&req, up_req, up_len, &reason) == SIPMSG_OK)
		err = osip_list_clone(&req.m->vias, &m->vias,
		                      (int (*)(void *, void **))osip_via_clone);
	sipmsg_clear(&req);
	return err;
}

void proxy_client_response(void *ctx, uint64_t cookie, const struct tp_flow *up_in,
                           const char *up_req, size_t up_len, struct sipmsg *resp)
{
	struct proxy *p = ctx;
	struct call *c = call_by_cookie(p, cookie);
	struct tp_flow up = *up_in;
	int side_to = (int)(cookie & 1);

	if (!resp)
		return client_timeout(p, c, &up, up_req, up_len);
	if (!up_req || resp->status == 100)
		return; /* a request of our own (CANCEL), or the hop-by-hop 100 */
	pop_via(resp->m);
	if (osip_list_size(&resp->m->vias) == 0 && restore_vias(resp->m, up_req, up_len))
		return;
	if (c && strcmp(resp->method, "INVITE") == 0) {
		invite_response(c, side_to, resp);
		if (resp->status >= 300 && strcmp(resp->branch, c->down_branch) == 0) {
			send_from_invite(c, "ACK", resp->m);
			call_end(c, resp->status == 487 ? "cancelled" : "rejected");
		}
	}
	forward_response(p, resp, &up);
	if (c && strcmp(resp->method, "BYE") == 0 && resp->status >= 200)
		call_end(c, "bye");
}

/* ---- dispatch ---- */

static void journal_request(struct proxy *p, const struct sipmsg *m, const struct tp_flow *from)
{
	char src[SOCK_ADDR_STRLEN];

	journal_emit_at(p->j, &from->local, "sip.request", "{s:s, s:s, s:I, s:s, s:s, s:s, s:s}",
	                "method", m->method, "call_id", m->call_id, "cseq", (json_int_t)m->cseq,
	                "from", m->from_uri, "to", m->to_uri, "source",
	                sock_addr_str(&from->peer, src, sizeof(src)), "transport",
	                tp_kind_name(from->kind));
}

static void raw_reply(struct proxy *p, const struct tp_flow *from, const char *msg, size_t len,
                      int status, const char *reason)
{
	char out[8192];
	int n = sipmsg_raw_response(msg, len, status, reason, out, sizeof(out));

	if (n > 0)
		(void)tp_send(p->tp, from, out, (size_t)n);
}

static int require_ok(struct proxy *p, const struct sipmsg *req, const struct tp_flow *from)
{
	const char *r = sipmsg_header(req->m, "require");

	if (!r)
		r = sipmsg_header(req->m, "proxy-require");
	if (!r || strcmp(req->method, "ACK") == 0 || strcmp(req->method, "CANCEL") == 0)
		return 1;
	(void)txn_reply(p->txn, req, from, 420, "Bad Extension", "ms", add_unsupported, (void *)r);
	return 0;
}

static void options(struct proxy *p, const struct sipmsg *req, const struct tp_flow *from)
{
	char src[SOCK_ADDR_STRLEN];

	journal_emit_at(p->j, &from->local, "options", "{s:s, s:s}", "source",
	                sock_addr_str(&from->peer, src, sizeof(src)), "transport",
	                tp_kind_name(from->kind));
	reply(p, req, from, 200, "OK");
}

static int known_method(const char *m)
{
	static const char *const known[] = {"SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO", "UPDATE",
	                                    "PRACK",     "REFER",  "PUBLISH", NULL};

	for (size_t i = 0; known[i]; i++)
		if (strcmp(m, known[i]) == 0)
			return 1;
	return 0;
}

static void route_request(struct proxy *p, struct sipmsg *req, const struct tp_flow *from,
                          const char *raw, size_t len)
{
	const char *m = req->method;

	if (strcmp(m, "REGISTER") == 0)
		return registrar_handle(p->reg, req, from);
	if (strcmp(m, "ACK") == 0)
		return ack_forward(p, req);
	if (!require_ok(p, req, from))
		return;
	if (strcmp(m, "OPTIONS") == 0 && !req->to_tag[0])
		return options(p, req, from);
	if (strcmp(m, "CANCEL") == 0)
		return cancel(p, req, from);
	if (req->to_tag[0])
		return in_dialog(p, req, from, raw, len);
	if (strcmp(m, "INVITE") == 0)
		return invite_start(p, req, from, raw, len);
	if (strcmp(m, "BYE") == 0)
		return reply(p, req, from, 481, "Call/Transaction Does Not Exist");
	if (known_method(m))
		return reply(p, req, from, 405, "Method Not Allowed");
	reply(p, req, from, 501, "Not Implemented");
}

void proxy_receive(void *arg, const struct tp_flow *from, const char *msg, size_t len,
                   int framing_err)
{
	struct proxy *p = arg;
	struct sipmsg m;
	const char *reason = "Bad Request";
	int st;

	if (framing_err)
		return raw_reply(p, from, msg, len, 400, "Bad Content-Length");
	st = sipmsg_parse(&m, msg, len, &reason);
	if (st == SIPMSG_DROP)
		goto out;
	if (m.is_request && m.m && m.method)
		journal_request(p, &m, from);
	if (st > 0) {
		if (m.m && m.m->vias.nb_elt && m.m->cseq && m.m->call_id && m.m->from && m.m->to)
			(void)txn_reply(p->txn, &m, from, st, reason, "bad", NULL, NULL);
		else
			raw_reply(p, from, msg, len, st, reason);
		goto out;
	}
	if (!m.is_request) {
		(void)txn_client_match(p->txn, &m);
		goto out;
	}
	stamp_via(m.m, from);
	if (!txn_server_absorb(p->txn, &m, from))
		route_request(p, &m, from, msg, len);
out:
	sipmsg_clear(&m);
}

/* ---- setup ---- */

int proxy_alloc(struct proxy **pp, struct evloop *loop, struct journal *j,
                const struct proxy_cfg *cfg)
{
	struct proxy *p;

	if (!pp || !cfg || cfg->max_calls == 0)
		return EINVAL;
	sipmsg_global_init();
	p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->calls = calloc(cfg->max_calls, sizeof(*p->calls));
	if (!p->calls) {
		free(p);
		return ENOMEM;
	}
	p->loop = loop;
	p->j = j;
	p->cfg = *cfg;
	*pp = p;
	return 0;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cfg.max_calls; i++) {
		if (p->calls[i].state == CALL_FREE)
			continue;
		call_end(&p->calls[i], "shutdown");
		call_release(&p->calls[i]);
	}
	free(p->calls);
	free(p);
}

void proxy_attach(struct proxy *p, struct tp *tp, struct txnl *txn, struct registrar *reg,
                  struct relay *relay)
{
	p->tp = tp;
	p->txn = txn;
	p->reg = reg;
	p->relay = relay;
}

int proxy_set_peer(struct proxy *p, const char *user, const char *contact,
                   const struct tp_flow *flow)
{
	if (strlen(user) >= sizeof(p->peer_user) || strlen(contact) >= sizeof(p->peer_contact))
		return EINVAL;
	snprintf(p->peer_user, sizeof(p->peer_user), "%s", user);
	snprintf(p->peer_contact, sizeof(p->peer_contact), "%s", contact);
	p->peer_flow = *flow;
	p->have_peer = 1;
	return 0;
}

size_t proxy_call_count(const struct proxy *p)
{
	return p->ncalls;
}

void proxy_status(const struct proxy *p, void *json_obj)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < p->cfg.max_calls; i++) {
		const struct call *c = &p->calls[i];
		static const char *const names[] = {"free", "trying", "answered", "ended"};
		if (c->state == CALL_FREE)
			continue;
		json_array_append_new(arr,
		                      json_pack("{s:s, s:s, s:s, s:s}", "call_id", c->call_id,
		                                "from", c->from, "to", c->to, "state",
		                                names[c->state]));
	}
	json_object_set_new((json_t *)json_obj, "calls", arr);
	json_object_set_new((json_t *)json_obj, "relay_ports",
	                    json_integer((json_int_t)relay_ports_in_use(p->relay)));
	json_object_set_new((json_t *)json_obj, "bindings",
	                    json_integer((json_int_t)registrar_binding_count(p->reg)));
}
