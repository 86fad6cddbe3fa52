/* sipua.c - SIP user agent: registration and one call, on the event loop. */
#define LOG_TAG "sipua"
#include "sipua.h"

#include "rtp.h"
#include "sipauth.h"
#include "sipmsg.h"
#include "status.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UA_MAX_AUTH_TRIES 2 /* answers to challenges per request before giving up */
#define UA_OUT_MAX 12288 /* largest message we build */
#define UA_MEDIA_REPORT_MS 2000

enum reg_state { REG_IDLE, REG_SENT, REG_OK, REG_FAILED };
enum call_state { CALL_NONE, CALL_OUT_TRYING, CALL_IN_RINGING, CALL_ANSWERED, CALL_UP, CALL_BYE };

struct call {
	enum call_state state;
	int outgoing;
	char call_id[128];
	char local_hdr[640]; /* our From/To value, with our tag */
	char remote_hdr[640]; /* theirs, with their tag once known */
	char remote_uri[256]; /* for status lines */
	char target[256]; /* remote target: Contact, or the request URI before we know it */
	unsigned long cseq; /* our CSeq in this dialog */
	char branch[48]; /* of our INVITE (CANCEL reuses it) */
	int auth_tries;
	struct sipmsg *invite; /* the INVITE we are answering (UAS) */
	struct rtp *rtp;
	int media_on;
	uint64_t media_timer;
	uint64_t timeout_timer;
};

struct sipua {
	struct evloop *loop;
	struct status *st;
	struct sipua_conf conf;
	struct sipua_hooks hooks;
	char user[128], domain[256];
	/* registration */
	enum reg_state reg;
	char reg_call_id[64], reg_tag[24];
	unsigned long reg_cseq;
	int reg_auth_tries;
	unsigned reg_expires_req; /* what the pending REGISTER asks for (0: unregister) */
	uint64_t reg_timer; /* refresh or timeout */
	char challenge[1024];
	int challenge_proxy;
	unsigned nc;
	struct call call;
	unsigned long bad;
	struct sipmsg scratch; /* parse target: large, kept off the stack */
};

static void call_end(struct sipua *ua, const char *reason);

/* Copies conf strings we keep beyond the call (the caller's may be on its stack). */
static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static void conf_free(struct sipua_conf *c)
{
	free((char *)c->aor);
	free((char *)c->display);
	free((char *)c->auth_user);
	free((char *)c->auth_password);
	free((char *)c->transport);
	free((char *)c->server_host);
	free((char *)c->path);
	free((char *)c->local_host);
}

static int conf_copy(struct sipua_conf *d, const struct sipua_conf *s)
{
	*d = *s;
	d->aor = dup_or_empty(s->aor);
	d->display = dup_or_empty(s->display);
	d->auth_user = dup_or_empty(s->auth_user);
	d->auth_password = dup_or_empty(s->auth_password);
	d->transport = dup_or_empty(s->transport);
	d->server_host = dup_or_empty(s->server_host);
	d->path = dup_or_empty(s->path);
	d->local_host = dup_or_empty(s->local_host);
	if (!d->aor || !d->display || !d->auth_user || !d->auth_password || !d->transport ||
	    !d->server_host || !d->path || !d->local_host)
		return ENOMEM;
	return 0;
}

/* "sip:alice@librestream.com" -> user "alice", domain "librestream.com". */
static int split_aor(const char *aor, char *user, size_t ulen, char *dom, size_t dlen)
{
	const char *p = strncmp(aor, "sips:", 5) == 0 ? aor + 5 : aor + 4;
	const char *at = strchr(p, '@');
	size_t n;

	if (strncmp(aor, "sip", 3) != 0 || !at || at == p)
		return EINVAL;
	n = (size_t)(at - p);
	if (n >= ulen || strlen(at + 1) >= dlen || !at[1])
		return EINVAL;
	memcpy(user, p, n);
	user[n] = '\0';
	strcpy(dom, at + 1);
	/* Strip URI parameters from the domain. */
	dom[strcspn(dom, ";?>")] = '\0';
	return 0;
}

