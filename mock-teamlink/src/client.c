/* client.c - teamlink.v1 tunnel client (see teamlink/client.h). */
#define LOG_TAG "tlclient"
#include "teamlink/client.h"

#include "stream.h"
#include "teamlink/msg.h"

#include "onsight/evloop.h"
#include "onsight/httpc.h"
#include "onsight/log.h"
#include "onsight/util.h"
#include "onsight/ws.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tlc_chan {
	struct tlc *t;
	uint16_t id;
	int udp;
	int opened;
	struct tlc_chan_handlers h;
	void *arg;
	int64_t send_window;
	uint8_t *pend; /* SIP bytes waiting for window */
	size_t pendlen;
	struct tlc_chan *next;
};

struct tlc {
	struct evloop *loop;
	tlc_state_h *h;
	void *arg;
	struct httpc *hc;
	struct stream *st;
	struct ws_reader *wr;
	uint8_t *in;
	size_t inlen;
	int state; /* -1 connecting, else enum tlc_state */
	char key[WS_KEY_LEN + 1];
	char *auth, *proxyhdr;
	int http_status, proxy_status;
	unsigned ping_ms;
	size_t max_pending;
	uint64_t ping_timer;
	uint64_t last_rx_ms;
	uint16_t next_id;
	struct tlc_chan *chans;
	unsigned nchans;
	uint64_t rng;
	struct tlc_stats stats;
	uint8_t *obuf; /* one outgoing frame */
	char err[320];
};

static void tunnel_down(struct tlc *t, const char *why);

/* xorshift64*: masking keys need not be secret from the server, only unpredictable to
 * scripts in the page (RFC 6455 §10.3), which a TLS tunnel client has none of. */