static const char *tp_upper(const struct sipua *ua)
{
	return strcmp(ua->conf.transport, "tls") == 0    ? "TLS"
	        : strcmp(ua->conf.transport, "udp") == 0 ? "UDP"
	                                                 : "TCP";
}

static int host_is_v6(const char *h)
{
	return strchr(h, ':') != NULL;
}

static void contact_value(const struct sipua *ua, char *out, size_t len)
{
	const char *h = ua->conf.local_host;
	int v6 = host_is_v6(h);

	snprintf(out, len, "<sip:%s@%s%s%s:%u;transport=%s>", ua->user, v6 ? "[" : "", h,
	         v6 ? "]" : "", ua->conf.local_port, ua->conf.transport);
}

/* Is call_id the outgoing call's (whose messages may take their own flow)? */
static int on_call_out(const struct sipua *ua, const char *call_id)
{
	const struct call *c = &ua->call;

	return c->state != CALL_NONE && c->outgoing && strcmp(c->call_id, call_id) == 0;
}

static int ua_send(struct sipua *ua, const char *call_id, const char *buf, size_t len)
{
	int (*h)(void *, const char *, size_t) = ua->hooks.send;
	int err;

	if (ua->hooks.call_send && on_call_out(ua, call_id))
		h = ua->hooks.call_send;
	err = h ? h(ua->hooks.arg, buf, len) : ENOTCONN;

	if (err)
		log_warnx("send failed: %s", strerror(err));
	return err;
}

/* Builds and sends a request. hdrs: extra header lines, each ending in CRLF. */
static int send_request(struct sipua *ua, const char *method, const char *ruri, const char *from,
                        const char *to, const char *call_id, unsigned long cseq, const char *branch,
                        const char *hdrs, const char *ctype, const char *body)
{
	char *buf = malloc(UA_OUT_MAX);
	const char *h = ua->conf.local_host;
	int v6 = host_is_v6(h), n, err;
	size_t blen = body ? strlen(body) : 0;

	if (!buf)
		return ENOMEM;
	n = snprintf(buf, UA_OUT_MAX,
	             "%s %s SIP/2.0\r\n"
	             "Via: SIP/2.0/%s %s%s%s:%u;branch=%s;rport\r\n"
	             "Max-Forwards: 70\r\n"
	             "From: %s\r\n"
	             "To: %s\r\n"
	             "Call-ID: %s\r\n"
	             "CSeq: %lu %s\r\n"
	             "User-Agent: onsight-ref/" ONSIGHT_VERSION "\r\n"
	             "%s"
	             "%s%s%s"
	             "Content-Length: %zu\r\n\r\n%s",
	             method, ruri, tp_upper(ua), v6 ? "[" : "", h, v6 ? "]" : "",
	             ua->conf.local_port, branch, from, to, call_id, cseq, method, hdrs ? hdrs : "",
	             ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", blen,
	             body ? body : "");
	if (n < 0 || n >= UA_OUT_MAX) {
		free(buf);
		return E2BIG;
	}
	err = ua_send(ua, call_id, buf, (size_t)n);
	free(buf);
	return err;
}

/* Builds a response to req; to_tag is added to To when the request had none. */
static int send_response(struct sipua *ua, const struct sipmsg *req, int status, const char *reason,
                         const char *to_tag, const char *hdrs, const char *ctype, const char *body)
{
	char *buf = malloc(UA_OUT_MAX);
	size_t off = 0, blen = body ? strlen(body) : 0;
	int n, i, err;

	if (!buf)
		return ENOMEM;
#define APPEND(...) \
	do { \
		n = snprintf(buf + off, UA_OUT_MAX - off, __VA_ARGS__); \
		if (n < 0 || (size_t)n >= UA_OUT_MAX - off) { \
			err = E2BIG; \
			goto out; \
		} \
		off += (size_t)n; \
	} while (0)
	APPEND("SIP/2.0 %d %s\r\n", status, reason);
	for (i = 0; i < req->nvia; i++)
		APPEND("Via: %s\r\n", req->via[i]);
	APPEND("From: %s\r\n", req->from);
	if (!req->to_tag[0] && to_tag && to_tag[0])
		APPEND("To: %s;tag=%s\r\n", req->to, to_tag);
	else
		APPEND("To: %s\r\n", req->to);
	APPEND("Call-ID: %s\r\nCSeq: %lu %s\r\n", req->call_id, req->cseq, req->cseq_method);
	APPEND("%s", hdrs ? hdrs : "");
	if (ctype)
		APPEND("Content-Type: %s\r\n", ctype);
	APPEND("Content-Length: %zu\r\n\r\n%s", blen, body ? body : "");
#undef APPEND
	err = ua_send(ua, req->call_id, buf, off);
out:
	free(buf);
	return err;
}

static void new_branch(char *out, size_t len)
{
	char tok[17];

	sip_random_token(tok, 16);
	snprintf(out, len, "z9hG4bK%s", tok);
}

/* ---- registration ---- */

static void reg_timeout(void *arg);
static void reg_refresh(void *arg);

static void reg_timer_set(struct sipua *ua, uint64_t ms, void (*h)(void *))
{
	if (ua->reg_timer)
		evloop_timer_cancel(ua->loop, ua->reg_timer);
	ua->reg_timer = evloop_timer_add(ua->loop, ms, h, ua);
}

static int auth_header(struct sipua *ua, const char *method, const char *uri, char *out, size_t len)
{
	char line[1024];
	int err;

	if (!ua->challenge[0]) {
		out[0] = '\0';
		return 0;
	}
	err = sipauth_answer(ua->challenge, ua->conf.auth_user, ua->conf.auth_password, method, uri,
	                     ++ua->nc, line, sizeof(line));
	if (err)
		return err;
	if ((size_t)snprintf(out, len, "%s: %s\r\n",
	                     ua->challenge_proxy ? "Proxy-Authorization" : "Authorization",
	                     line) >= len)
		return E2BIG;
	return 0;
}

static int reg_send(struct sipua *ua, unsigned expires)
{
	char ruri[300], aor[600], contact[400], hdrs[2048], auth[1400], branch[48];
	int err;

	snprintf(ruri, sizeof(ruri), "sip:%s", ua->domain);
	snprintf(aor, sizeof(aor), "<%s>", ua->conf.aor);
	contact_value(ua, contact, sizeof(contact));
	err = auth_header(ua, "REGISTER", ruri, auth, sizeof(auth));
	if (err)
		return err;
	snprintf(hdrs, sizeof(hdrs), "Contact: %s;expires=%u\r\nExpires: %u\r\n%s", contact,
	         expires, expires, auth);
	new_branch(branch, sizeof(branch));
	{
		char from[700];

		snprintf(from, sizeof(from), "%s;tag=%s", aor, ua->reg_tag);
		err = send_request(ua, "REGISTER", ruri, from, aor, ua->reg_call_id, ++ua->reg_cseq,
		                   branch, hdrs, NULL, NULL);
	}
	if (err)
		return err;
	ua->reg_expires_req = expires;
	ua->reg = REG_SENT;
	reg_timer_set(ua, ua->conf.timeout_ms, reg_timeout);
	return 0;
}

static void reg_failed(struct sipua *ua, int status, const char *reason)
{
	ua->reg = REG_FAILED;
	if (ua->reg_timer)
		evloop_timer_cancel(ua->loop, ua->reg_timer);
	ua->reg_timer = 0;
	status_emit(ua->st, "register.failed", "{s:s, s:i, s:s, s:s, s:s}", "server",
	            ua->conf.server_host, "status", status, "reason", reason, "path", ua->conf.path,
	            "transport", ua->conf.transport);
	if (ua->hooks.reg_result)
		ua->hooks.reg_result(ua->hooks.arg, 0, reason);
}

static void reg_timeout(void *arg)
{
	struct sipua *ua = arg;

	ua->reg_timer = 0;
	reg_failed(ua, 408, "no response to REGISTER");
}

static void reg_refresh(void *arg)
{
	struct sipua *ua = arg;
	int err;

	ua->reg_timer = 0;
	ua->reg_auth_tries = 0;
	err = reg_send(ua, ua->conf.expires);
	if (err)
		reg_failed(ua, 0, strerror(err));
}