static uint32_t rnd(struct tlc *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return (uint32_t)((t->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static int send_frame(struct tlc *t, enum ws_op op, const uint8_t *hdr3, const void *p, size_t n)
{
	uint8_t key[4];
	uint32_t r = rnd(t);
	size_t hl, total = (hdr3 ? TL_HDR : 0) + n;

	if (!t->st || total > TL_MAX_MSG)
		return EINVAL;
	memcpy(key, &r, 4);
	hl = ws_frame_header(t->obuf, op, 1, total, key);
	if (hdr3)
		memcpy(t->obuf + hl, hdr3, TL_HDR);
	if (n)
		memcpy(t->obuf + hl + (hdr3 ? TL_HDR : 0), p, n);
	ws_mask(t->obuf + hl, total, key, 0);
	return stream_write(t->st, t->obuf, hl + total);
}

static int send_msg(struct tlc *t, enum tl_type type, uint16_t ch, const void *p, size_t n)
{
	uint8_t h[TL_HDR];

	tl_header(h, type, ch);
	return send_frame(t, WS_OP_BINARY, h, p, n);
}

static int send_raw(struct tlc *t, const uint8_t *m, size_t n)
{
	return send_frame(t, WS_OP_BINARY, m, m + TL_HDR, n - TL_HDR);
}

static struct tlc_chan *chan_find(struct tlc *t, uint16_t id)
{
	for (struct tlc_chan *c = t->chans; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void chan_release(struct tlc_chan *c)
{
	struct tlc *t = c->t;

	for (struct tlc_chan **pp = &t->chans; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			t->nchans--;
			break;
		}
	free(c->pend);
	free(c);
}

static void chan_ended(struct tlc_chan *c, int code, const char *text)
{
	if (c->h.closed)
		c->h.closed(c, code, text, c->arg);
	chan_release(c);
}

static void sip_flush(struct tlc_chan *c)
{
	size_t off = 0;

	while (off < c->pendlen && c->send_window > 0) {
		size_t n = c->pendlen - off;
		if (n > TL_MAX_PAYLOAD)
			n = TL_MAX_PAYLOAD;
		if ((int64_t)n > c->send_window)
			n = (size_t)c->send_window;
		if (send_msg(c->t, TL_SIP_DATA, c->id, c->pend + off, n))
			break;
		c->t->stats.bytes_tx += n;
		c->t->stats.msgs_tx++;
		c->send_window -= (int64_t)n;
		off += n;
	}
	memmove(c->pend, c->pend + off, c->pendlen - off);
	c->pendlen -= off;
}

static void on_message(struct tlc *t, const uint8_t *p, size_t n)
{
	struct tl_msg m;
	struct tlc_chan *c;
	char text[TL_MAX_ERROR_TEXT + 1];

	if (tl_parse(p, n, &m)) {
		log_debug("malformed message from the server (%zu bytes)", n);
		return;
	}
	c = m.channel ? chan_find(t, m.channel) : NULL;
	switch (m.type) {
	case TL_OPENED:
		if (c && !c->opened) {
			snprintf(text, sizeof(text), "%.*s", (int)(m.len > 100 ? 100 : m.len),
			         (const char *)m.data);
			c->opened = 1;
			if (c->h.opened)
				c->h.opened(c, text, c->arg);
		}
		break;
	case TL_SIP_DATA:
	case TL_UDP_DATA:
		if (!c)
			break;
		t->stats.bytes_rx += m.len;
		t->stats.msgs_rx++;
		if (m.type == TL_SIP_DATA) {
			uint8_t w[TL_HDR + 4];
			/* the application has the bytes: return the credit at once */
			if (c->h.data)
				c->h.data(c, m.data, m.len, c->arg);
			if (chan_find(t, m.channel) == c)
				(void)send_raw(
				        t, w,
				        tl_build_window(w, sizeof(w), c->id, (uint32_t)m.len));
		} else if (c->h.data)
			c->h.data(c, m.data, m.len, c->arg);
		break;
	case TL_WINDOW:
		if (c && !c->udp) {
			c->send_window += m.increment;
			sip_flush(c);
		}
		break;
	case TL_CLOSE:
		if (c) {
			snprintf(text, sizeof(text), "%.*s", (int)(m.len > 125 ? 125 : m.len),
			         (const char *)m.data);
			chan_ended(c, 0, text[0] ? text : "closed");
		}
		break;
	case TL_ERROR:
		snprintf(text, sizeof(text), "%.*s", (int)m.len, (const char *)m.data);
		if (c)
			chan_ended(c, m.code, text);
		else if (m.channel == 0)
			log_warnx("tunnel error %u %s: %s", m.code, tl_code_name(m.code), text);
		break;
	default:
		break;
	}
}

static void on_readable(struct stream *s, void *arg)
{
	struct tlc *t = arg;
	const size_t cap = TL_MAX_MSG + WS_MAX_HEADER;

	for (int i = 0; i < 64; i++) {
		size_t off = 0;
		ssize_t n = stream_read(s, t->in + t->inlen, cap - t->inlen);
		if (n == STREAM_AGAIN)
			return;
		if (n <= 0) {
			tunnel_down(t,
			            n == 0 ? "connection closed by the server or proxy"
			                   : stream_errstr(s));
			return;
		}
		t->inlen += (size_t)n;
		t->last_rx_ms = evloop_now_ms();
		while (off < t->inlen) {
			struct ws_msg m;
			size_t used;
			int rc = ws_read(t->wr, t->in + off, t->inlen - off, &used, &m);
			off += used;
			if (rc < 0) {
				snprintf(t->err, sizeof(t->err), "WebSocket: %s",
				         ws_reader_error(t->wr));
				tunnel_down(t, t->err);
				return;
			}
			if (rc == 0) {
				if (used)
					continue;
				break;
			}
			if (m.op == WS_OP_BINARY) {
				on_message(t, m.data, m.len);
				if (t->state != TLC_OPEN)
					return;
			} else if (m.op == WS_OP_PING)
				(void)send_frame(t, WS_OP_PONG, NULL, m.data, m.len);
			else if (m.op == WS_OP_CLOSE) {
				int st = 0;
				const char *r = NULL;
				size_t rl = 0;
				char why[200];
				(void)ws_close_parse(m.data, m.len, &st, &r, &rl);
				snprintf(why, sizeof(why), "server closed the tunnel (%d %.*s)", st,
				         (int)(rl > 120 ? 120 : rl), r ? r : "");
				tunnel_down(t, why);
				return;
			}
		}
		memmove(t->in, t->in + off, t->inlen - off);
		t->inlen -= off;
	}
}

static void on_stream_event(struct stream *s, enum stream_event ev, int err, const char *what,
                            void *arg)
{
	struct tlc *t = arg;

	(void)s;
	(void)err;
	if (ev == STREAM_ERROR)
		tunnel_down(t, what);
	else if (ev == STREAM_DRAINED)
		for (struct tlc_chan *c = t->chans; c; c = c->next)
			if (!c->udp && c->pendlen)
				sip_flush(c);
}

static void on_ping(void *arg)
{
	struct tlc *t = arg;

	t->ping_timer = evloop_timer_add(t->loop, t->ping_ms, on_ping, t);
	if (evloop_now_ms() - t->last_rx_ms >= 3ull * t->ping_ms) {
		tunnel_down(t, "keepalive timeout");
		return;
	}
	(void)send_frame(t, WS_OP_PING, NULL, "ka", 2);
}

static void fail(struct tlc *t, const char *why)
{
	if (why != t->err)
		str_copy(t->err, why, sizeof(t->err));
	t->state = TLC_FAILED;
	t->h(t, TLC_FAILED, t->err, t->arg);
}

static void on_http(struct httpc *hc, int err, const struct httpc_resp *r, void *arg)
{
	struct tlc *t = arg;
	char want[WS_ACCEPT_LEN + 1];
	const char *acc, *proto, *e;
	int fd = -1;
	SSL *ssl = NULL;
	uint8_t *extra = NULL;
	size_t elen = 0;

	t->proxy_status = httpc_proxy_status(hc);
	if (err) {
		snprintf(t->err, sizeof(t->err), "%s", httpc_error(hc));
		goto failed;
	}
	t->http_status = r->status;
	if (r->status != 101) {
		e = r->body && r->body_len ? r->body : "";
		snprintf(t->err, sizeof(t->err), "server refused the upgrade: %d %s %.200s",
		         r->status, r->reason, e);
		goto failed;
	}
	ws_accept(t->key, want);
	acc = httpc_resp_header(r, "Sec-WebSocket-Accept");
	proto = httpc_resp_header(r, "Sec-WebSocket-Protocol");
	if (!acc || strcmp(acc, want)) {
		snprintf(t->err, sizeof(t->err), "bad Sec-WebSocket-Accept in the 101 answer");
		goto failed;
	}
	if (!proto || strcmp(proto, TL_SUBPROTOCOL)) {
		snprintf(t->err, sizeof(t->err), "server did not select %s", TL_SUBPROTOCOL);
		goto failed;
	}
	if (httpc_take_conn(hc, &fd, &ssl, &extra, &elen) ||
	    stream_alloc(&t->st, t->loop, fd, ssl, 0, 0, 4u << 20, on_readable, on_stream_event,
	                 t)) {
		if (fd >= 0)
			close(fd);
		SSL_free(ssl);
		free(extra);
		snprintf(t->err, sizeof(t->err), "out of memory");
		goto failed;
	}
	if (elen > TL_MAX_MSG + WS_MAX_HEADER)
		elen = TL_MAX_MSG + WS_MAX_HEADER;
	if (elen)
		memcpy(t->in, extra, elen);
	t->inlen = elen;
	free(extra);
	httpc_free(hc);
	t->hc = NULL;
	t->state = TLC_OPEN;
	t->last_rx_ms = evloop_now_ms();
	t->ping_timer = evloop_timer_add(t->loop, t->ping_ms, on_ping, t);
	t->h(t, TLC_OPEN, "upgraded", t->arg);
	return;
failed:
	httpc_free(hc);
	t->hc = NULL;
	fail(t, t->err);
}

static void tunnel_down(struct tlc *t, const char *why)
{
	char reason[320];

	if (t->state != TLC_OPEN)
		return;
	str_copy(reason, why, sizeof(reason));
	t->state = TLC_CLOSED;
	evloop_timer_cancel(t->loop, t->ping_timer);
	t->ping_timer = 0;
	while (t->chans)
		chan_ended(t->chans, TL_E_REMOTE_RESET, "tunnel closed");
	stream_free(t->st);
	t->st = NULL;
	str_copy(t->err, reason, sizeof(t->err));
	t->h(t, TLC_CLOSED, reason, t->arg);
}

int tlc_open(struct tlc **tp, struct evloop *loop, const struct tlc_opts *o, tlc_state_h *h,
             void *arg)
{
	struct tlc *t;
	const char *hdrs[8];
	char keyh[64], proxyh[300];
	unsigned n = 0;
	int err;
	struct httpc_opts ho = {0};

	if (!tp || !loop || !o || !o->url || !o->token || !h || strpbrk(o->token, "\r\n"))
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->loop = loop;
	t->h = h;
	t->arg = arg;
	t->state = -1;
	t->ping_ms = o->ping_ms ? o->ping_ms : 20000;
	t->max_pending = o->max_pending ? o->max_pending : 256u << 10;
	t->next_id = 1;
	if (RAND_bytes((unsigned char *)&t->rng, sizeof(t->rng)) != 1 || !t->rng)
		t->rng = 0x9e3779b97f4a7c15ULL ^ evloop_now_ns();
	err = ws_key_new(t->key);
	if (!err)
		err = ws_reader_alloc(&t->wr, 0, TL_MAX_MSG);
	t->in = malloc(TL_MAX_MSG + WS_MAX_HEADER);
	t->obuf = malloc(TL_MAX_MSG + WS_MAX_HEADER);
	if (asprintf(&t->auth, "Authorization: Bearer %s", o->token) < 0)
		t->auth = NULL;
	if (err || !t->in || !t->obuf || !t->auth) {
		err = err ? err : ENOMEM;
		goto out;
	}
	snprintf(keyh, sizeof(keyh), "Sec-WebSocket-Key: %s", t->key);
	hdrs[n++] = "Upgrade: websocket";
	hdrs[n++] = "Connection: Upgrade";
	hdrs[n++] = keyh;
	hdrs[n++] = "Sec-WebSocket-Version: 13";
	hdrs[n++] = "Sec-WebSocket-Protocol: " TL_SUBPROTOCOL;
	hdrs[n++] = t->auth;
	if (o->proxy) {
		snprintf(proxyh, sizeof(proxyh), "X-TeamLink-Proxy: %s", o->proxy);
		hdrs[n++] = proxyh;
	}
	hdrs[n] = NULL;
	ho.url = o->url;
	ho.proxy = o->proxy;
	ho.connect_to = o->connect_to;
	ho.tls = o->tls;
	ho.headers = hdrs;
	ho.timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
	ho.max_body = 4096;
	err = httpc_start(&t->hc, loop, &ho, on_http, t);
	if (err) {
		snprintf(t->err, sizeof(t->err), "%s: %s", o->url,
		         err == EHOSTUNREACH ? "cannot resolve the host" : strerror(err));
		goto out;
	}
	*tp = t;
	t = NULL;
out:
	tlc_free(t);
	return err;
}

void tlc_free(struct tlc *t)
{
	tlc_close(t, NULL);
}

void tlc_close(struct tlc *t, const char *reason)
{
	if (!t)
		return;
	if (t->st && t->state == TLC_OPEN) {
		uint8_t p[WS_MAX_CONTROL] = {WS_CLOSE_NORMAL >> 8, WS_CLOSE_NORMAL & 0xff};
		size_t rl = reason ? strlen(reason) : 0;
		if (rl > WS_MAX_CONTROL - 2)
			rl = WS_MAX_CONTROL - 2;
		memcpy(p + 2, reason ? reason : "", rl);
		(void)send_frame(t, WS_OP_CLOSE, NULL, p, 2 + rl);
	}
	while (t->chans)
		chan_release(t->chans);
	evloop_timer_cancel(t->loop, t->ping_timer);
	httpc_free(t->hc);
	stream_free(t->st);
	ws_reader_free(t->wr);
	free(t->in);
	free(t->obuf);
	free(t->auth);
	free(t->proxyhdr);
	free(t);
}

const char *tlc_error(const struct tlc *t)
{
	return t ? t->err : "";
}

int tlc_http_status(const struct tlc *t)
{
	return t ? t->http_status : 0;
}

int tlc_proxy_status(const struct tlc *t)
{
	return t ? t->proxy_status : 0;
}

void tlc_get_stats(const struct tlc *t, struct tlc_stats *s)
{
	if (t && s)
		*s = t->stats;
}

static int chan_new(struct tlc *t, struct tlc_chan **cp, int udp, const struct tlc_chan_handlers *h,
                    void *arg)
{
	struct tlc_chan *c;
	uint16_t id = 0;

	if (!t || !cp || !h)
		return EINVAL;
	if (t->state != TLC_OPEN)
		return ENOTCONN;
	/* ids advance so a just-closed id is not reused while its CLOSE is in flight */
	for (unsigned k = 0; k < 65535; k++) {
		uint16_t cand = t->next_id;
		t->next_id = (uint16_t)(t->next_id == 65535 ? 1 : t->next_id + 1);
		if (!chan_find(t, cand)) {
			id = cand;
			break;
		}
	}
	if (!id)
		return EMFILE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->t = t;
	c->id = id;
	c->udp = udp;
	c->h = *h;
	c->arg = arg;
	c->send_window = TL_INITIAL_WINDOW;
	c->next = t->chans;
	t->chans = c;
	t->nchans++;
	*cp = c;
	return 0;
}

int tlc_open_sip(struct tlc *t, struct tlc_chan **cp, const char *host, uint16_t port, int tls,
                 const struct tlc_chan_handlers *h, void *arg)
{
	uint8_t m[TL_HDR + 3 + TL_MAX_HOST];
	size_t n;
	int err;

	if (!host || !(n = tl_build_open_sip(m, sizeof(m), 1, host, port, tls ? TL_TLS : TL_TCP)))
		return EINVAL;
	err = chan_new(t, cp, 0, h, arg);
	if (err)
		return err;
	tl_header(m, TL_OPEN_SIP, (*cp)->id);
	err = send_raw(t, m, n);
	if (err)
		chan_release(*cp);
	return err;
}

int tlc_open_udp(struct tlc *t, struct tlc_chan **cp, const char *host, uint16_t port,
                 const struct tlc_chan_handlers *h, void *arg)
{
	uint8_t m[TL_HDR + 2 + TL_MAX_HOST];
	size_t n;
	int err;

	if (!host || !(n = tl_build_open_udp(m, sizeof(m), 1, host, port)))
		return EINVAL;
	err = chan_new(t, cp, 1, h, arg);
	if (err)
		return err;
	tl_header(m, TL_OPEN_UDP, (*cp)->id);
	err = send_raw(t, m, n);
	if (err)
		chan_release(*cp);
	return err;
}

int tlc_send(struct tlc_chan *c, const void *p, size_t n)
{
	struct tlc *t;
	int err;

	if (!c || (n && !p))
		return EINVAL;
	t = c->t;
	if (t->state != TLC_OPEN)
		return ENOTCONN;
	if (c->udp) {
		if (n > TL_MAX_PAYLOAD)
			return EMSGSIZE;
		err = send_msg(t, TL_UDP_DATA, c->id, p, n);
		if (err) {
			t->stats.dropped_tx++;
			return err;
		}
		t->stats.bytes_tx += n;
		t->stats.msgs_tx++;
		return 0;
	}
	if (c->pendlen + n > t->max_pending)
		return ENOBUFS;
	if (n) {
		uint8_t *np = realloc(c->pend, c->pendlen + n);
		if (!np)
			return ENOMEM;
		c->pend = np;
		memcpy(c->pend + c->pendlen, p, n);
		c->pendlen += n;
	}
	sip_flush(c);
	return 0;
}

void tlc_chan_close(struct tlc_chan *c)
{
	tlc_chan_close_reason(c, NULL);
}

void tlc_chan_close_reason(struct tlc_chan *c, const char *reason)
{
	size_t rl = reason ? strlen(reason) : 0;

	if (!c)
		return;
	if (rl > TL_MAX_CLOSE_REASON)
		rl = TL_MAX_CLOSE_REASON;
	if (c->t->state == TLC_OPEN)
		(void)send_msg(c->t, TL_CLOSE, c->id, reason, rl);
	chan_release(c);
}

uint16_t tlc_chan_id(const struct tlc_chan *c)
{
	return c ? c->id : 0;
}