static void reg_response(struct sipua *ua, const struct sipmsg *m)
{
	if (m->status < 200)
		return;
	if ((m->status == 401 || m->status == 407) && m->challenge[0]) {
		if (ua->reg_auth_tries++ >= UA_MAX_AUTH_TRIES) {
			reg_failed(ua, m->status, "credentials refused");
			return;
		}
		str_copy(ua->challenge, m->challenge, sizeof(ua->challenge));
		ua->challenge_proxy = m->challenge_proxy;
		ua->nc = 0;
		if (reg_send(ua, ua->reg_expires_req))
			reg_failed(ua, m->status, "cannot answer challenge");
		return;
	}
	if (m->status >= 300) {
		char why[96];

		snprintf(why, sizeof(why), "%d %s", m->status, m->reason);
		reg_failed(ua, m->status, why);
		return;
	}
	ua->reg_auth_tries = 0;
	if (ua->reg_expires_req == 0) {
		ua->reg = REG_IDLE;
		if (ua->reg_timer)
			evloop_timer_cancel(ua->loop, ua->reg_timer);
		ua->reg_timer = 0;
		status_emit(ua->st, "unregistered", "{s:s}", "server", ua->conf.server_host);
		return;
	}
	{
		/* RFC 3261 §10.2.4: the granted lifetime is in the response; refresh before it
		 * runs out. */
		unsigned granted = m->expires > 0 ? (unsigned)m->expires : ua->reg_expires_req;
		uint64_t ms = (uint64_t)granted * 750;

		if (ms < 1000)
			ms = 1000;
		ua->reg = REG_OK;
		reg_timer_set(ua, ms, reg_refresh);
		status_emit(ua->st, "registered", "{s:s, s:i, s:s, s:s, s:i}", "server",
		            ua->conf.server_host, "port", (int)ua->conf.server_port, "path",
		            ua->conf.path, "transport", ua->conf.transport, "expires",
		            (int)granted);
		if (ua->hooks.reg_result)
			ua->hooks.reg_result(ua->hooks.arg, 1, "registered");
	}
}

int sipua_register(struct sipua *ua)
{
	if (!ua)
		return EINVAL;
	ua->reg_auth_tries = 0;
	return reg_send(ua, ua->conf.expires);
}

int sipua_unregister(struct sipua *ua)
{
	if (!ua || ua->reg != REG_OK)
		return 0;
	return reg_send(ua, 0);
}

int sipua_registered(const struct sipua *ua)
{
	return ua && ua->reg == REG_OK;
}

/* ---- calls ---- */

static void sdp_body(const struct sipua *ua, unsigned port, char *out, size_t len)
{
	const char *h = ua->conf.local_host;
	const char *ip = host_is_v6(h) ? "IP6" : "IP4";
	char sess[17];

	sip_random_token(sess, 8);
	snprintf(out, len,
	         "v=0\r\n"
	         "o=onsight-ref %lu 1 IN %s %s\r\n"
	         "s=onsight-ref\r\n"
	         "c=IN %s %s\r\n"
	         "t=0 0\r\n"
	         "m=audio %u RTP/AVP 0\r\n"
	         "a=rtpmap:0 PCMU/8000\r\n"
	         "a=ptime:20\r\n"
	         "a=sendrecv\r\n",
	         strtoul(sess, NULL, 16), ip, h, ip, h, port);
}

static void media_report(struct sipua *ua, const char *why)
{
	struct call *c = &ua->call;
	unsigned long tx, rx;

	if (!c->rtp)
		return;
	rtp_counters(c->rtp, &tx, &rx);
	status_emit(ua->st, "media", "{s:i, s:s, s:i, s:i, s:s, s:s}", "local_port",
	            (int)rtp_local_port(c->rtp), "remote", rtp_remote(c->rtp), "tx_packets",
	            (int)tx, "rx_packets", (int)rx, "call_id", c->call_id, "when", why);
}

static void media_tick(void *arg)
{
	struct sipua *ua = arg;

	ua->call.media_timer = evloop_timer_add(ua->loop, UA_MEDIA_REPORT_MS, media_tick, ua);
	media_report(ua, "interval");
}

static int media_start(struct sipua *ua, const char *body, size_t len)
{
	struct call *c = &ua->call;
	char addr[128];
	unsigned port = 0;
	int err;

	if (!c->rtp || c->media_on)
		return 0;
	if (ua->conf.no_rtp) {
		/* Fault: the call is up, its ports are bound and reported, nothing is sent. */
		c->media_on = 1;
		c->media_timer = evloop_timer_add(ua->loop, UA_MEDIA_REPORT_MS, media_tick, ua);
		return 0;
	}
	err = sdp_audio(body, len, addr, sizeof(addr), &port);
	if (err) {
		log_warnx("call %s: no usable audio in the SDP", c->call_id);
		return err;
	}
	err = ua->hooks.media_open ? ua->hooks.media_open(ua->hooks.arg, c->rtp, addr, port)
	                           : rtp_start(c->rtp, addr, port);
	if (err)
		return err;
	c->media_on = 1;
	c->media_timer = evloop_timer_add(ua->loop, UA_MEDIA_REPORT_MS, media_tick, ua);
	return 0;
}

static void call_status(struct sipua *ua, const char *state, const char *reason)
{
	struct call *c = &ua->call;
	json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "state", state, "direction",
	                      c->outgoing ? "out" : "in", "remote", c->remote_uri, "call_id",
	                      c->call_id);

	if (f && reason)
		json_object_set_new(f, "reason", json_string(reason));
	status_write(ua->st, "call", f);
}

static void call_timeout(void *arg)
{
	struct sipua *ua = arg;

	ua->call.timeout_timer = 0;
	call_end(ua, "timeout");
}

static void call_end(struct sipua *ua, const char *reason)
{
	struct call *c = &ua->call;

	if (c->state == CALL_NONE)
		return;
	if (c->timeout_timer)
		evloop_timer_cancel(ua->loop, c->timeout_timer);
	if (c->media_timer)
		evloop_timer_cancel(ua->loop, c->media_timer);
	if (c->rtp) {
		media_report(ua, "end");
		if (c->media_on && !ua->conf.no_rtp && ua->hooks.media_close)
			ua->hooks.media_close(ua->hooks.arg, c->rtp);
		rtp_free(c->rtp);
	}
	call_status(ua, "ended", reason);
	free(c->invite);
	memset(c, 0, sizeof(*c));
}

static int invite_send(struct sipua *ua)
{
	struct call *c = &ua->call;
	char hdrs[2048], contact[400], auth[1400], sdp[1024];
	int err;

	contact_value(ua, contact, sizeof(contact));
	err = auth_header(ua, "INVITE", c->target, auth, sizeof(auth));
	if (err)
		return err;
	snprintf(hdrs, sizeof(hdrs),
	         "Contact: %s\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n%s", contact, auth);
	sdp_body(ua, rtp_local_port(c->rtp), sdp, sizeof(sdp));
	new_branch(c->branch, sizeof(c->branch));
	return send_request(ua, "INVITE", c->target, c->local_hdr, c->remote_hdr, c->call_id,
	                    ++c->cseq, c->branch, hdrs, "application/sdp", sdp);
}

int sipua_call(struct sipua *ua, const char *uri)
{
	struct call *c;
	char tag[17], id[25];
	int err;

	if (!ua || !uri || strncmp(uri, "sip", 3) != 0 || strlen(uri) > 200 ||
	    strpbrk(uri, " \r\n<>\""))
		return EINVAL;
	c = &ua->call;
	if (c->state != CALL_NONE)
		return EBUSY;
	err = rtp_alloc(&c->rtp, ua->loop, ua->conf.port_min, ua->conf.port_max,
	                (enum rtp_ports)ua->conf.media_ports);
	if (err)
		return err;
	c->outgoing = 1;
	c->state = CALL_OUT_TRYING;
	sip_random_token(tag, 16);
	sip_random_token(id, 24);
	snprintf(c->call_id, sizeof(c->call_id), "%s@onsight-ref", id);
	snprintf(c->local_hdr, sizeof(c->local_hdr), "\"%s\" <%s>;tag=%s", ua->conf.display,
	         ua->conf.aor, tag);
	snprintf(c->remote_hdr, sizeof(c->remote_hdr), "<%s>", uri);
	str_copy(c->remote_uri, uri, sizeof(c->remote_uri));
	str_copy(c->target, uri, sizeof(c->target));
	c->timeout_timer = evloop_timer_add(ua->loop, ua->conf.timeout_ms * 8, call_timeout, ua);
	err = invite_send(ua);
	if (err) {
		call_end(ua, "send failed");
		return err;
	}
	return 0;
}

static int send_ack(struct sipua *ua, int for_2xx)
{
	struct call *c = &ua->call;
	char branch[48];

	/* RFC 3261 §17.1.1.3: the ACK of a non-2xx reuses the INVITE's branch and goes to the
	 * request URI; the ACK of a 2xx is a new transaction to the remote target. */
	if (for_2xx)
		new_branch(branch, sizeof(branch));
	else
		str_copy(branch, c->branch, sizeof(branch));
	return send_request(ua, "ACK", c->target, c->local_hdr, c->remote_hdr, c->call_id, c->cseq,
	                    branch, NULL, NULL, NULL);
}

static void invite_response(struct sipua *ua, const struct sipmsg *m)
{
	struct call *c = &ua->call;

	if (m->cseq != c->cseq)
		return;
	if (m->status < 200) {
		if (m->status == 180 || m->status == 183)
			call_status(ua, "ringing", NULL);
		return;
	}
	/* Their tag and remote target, for the ACK and the rest of the dialog. */
	if (m->to_tag[0])
		str_copy(c->remote_hdr, m->to, sizeof(c->remote_hdr));
	if (m->status >= 300) {
		int challenged = (m->status == 401 || m->status == 407) && m->challenge[0];

		(void)send_ack(ua, 0);
		str_copy(c->remote_hdr, "", sizeof(c->remote_hdr));
		snprintf(c->remote_hdr, sizeof(c->remote_hdr), "<%s>", c->remote_uri);
		if (challenged && c->auth_tries++ < UA_MAX_AUTH_TRIES) {
			str_copy(ua->challenge, m->challenge, sizeof(ua->challenge));
			ua->challenge_proxy = m->challenge_proxy;
			ua->nc = 0;
			if (invite_send(ua) == 0)
				return;
		}
		{
			char why[96];

			snprintf(why, sizeof(why), "%d %s", m->status, m->reason);
			call_end(ua, why);
		}
		return;
	}
	if (c->state != CALL_OUT_TRYING) {
		(void)send_ack(ua, 1); /* a retransmitted 2xx: ACK again (§13.2.2.4) */
		return;
	}
	if (m->contact_uri[0])
		str_copy(c->target, m->contact_uri, sizeof(c->target));
	(void)send_ack(ua, 1);
	if (c->timeout_timer)
		evloop_timer_cancel(ua->loop, c->timeout_timer);
	c->timeout_timer = 0;
	c->state = CALL_UP;
	call_status(ua, "established", NULL);
	if (media_start(ua, m->body, m->bodylen))
		log_warnx("call %s: media did not start", c->call_id);
}

static int incoming_invite(struct sipua *ua, const struct sipmsg *m)
{
	struct call *c = &ua->call;
	char tag[17], contact[400], hdrs[600], sdp[1024];
	int err;

	if (c->state != CALL_NONE) {
		if (strcmp(c->call_id, m->call_id) == 0)
			return 0; /* retransmission */
		return send_response(ua, m, 486, "Busy Here", "busy", NULL, NULL, NULL);
	}
	if (!m->bodylen)
		return send_response(ua, m, 488, "Not Acceptable Here", "nosdp", NULL, NULL, NULL);
	err = rtp_alloc(&c->rtp, ua->loop, ua->conf.port_min, ua->conf.port_max,
	                (enum rtp_ports)ua->conf.media_ports);
	if (err)
		return send_response(ua, m, 503, "Service Unavailable", "nomedia", NULL, NULL,
		                     NULL);
	c->invite = malloc(sizeof(*c->invite));
	if (!c->invite) {
		rtp_free(c->rtp);
		c->rtp = NULL;
		return ENOMEM;
	}
	*c->invite = *m;
	c->outgoing = 0;
	c->state = CALL_IN_RINGING;
	sip_random_token(tag, 16);
	str_copy(c->call_id, m->call_id, sizeof(c->call_id));
	snprintf(c->local_hdr, sizeof(c->local_hdr), "%s;tag=%s", m->to, tag);
	str_copy(c->remote_hdr, m->from, sizeof(c->remote_hdr));
	str_copy(c->remote_uri, m->from_uri, sizeof(c->remote_uri));
	str_copy(c->target, m->contact_uri[0] ? m->contact_uri : m->from_uri, sizeof(c->target));
	c->cseq = 0;
	(void)send_response(ua, m, 180, "Ringing", tag, NULL, NULL, NULL);
	call_status(ua, "ringing", NULL);
	if (!ua->conf.auto_answer)
		return 0;
	contact_value(ua, contact, sizeof(contact));
	snprintf(hdrs, sizeof(hdrs), "Contact: %s\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n",
	         contact);
	sdp_body(ua, rtp_local_port(c->rtp), sdp, sizeof(sdp));
	err = send_response(ua, m, 200, "OK", tag, hdrs, "application/sdp", sdp);
	if (err) {
		call_end(ua, "send failed");
		return err;
	}
	c->state = CALL_ANSWERED;
	/* Media starts with the answer: the far end may wait for our first packet. */
	if (media_start(ua, m->body, m->bodylen))
		log_warnx("call %s: media did not start", c->call_id);
	c->timeout_timer = evloop_timer_add(ua->loop, ua->conf.timeout_ms * 4, call_timeout, ua);
	return 0;
}

static const char *tag_of_local(const struct call *c)
{
	const char *t = strstr(c->local_hdr, ";tag=");

	return t ? t + 5 : "";
}

static void incoming_request(struct sipua *ua, const struct sipmsg *m)
{
	struct call *c = &ua->call;
	int same = c->state != CALL_NONE && strcmp(c->call_id, m->call_id) == 0;

	if (strcmp(m->method, "INVITE") == 0) {
		(void)incoming_invite(ua, m);
	} else if (strcmp(m->method, "ACK") == 0) {
		if (same && c->state == CALL_ANSWERED) {
			if (c->timeout_timer)
				evloop_timer_cancel(ua->loop, c->timeout_timer);
			c->timeout_timer = 0;
			c->state = CALL_UP;
			call_status(ua, "established", NULL);
		}
	} else if (strcmp(m->method, "BYE") == 0) {
		if (!same) {
			(void)send_response(ua, m, 481, "Call/Transaction Does Not Exist", NULL,
			                    NULL, NULL, NULL);
			return;
		}
		(void)send_response(ua, m, 200, "OK", NULL, NULL, NULL, NULL);
		call_end(ua, "remote hangup");
	} else if (strcmp(m->method, "CANCEL") == 0) {
		if (!same || c->outgoing || !c->invite) {
			(void)send_response(ua, m, 481, "Call/Transaction Does Not Exist", NULL,
			                    NULL, NULL, NULL);
			return;
		}
		(void)send_response(ua, m, 200, "OK", NULL, NULL, NULL, NULL);
		if (c->state == CALL_IN_RINGING)
			(void)send_response(ua, c->invite, 487, "Request Terminated",
			                    tag_of_local(c), NULL, NULL, NULL);
		call_end(ua, "cancelled");
	} else if (strcmp(m->method, "OPTIONS") == 0) {
		(void)send_response(ua, m, 200, "OK", "opt",
		                    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n"
		                    "Accept: application/sdp\r\n",
		                    NULL, NULL);
	} else {
		(void)send_response(ua, m, 501, "Not Implemented", NULL, NULL, NULL, NULL);
	}
}

static void incoming_response(struct sipua *ua, const struct sipmsg *m)
{
	struct call *c = &ua->call;

	if (strcmp(m->call_id, ua->reg_call_id) == 0) {
		if (strcmp(m->cseq_method, "REGISTER") == 0 && m->cseq == ua->reg_cseq &&
		    ua->reg == REG_SENT)
			reg_response(ua, m);
		return;
	}
	if (c->state == CALL_NONE || strcmp(m->call_id, c->call_id) != 0)
		return;
	if (strcmp(m->cseq_method, "INVITE") == 0 && c->outgoing)
		invite_response(ua, m);
	else if (strcmp(m->cseq_method, "BYE") == 0 && c->state == CALL_BYE && m->status >= 200)
		call_end(ua, "local hangup");
}

int sipua_input(struct sipua *ua, const char *buf, size_t len)
{
	int err;

	if (!ua || !buf)
		return EINVAL;
	err = sipmsg_parse(&ua->scratch, buf, len);
	if (err) {
		ua->bad++;
		log_warnx("dropped a malformed SIP message (%zu bytes): %s", len, strerror(err));
		return err;
	}
	if (ua->scratch.is_request)
		incoming_request(ua, &ua->scratch);
	else
		incoming_response(ua, &ua->scratch);
	return 0;
}

const char *sipua_reg_call_id(const struct sipua *ua)
{
	return ua ? ua->reg_call_id : "";
}

const char *sipua_call_id(const struct sipua *ua)
{
	return ua ? ua->call.call_id : "";
}

unsigned long sipua_bad_messages(const struct sipua *ua)
{
	return ua ? ua->bad : 0;
}

void sipua_hangup(struct sipua *ua)
{
	struct call *c;
	char branch[48];

	if (!ua)
		return;
	c = &ua->call;
	switch (c->state) {
	case CALL_NONE:
	case CALL_BYE:
		return;
	case CALL_OUT_TRYING:
		(void)send_request(ua, "CANCEL", c->target, c->local_hdr, c->remote_hdr, c->call_id,
		                   c->cseq, c->branch, NULL, NULL, NULL);
		call_end(ua, "local cancel");
		return;
	case CALL_IN_RINGING:
		(void)send_response(ua, c->invite, 486, "Busy Here", tag_of_local(c), NULL, NULL,
		                    NULL);
		call_end(ua, "declined");
		return;
	case CALL_ANSWERED:
	case CALL_UP:
		new_branch(branch, sizeof(branch));
		if (send_request(ua, "BYE", c->target, c->local_hdr, c->remote_hdr, c->call_id,
		                 ++c->cseq, branch, NULL, NULL, NULL) != 0) {
			call_end(ua, "local hangup");
			return;
		}
		c->state = CALL_BYE;
		if (c->timeout_timer)
			evloop_timer_cancel(ua->loop, c->timeout_timer);
		c->timeout_timer =
		        evloop_timer_add(ua->loop, ua->conf.timeout_ms, call_timeout, ua);
		return;
	}
}

int sipua_in_call(const struct sipua *ua)
{
	return ua && ua->call.state != CALL_NONE;
}

int sipua_alloc(struct sipua **up, struct evloop *loop, struct status *st,
                const struct sipua_conf *conf, const struct sipua_hooks *hooks)
{
	struct sipua *ua = NULL;
	char id[25];
	int err;

	if (!up || !loop || !conf || !hooks || !conf->aor)
		return EINVAL;
	ua = calloc(1, sizeof(*ua));
	if (!ua)
		return ENOMEM;
	ua->loop = loop;
	ua->st = st;
	ua->hooks = *hooks;
	err = conf_copy(&ua->conf, conf);
	if (err)
		goto out;
	if (!ua->conf.timeout_ms)
		ua->conf.timeout_ms = 4000;
	err = split_aor(ua->conf.aor, ua->user, sizeof(ua->user), ua->domain, sizeof(ua->domain));
	if (err)
		goto out;
	sipmsg_init();
	sip_random_token(id, 24);
	snprintf(ua->reg_call_id, sizeof(ua->reg_call_id), "%s@onsight-ref", id);
	sip_random_token(ua->reg_tag, 16);
	*up = ua;
	ua = NULL;
out:
	sipua_free(ua);
	return err;
}

void sipua_free(struct sipua *ua)
{
	if (!ua)
		return;
	if (ua->call.state != CALL_NONE) {
		sipua_hangup(ua);
		call_end(ua, "shutdown");
	}
	if (ua->reg_timer)
		evloop_timer_cancel(ua->loop, ua->reg_timer);
	conf_free(&ua->conf);
	free(ua);
}
