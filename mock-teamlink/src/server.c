/* server.c - HTTP front end, tunnels, channels and the TCM (see server.h). */
#define LOG_TAG "teamlink"
#include "server.h"

#include "httpreq.h"
#include "stream.h"
#include "teamlink/msg.h"

#include "onsight/evloop.h"
#include "onsight/journal.h"
#include "onsight/log.h"
#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"
#include "onsight/ws.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 32
#define MAX_TCM_SERVERS 32
#define TICK_MS 1000
#define UDP_BATCH 64

struct tlsrv;
struct tunnel;

struct listener {
	struct tlsrv *srv;
	int fd;
	int tls;
	int roles;
};

/* An HTTP connection before (or instead of) an upgrade. */
struct hconn {
	struct tlsrv *srv;
	struct listener *ls;
	struct stream *st;
	char in[HTTPREQ_MAX_HEAD + 1];
	size_t inlen;
	uint64_t timer;
	int closing; /* answer sent, close when flushed */
	char client[SOCK_ADDR_STRLEN];
	char local[SOCK_ADDR_STRLEN]; /* our address the client reached (names TCM/server) */
	struct hconn *next, *prev;
};

enum ch_kind { CH_SIP, CH_UDP };
enum ch_state { CHS_OPENING, CHS_OPEN, CHS_CLOSING };

struct channel {
	struct tunnel *t;
	uint16_t id;
	enum ch_kind kind;
	enum ch_state state;
	char host[TL_MAX_HOST + 1];
	uint16_t port;
	enum tl_transport transport;
	struct stream *up; /* SIP */
	int fd; /* UDP */
	uint64_t timer; /* connect timeout / close flush deadline */
	int64_t send_window; /* SIP_DATA we may still send to the client */
	int64_t recv_window; /* SIP_DATA the client may still send us */
	uint32_t credit_due; /* written upstream, not yet returned with WINDOW */
	uint64_t last_ms;
	uint64_t bytes_in, bytes_out, dgrams_in, dgrams_out, dropped;
	struct channel *next;
};

struct tunnel {
	struct tlsrv *srv;
	uint64_t id;
	struct stream *st;
	struct ws_reader *wr;
	uint8_t *in;
	size_t inlen;
	char client[SOCK_ADDR_STRLEN];
	char local[SOCK_ADDR_STRLEN];
	char user[128];
	const char *scheme;
	int via_proxy;
	struct channel *chans;
	unsigned nchans;
	uint64_t last_rx_ms;
	int pinged;
	int closing;
	uint64_t bytes_in, bytes_out;
	struct tunnel *next, *prev;
};

struct tcm_server {
	char host[256];
	uint16_t port;
	char scheme[8];
	int healthy;
	int checked;
	unsigned assigned; /* assignments in the current window */
	int probe_fd;
	uint64_t probe_timer;
	struct tlsrv *srv;
};

struct tlsrv {
	struct evloop *loop;
	struct journal *j;
	SSL_CTX *tls, *tls_up;
	struct tlsrv_limits lim;
	uint8_t *secret;
	size_t secretlen;
	struct listener ls[MAX_LISTENERS];
	unsigned nls;
	struct hconn *conns;
	unsigned nconns;
	struct tunnel *tunnels;
	unsigned ntunnels;
	uint64_t next_tunnel_id;
	uint64_t tick;
	struct tcm_server tcm[MAX_TCM_SERVERS];
	unsigned ntcm, rr;
	uint64_t health_timer;
	uint64_t window_start_ms;
	tlsrv_resolve_fn *resolve;
};

static void tunnel_close(struct tunnel *t, int status, const char *reason);
static void channel_end(struct channel *c, int code, const char *text);

/* ---------------------------------------------------------------- tunnel output */

/* Sends one tunnel message (header fields + payload) as one unmasked binary frame.
 * Returns 0, ENOBUFS when the tunnel's queue is full, EPIPE when dead. */
static int tsend(struct tunnel *t, enum tl_type type, uint16_t ch, const void *p, size_t n)
{
	uint8_t hdr[WS_MAX_HEADER + TL_HDR];
	size_t hl = ws_frame_header(hdr, WS_OP_BINARY, 1, TL_HDR + n, NULL);

	tl_header(hdr + hl, type, ch);
	t->bytes_out += n;
	return stream_write2(t->st, hdr, hl + TL_HDR, p, n);
}

static int tsend_raw(struct tunnel *t, const uint8_t *msg, size_t n)
{
	uint8_t hdr[WS_MAX_HEADER];
	size_t hl = ws_frame_header(hdr, WS_OP_BINARY, 1, n, NULL);

	return stream_write2(t->st, hdr, hl, msg, n);
}

static void tsend_error(struct tunnel *t, uint16_t ch, int code, const char *text)
{
	uint8_t m[TL_HDR + 2 + TL_MAX_ERROR_TEXT];
	size_t n = tl_build_error(m, sizeof(m), ch, (uint16_t)code, text);

	(void)tsend_raw(t, m, n);
}

static int tunnel_congested(const struct tunnel *t)
{
	return stream_queued(t->st) > t->srv->lim.max_inflight;
}

/* ---------------------------------------------------------------- channels */

static struct channel *chan_find(struct tunnel *t, uint16_t id)
{
	for (struct channel *c = t->chans; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void chan_unlink(struct channel *c)
{
	struct tunnel *t = c->t;

	for (struct channel **pp = &t->chans; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			t->nchans--;
			return;
		}
}

/* Frees the channel and journals why. The message to the client is the caller's. */
static void chan_free(struct channel *c, const char *reason)
{
	struct tunnel *t = c->t;

	journal_emit(t->srv->j, "channel.close",
	             "{s:I, s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "tunnel",
	             (json_int_t)t->id, "channel", c->id, "kind", c->kind == CH_SIP ? "sip" : "udp",
	             "reason", reason, "bytes_in", (json_int_t)c->bytes_in, "bytes_out",
	             (json_int_t)c->bytes_out, "datagrams_in", (json_int_t)c->dgrams_in,
	             "datagrams_out", (json_int_t)c->dgrams_out, "dropped", (json_int_t)c->dropped,
	             "local", t->local);
	log_debug("tunnel %llu channel %u closed: %s", (unsigned long long)t->id, c->id, reason);
	chan_unlink(c);
	evloop_timer_cancel(t->srv->loop, c->timer);
	stream_free(c->up);
	if (c->fd >= 0) {
		evloop_fd_del(t->srv->loop, c->fd);
		close(c->fd);
	}
	free(c);
}

/* Ends a channel from the server side with ERROR (code) or CLOSE (code 0). */
static void channel_end(struct channel *c, int code, const char *text)
{
	struct tunnel *t = c->t;
	char reason[256];

	if (code) {
		tsend_error(t, c->id, code, text);
		snprintf(reason, sizeof(reason), "%s: %s", tl_code_name(code), text);
	} else {
		(void)tsend(t, TL_CLOSE, c->id, text, strlen(text));
		str_copy(reason, text, sizeof(reason));
	}
	chan_free(c, reason);
}

static void send_credit(struct channel *c)
{
	uint8_t m[TL_HDR + 4];

	if (!c->credit_due)
		return;
	if (tsend_raw(c->t, m, tl_build_window(m, sizeof(m), c->id, c->credit_due)) == 0) {
		c->recv_window += c->credit_due;
		c->credit_due = 0;
	}
}

static void sip_pump(struct channel *c)
{
	uint8_t buf[TL_MAX_PAYLOAD];
	struct tunnel *t = c->t;

	for (int i = 0; i < 16; i++) {
		size_t want = sizeof(buf);
		ssize_t n;
		if (c->send_window <= 0 || tunnel_congested(t)) {
			stream_pause(c->up, 1);
			return;
		}
		if ((int64_t)want > c->send_window)
			want = (size_t)c->send_window;
		n = stream_read(c->up, buf, want);
		if (n == STREAM_AGAIN)
			return;
		if (n == 0) {
			/* The endpoint's SIP flow is gone either way (docs §4): an error, not a CLOSE. */
			channel_end(c, TL_E_REMOTE_RESET, "SIP server closed the connection");
			return;
		}
		if (n < 0) {
			channel_end(c, TL_E_REMOTE_RESET, stream_errstr(c->up));
			return;
		}
		c->send_window -= n;
		c->bytes_out += (uint64_t)n;
		c->last_ms = evloop_now_ms();
		if (tsend(t, TL_SIP_DATA, c->id, buf, (size_t)n)) {
			tunnel_close(t, WS_CLOSE_INTERNAL, "output queue overflow");
			return;
		}
	}
}

static void sip_readable(struct stream *s, void *arg)
{
	(void)s;
	sip_pump(arg);
}

static void sip_event(struct stream *s, enum stream_event ev, int err, const char *what, void *arg)
{
	struct channel *c = arg;
	char addr[SOCK_ADDR_STRLEN] = "";

	(void)s;
	if (ev == STREAM_UP) {
		struct sock_addr la;
		evloop_timer_cancel(c->t->srv->loop, c->timer);
		c->timer = 0;
		c->state = CHS_OPEN;
		if (sock_local(stream_fd(c->up), &la) == 0)
			sock_addr_str(&la, addr, sizeof(addr));
		(void)tsend(c->t, TL_OPENED, c->id, addr, strlen(addr));
		send_credit(c);
		return;
	}
	if (ev == STREAM_DRAINED) {
		if (c->state == CHS_CLOSING && stream_queued(c->up) == 0) {
			(void)tsend(c->t, TL_CLOSE, c->id, NULL, 0);
			chan_free(c, "closed by client");
			return;
		}
		send_credit(c);
		return;
	}
	if (c->state == CHS_OPENING)
		channel_end(c, err == EPROTO ? TL_E_TLS_FAILED : TL_E_CONNECT_FAILED, what);
	else if (c->state == CHS_CLOSING) {
		(void)tsend(c->t, TL_CLOSE, c->id, NULL, 0);
		chan_free(c, "closed by client");
	} else
		channel_end(c, TL_E_REMOTE_RESET, what);
}

static void chan_timeout(void *arg)
{
	struct channel *c = arg;

	c->timer = 0;
	if (c->state == CHS_OPENING)
		channel_end(c, TL_E_CONNECT_TIMEOUT, "connect timed out");
	else if (c->state == CHS_CLOSING) {
		(void)tsend(c->t, TL_CLOSE, c->id, NULL, 0);
		chan_free(c, "closed by client (flush timed out)");
	}
}

static int resolve_default(const char *host, uint16_t port, int socktype, struct sock_addr *sa)
{
	char hp[TL_MAX_HOST + 10];

	snprintf(hp, sizeof(hp), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	if (sock_addr_parse(sa, hp, port) == 0)
		return 0;
	/* getaddrinfo blocks the loop; the lab's DNS answers from the same machine. */
	return sock_addr_resolve(sa, hp, port, socktype);
}

/* Refuses destinations no SIP server or media relay has (docs §7 FORBIDDEN). */
static int dest_forbidden(const struct sock_addr *sa)
{
	if (sock_addr_port(sa) == 0)
		return 1;
	if (sa->ss.ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)&sa->ss)->sin_addr.s_addr);
		return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe;
	}
	if (sa->ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&sa->ss)->sin6_addr;
		return IN6_IS_ADDR_MULTICAST(a) || IN6_IS_ADDR_UNSPECIFIED(a);
	}
	return 1;
}

static void udp_readable(int fd, uint32_t events, void *arg)
{
	struct channel *c = arg;
	uint8_t buf[TL_MAX_PAYLOAD + 1];

	(void)events;
	for (int i = 0; i < UDP_BATCH; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
				log_debug("udp channel %u: %s", c->id, strerror(errno));
			return;
		}
		if (n > TL_MAX_PAYLOAD || tunnel_congested(c->t)) {
			c->dropped++;
			continue;
		}
		c->last_ms = evloop_now_ms();
		if (tsend(c->t, TL_UDP_DATA, c->id, buf, (size_t)n)) {
			c->dropped++;
			continue;
		}
		c->dgrams_out++;
		c->bytes_out += (uint64_t)n;
	}
}

/* The tunnel's local address with port 0, when it has the destination's family. */
static int tunnel_source(const struct tunnel *t, const struct sock_addr *dst, struct sock_addr *src)
{
	if (sock_local(stream_fd(t->st), src) || src->ss.ss_family != dst->ss.ss_family)
		return -1;
	if (src->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&src->ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&src->ss)->sin6_port = 0;
	return 0;
}

static void chan_open(struct tunnel *t, const struct tl_msg *m)
{
	struct tlsrv *srv = t->srv;
	struct channel *c;
	struct sock_addr sa, src;
	int fd = -1, code = 0, have_src;
	const char *why = "";
	char addr[SOCK_ADDR_STRLEN] = "";

	if (chan_find(t, m->channel)) {
		tsend_error(t, m->channel, TL_E_CHANNEL_IN_USE, "channel is open");
		return;
	}
	if (t->nchans >= srv->lim.max_channels) {
		tsend_error(t, m->channel, TL_E_TOO_MANY_CHANNELS, "channel limit reached");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		tsend_error(t, m->channel, TL_E_INTERNAL, "out of memory");
		return;
	}
	c->t = t;
	c->id = m->channel;
	c->fd = -1;
	c->kind = m->type == TL_OPEN_SIP ? CH_SIP : CH_UDP;
	c->state = CHS_OPENING;
	str_copy(c->host, m->host, sizeof(c->host));
	c->port = m->port;
	c->transport = m->transport;
	c->send_window = TL_INITIAL_WINDOW;
	c->recv_window = TL_INITIAL_WINDOW;
	c->last_ms = evloop_now_ms();
	c->next = t->chans;
	t->chans = c;
	t->nchans++;
	journal_emit(srv->j, "channel.open", "{s:s, s:I, s:i, s:s, s:s, s:i, s:s}", "local",
	             t->local, "tunnel", (json_int_t)t->id, "channel", c->id, "kind",
	             c->kind == CH_SIP ? "sip" : "udp", "host", c->host, "port", c->port,
	             "transport",
	             c->kind == CH_UDP                ? "udp"
	                     : c->transport == TL_TLS ? "tls"
	                                              : "tcp");
	if (srv->resolve(c->host, c->port, c->kind == CH_SIP ? SOCK_STREAM : SOCK_DGRAM, &sa)) {
		code = TL_E_RESOLVE_FAILED;
		why = "host does not resolve";
		goto out;
	}
	if (dest_forbidden(&sa)) {
		code = TL_E_FORBIDDEN;
		why = "destination not allowed";
		goto out;
	}
	/* Leave from the address the tunnel came in on: a SIP server or media relay sees the
	 * TeamLink server's own host address, not whichever address the route prefers. */
	have_src = tunnel_source(t, &sa, &src) == 0;
	if (c->kind == CH_SIP) {
		SSL *ssl = NULL;
		int err;
		fd = sock_connect_tcp_from(&sa, have_src ? &src : NULL);
		if (fd < 0) {
			code = TL_E_CONNECT_FAILED;
			why = strerror(-fd);
			fd = -1;
			goto out;
		}
		if (c->transport == TL_TLS) {
			ssl = tls_client_ssl(srv->tls_up, fd, c->host);
			if (!ssl) {
				code = TL_E_INTERNAL;
				why = "TLS session";
				goto out;
			}
		}
		err = stream_alloc(&c->up, srv->loop, fd, ssl, 1, ssl != NULL,
		                   4 * TL_INITIAL_WINDOW, sip_readable, sip_event, c);
		if (err) {
			SSL_free(ssl);
			code = TL_E_INTERNAL;
			why = strerror(err);
			goto out;
		}
		fd = -1;
		c->timer =
		        evloop_timer_add(srv->loop, srv->lim.connect_timeout_ms, chan_timeout, c);
		return;
	}
	{
		struct sock_addr any = {0};
		any.ss.ss_family = sa.ss.ss_family;
		any.len = sa.len;
		fd = sock_bind_udp(have_src ? &src : &any);
		if (fd < 0) {
			code = TL_E_INTERNAL;
			why = strerror(-fd);
			fd = -1;
			goto out;
		}
		/* A connected UDP socket: the kernel passes only the remote's datagrams. */
		if (connect(fd, (struct sockaddr *)&sa.ss, sa.len) < 0 ||
		    evloop_fd_add(srv->loop, fd, EPOLLIN, udp_readable, c)) {
			code = TL_E_INTERNAL;
			why = strerror(errno);
			goto out;
		}
		c->fd = fd;
		fd = -1;
		c->state = CHS_OPEN;
		if (sock_local(c->fd, &sa) == 0)
			sock_addr_str(&sa, addr, sizeof(addr));
		(void)tsend(t, TL_OPENED, c->id, addr, strlen(addr));
	}
out:
	if (fd >= 0)
		close(fd);
	if (code)
		channel_end(c, code, why);
}

static void chan_data(struct tunnel *t, const struct tl_msg *m)
{
	struct channel *c = chan_find(t, m->channel);

	if (!c || c->state == CHS_CLOSING)
		return; /* a race with a close: dropped (docs §4) */
	c->last_ms = evloop_now_ms();
	if (m->type == TL_UDP_DATA) {
		if (c->kind != CH_UDP) {
			channel_end(c, TL_E_BAD_MESSAGE, "UDP_DATA on a SIP channel");
			return;
		}
		if (send(c->fd, m->data, m->len, MSG_DONTWAIT) < 0) {
			c->dropped++;
			return;
		}
		c->dgrams_in++;
		c->bytes_in += m->len;
		return;
	}
	if (c->kind != CH_SIP) {
		channel_end(c, TL_E_BAD_MESSAGE, "SIP_DATA on a UDP channel");
		return;
	}
	if ((int64_t)m->len > c->recv_window) {
		channel_end(c, TL_E_FLOW_CONTROL, "SIP_DATA beyond the window");
		return;
	}
	c->recv_window -= (int64_t)m->len;
	if (stream_write(c->up, m->data, m->len)) {
		channel_end(c, TL_E_INTERNAL, "upstream queue");
		return;
	}
	c->bytes_in += m->len;
	c->credit_due += (uint32_t)m->len;
	/* Credit goes back once the bytes are on their way (queue low), else on DRAINED. */
	if (c->state == CHS_OPEN && stream_queued(c->up) < TL_INITIAL_WINDOW)
		send_credit(c);
}

static void chan_close_req(struct tunnel *t, const struct tl_msg *m)
{
	struct channel *c = chan_find(t, m->channel);

	if (!c || c->state == CHS_CLOSING)
		return;
	if (c->kind == CH_SIP && c->state == CHS_OPEN && stream_queued(c->up)) {
		/* flush what the client sent first, for at most 2 s */
		c->state = CHS_CLOSING;
		stream_pause(c->up, 1);
		evloop_timer_cancel(t->srv->loop, c->timer);
		c->timer = evloop_timer_add(t->srv->loop, 2000, chan_timeout, c);
		return;
	}
	{
		char reason[160];
		snprintf(reason, sizeof(reason), "closed by client%s%.*s", m->len ? ": " : "",
		         (int)m->len, (const char *)m->data);
		(void)tsend(t, TL_CLOSE, c->id, NULL, 0);
		chan_free(c, reason);
	}
}

static void chan_window(struct tunnel *t, const struct tl_msg *m)
{
	struct channel *c = chan_find(t, m->channel);

	if (!c || c->kind != CH_SIP)
		return;
	if (c->send_window + m->increment > TL_MAX_WINDOW) {
		channel_end(c, TL_E_FLOW_CONTROL, "window over 2^31-1");
		return;
	}
	c->send_window += m->increment;
	if (c->state == CHS_OPEN) {
		stream_pause(c->up, 0);
	}
}

/* ---------------------------------------------------------------- tunnel input */

/* Returns -1 when the message closed the tunnel (t is gone). */
static int tunnel_message(struct tunnel *t, const uint8_t *p, size_t n)
{
	struct tl_msg m;
	int rc = tl_parse(p, n, &m);

	if (rc) {
		if (n < TL_HDR) {
			tsend_error(t, 0, TL_E_BAD_MESSAGE, "message shorter than 3 bytes");
			tunnel_close(t, WS_CLOSE_PROTOCOL, "bad message");
			return -1;
		}
		{
			struct channel *c = m.channel ? chan_find(t, m.channel) : NULL;
			if (c)
				channel_end(c, rc, "malformed message");
			else
				tsend_error(t, m.channel, rc, "malformed message");
		}
		return 0;
	}
	t->bytes_in += m.len;
	switch (m.type) {
	case TL_OPEN_SIP:
	case TL_OPEN_UDP:
		chan_open(t, &m);
		break;
	case TL_SIP_DATA:
	case TL_UDP_DATA:
		chan_data(t, &m);
		break;
	case TL_CLOSE:
		chan_close_req(t, &m);
		break;
	case TL_ERROR: {
		struct channel *c = chan_find(t, m.channel);
		if (m.channel == 0) {
			tunnel_close(t, WS_CLOSE_NORMAL, "client sent ERROR on channel 0");
			return -1;
		}
		if (c)
			chan_free(c, "client sent ERROR");
		break;
	}
	case TL_WINDOW:
		chan_window(t, &m);
		break;
	default: { /* OPENED from a client */
		struct channel *c = chan_find(t, m.channel);
		if (c)
			channel_end(c, TL_E_BAD_MESSAGE, "unexpected message type");
		else
			tsend_error(t, m.channel, TL_E_BAD_MESSAGE, "unexpected message type");
	}
	}
	return 0;
}

static void send_control(struct tunnel *t, enum ws_op op, const void *p, size_t n)
{
	uint8_t hdr[WS_MAX_HEADER];
	size_t hl = ws_frame_header(hdr, op, 1, n, NULL);

	(void)stream_write2(t->st, hdr, hl, p, n);
}

/* Returns 0 to go on, -1 when the tunnel is gone. */
static int tunnel_parse(struct tunnel *t)
{
	size_t off = 0;

	while (off < t->inlen) {
		struct ws_msg m;
		size_t used;
		int rc = ws_read(t->wr, t->in + off, t->inlen - off, &used, &m);
		off += used;
		if (rc < 0) {
			tunnel_close(t, ws_reader_status(t->wr), ws_reader_error(t->wr));
			return -1;
		}
		if (rc == 0) {
			if (used)
				continue;
			break;
		}
		switch (m.op) {
		case WS_OP_BINARY:
			if (tunnel_message(t, m.data, m.len))
				return -1;
			break;
		case WS_OP_TEXT:
			tunnel_close(t, WS_CLOSE_UNSUPPORTED, "text message");
			return -1;
		case WS_OP_PING:
			send_control(t, WS_OP_PONG, m.data, m.len);
			break;
		case WS_OP_PONG:
			break;
		case WS_OP_CLOSE: {
			int st;
			const char *r;
			size_t rl;
			char reason[160];
			if (ws_close_parse(m.data, m.len, &st, &r, &rl)) {
				tunnel_close(t, WS_CLOSE_PROTOCOL, "bad close frame");
				return -1;
			}
			snprintf(reason, sizeof(reason), "client closed (%d%s%.*s)", st,
			         rl ? " " : "", (int)(rl > 100 ? 100 : rl), r ? r : "");
			tunnel_close(t, WS_CLOSE_NORMAL, reason);
			return -1;
		}
		default:
			break;
		}
	}
	if (off) {
		memmove(t->in, t->in + off, t->inlen - off);
		t->inlen -= off;
	}
	return 0;
}

static void tunnel_readable(struct stream *s, void *arg)
{
	struct tunnel *t = arg;
	const size_t cap = TL_MAX_MSG + WS_MAX_HEADER;

	for (int i = 0; i < 64; i++) {
		ssize_t n = stream_read(s, t->in + t->inlen, cap - t->inlen);
		if (n == STREAM_AGAIN)
			return;
		if (n == 0) {
			tunnel_close(t, 0, "connection closed by client");
			return;
		}
		if (n < 0) {
			tunnel_close(t, 0, stream_errstr(s));
			return;
		}
		t->inlen += (size_t)n;
		t->last_rx_ms = evloop_now_ms();
		t->pinged = 0;
		if (tunnel_parse(t))
			return;
	}
}

static void tunnel_event(struct stream *s, enum stream_event ev, int err, const char *what,
                         void *arg)
{
	struct tunnel *t = arg;

	(void)s;
	(void)err;
	if (ev == STREAM_DRAINED) {
		/* room again: SIP channels with window resume reading */
		for (struct channel *c = t->chans; c; c = c->next)
			if (c->kind == CH_SIP && c->state == CHS_OPEN && c->send_window > 0)
				stream_pause(c->up, 0);
		return;
	}
	if (ev == STREAM_ERROR)
		tunnel_close(t, 0, what);
}

/* status 0: the connection is already gone, send nothing. */
static void tunnel_close(struct tunnel *t, int status, const char *reason)
{
	struct tlsrv *srv = t->srv;

	if (t->closing)
		return;
	t->closing = 1;
	while (t->chans) {
		struct channel *c = t->chans;
		if (status)
			tsend_error(t, c->id,
			            status == WS_CLOSE_GOING_AWAY ? TL_E_SHUTTING_DOWN
			                                          : TL_E_REMOTE_RESET,
			            "tunnel closing");
		chan_free(c, "tunnel closed");
	}
	if (status) {
		uint8_t p[2 + 100];
		size_t rl = strlen(reason) > 100 ? 100 : strlen(reason);
		p[0] = (uint8_t)(status >> 8);
		p[1] = (uint8_t)status;
		memcpy(p + 2, reason, rl);
		send_control(t, WS_OP_CLOSE, p, 2 + rl);
	}
	journal_emit(srv->j, "tunnel.close", "{s:s, s:I, s:s, s:s, s:s, s:I, s:I}", "local",
	             t->local, "tunnel", (json_int_t)t->id, "client", t->client, "scheme",
	             t->scheme, "reason", reason, "bytes_in", (json_int_t)t->bytes_in, "bytes_out",
	             (json_int_t)t->bytes_out);
	log_info("tunnel %llu from %s closed: %s", (unsigned long long)t->id, t->client, reason);
	if (t->prev)
		t->prev->next = t->next;
	else
		srv->tunnels = t->next;
	if (t->next)
		t->next->prev = t->prev;
	srv->ntunnels--;
	/* Best effort: what is queued (the close frame) goes out if the socket takes it now. */
	stream_free(t->st);
	ws_reader_free(t->wr);
	free(t->in);
	free(t);
}

static void tunnel_tick(struct tunnel *t, uint64_t now)
{
	struct channel *c, *next;

	/* a client is always pinged once before it is given up on */
	if (t->pinged && now - t->last_rx_ms >= t->srv->lim.dead_after_ms) {
		tunnel_close(t, WS_CLOSE_GOING_AWAY, "keepalive timeout");
		return;
	}
	if (!t->pinged && now - t->last_rx_ms >= t->srv->lim.ping_after_ms) {
		send_control(t, WS_OP_PING, "tl", 2);
		t->pinged = 1;
	}
	for (c = t->chans; c; c = next) {
		next = c->next;
		if (c->kind == CH_UDP && now - c->last_ms >= t->srv->lim.udp_idle_ms)
			channel_end(c, TL_E_IDLE_TIMEOUT, "no datagram either way");
	}
}

/* ---------------------------------------------------------------- HTTP front end */

static void hconn_free(struct hconn *h)
{
	struct tlsrv *srv = h->srv;

	if (h->prev)
		h->prev->next = h->next;
	else
		srv->conns = h->next;
	if (h->next)
		h->next->prev = h->prev;
	srv->nconns--;
	evloop_timer_cancel(srv->loop, h->timer);
	stream_free(h->st);
	free(h);
}

static void respond(struct hconn *h, int status, const char *reason, const char *extra_hdrs,
                    const char *body)
{
	char buf[1024];
	int n = snprintf(
	        buf, sizeof(buf),
	        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	        "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n%s",
	        status, reason, strlen(body), extra_hdrs ? extra_hdrs : "", body);

	if (n < 0 || (size_t)n >= sizeof(buf) || stream_write(h->st, buf, (size_t)n)) {
		hconn_free(h);
		return;
	}
	h->closing = 1;
	stream_pause(h->st, 1);
	if (stream_queued(h->st) == 0)
		hconn_free(h);
}

static const char *status_text(int st)
{
	switch (st) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

static void reject(struct hconn *h, int status, const char *error)
{
	char body[128];
	const char *extra = NULL;

	journal_emit(h->srv->j, "upgrade.reject", "{s:s, s:s, s:i, s:s, s:s}", "local", h->local,
	             "client", h->client, "status", status, "reason", error, "scheme",
	             h->ls->tls ? "https" : "http");
	log_info("%s: %d %s", h->client, status, error);
	if (status == 401)
		extra = "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n";
	else if (status == 426)
		extra = "Sec-WebSocket-Version: 13\r\n";
	else if (status == 503)
		extra = "Retry-After: 5\r\n";
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", error);
	respond(h, status, status_text(status), extra, body);
}

static void http_error(struct hconn *h, int status, const char *error)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", error);
	respond(h, status, status_text(status),
	        status == 401 ? "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n" : NULL,
	        body);
}

static void become_tunnel(struct hconn *h, const struct upgrade_res *u, size_t headlen)
{
	struct tlsrv *srv = h->srv;
	struct tunnel *t = NULL;
	char resp[512];
	int n;

	t = calloc(1, sizeof(*t));
	if (!t || ws_reader_alloc(&t->wr, 1, TL_MAX_MSG) ||
	    !(t->in = malloc(TL_MAX_MSG + WS_MAX_HEADER))) {
		if (t)
			ws_reader_free(t->wr);
		free(t);
		reject(h, 503, "out_of_memory");
		return;
	}
	n = snprintf(resp, sizeof(resp),
	             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	             "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
	             "Sec-WebSocket-Protocol: " TL_SUBPROTOCOL "\r\n\r\n",
	             u->accept);
	t->srv = srv;
	t->id = ++srv->next_tunnel_id;
	t->st = h->st;
	h->st = NULL;
	str_copy(t->client, h->client, sizeof(t->client));
	str_copy(t->local, h->local, sizeof(t->local));
	str_copy(t->user, u->user, sizeof(t->user));
	t->scheme = h->ls->tls ? "https" : "http";
	t->via_proxy = u->via_proxy;
	t->last_rx_ms = evloop_now_ms();
	/* frames the client sent right behind its request */
	t->inlen = h->inlen - headlen;
	if (t->inlen > TL_MAX_MSG + WS_MAX_HEADER)
		t->inlen = TL_MAX_MSG + WS_MAX_HEADER;
	memcpy(t->in, h->in + headlen, t->inlen);
	t->next = srv->tunnels;
	if (srv->tunnels)
		srv->tunnels->prev = t;
	srv->tunnels = t;
	srv->ntunnels++;
	hconn_free(h);
	stream_set_handlers(t->st, tunnel_readable, tunnel_event, t);
	(void)stream_write(t->st, resp, (size_t)n);
	stream_pause(t->st, 0);
	journal_emit(srv->j, "tunnel.open", "{s:s, s:I, s:s, s:s, s:b, s:s}", "local", t->local,
	             "tunnel", (json_int_t)t->id, "client", t->client, "scheme", t->scheme,
	             "via_proxy", t->via_proxy, "user", t->user);
	log_info("tunnel %llu open from %s (%s%s) user %s", (unsigned long long)t->id, t->client,
	         t->scheme, t->via_proxy ? ", via proxy" : "", t->user);
	if (t->inlen)
		(void)tunnel_parse(t);
}

static void tcm_assign(struct hconn *h, const struct http_req *r)
{
	struct tlsrv *srv = h->srv;
	struct tcm_server *best = NULL;
	char user[128], body[512];
	const char *error = NULL;

	if (http_auth_bearer(r, srv->secret, srv->secretlen, time(NULL), user, sizeof(user),
	                     &error)) {
		journal_emit(srv->j, "tcm.reject", "{s:s, s:s, s:i, s:s}", "local", h->local,
		             "client", h->client, "status", 401, "reason", error);
		http_error(h, 401, error);
		return;
	}
	/* least loaded healthy server; ties broken round-robin from the last choice */
	for (unsigned k = 0; k < srv->ntcm; k++) {
		struct tcm_server *s = &srv->tcm[(srv->rr + k) % srv->ntcm];
		if (!s->healthy)
			continue;
		if (!best || s->assigned < best->assigned)
			best = s;
	}
	if (!best) {
		journal_emit(srv->j, "tcm.assign", "{s:s, s:s, s:n, s:s}", "local", h->local,
		             "client", h->client, "server", "user", user);
		http_error(h, 503, "no_server");
		return;
	}
	srv->rr = (unsigned)(best - srv->tcm + 1) % srv->ntcm;
	best->assigned++;
	snprintf(body, sizeof(body), "{\"server\":\"%s\",\"port\":%u,\"scheme\":\"%s\"}",
	         best->host, best->port, best->scheme);
	journal_emit(srv->j, "tcm.assign", "{s:s, s:s, s:s, s:i, s:s, s:s}", "local", h->local,
	             "client", h->client, "server", best->host, "port", best->port, "scheme",
	             best->scheme, "user", user);
	respond(h, 200, "OK", NULL, body);
}

static void dispatch(struct hconn *h, size_t headlen)
{
	struct tlsrv *srv = h->srv;
	struct http_req *r = malloc(sizeof(*r));
	struct upgrade_res u;
	int rc;

	if (!r) {
		hconn_free(h);
		return;
	}
	rc = http_req_parse(h->in, headlen, r);
	if (rc) {
		reject(h, rc, rc == 431 ? "headers_too_large" : "bad_request");
		goto out;
	}
	if (!strcmp(r->path, "/healthz")) {
		if (strcmp(r->method, "GET"))
			http_error(h, 405, "method_not_allowed");
		else
			respond(h, 200, "OK", NULL, "{\"ok\":true}");
		goto out;
	}
	if ((h->ls->roles & TLSRV_ROLE_TCM) && !strcmp(r->path, "/tcm/v1/assign")) {
		if (strcmp(r->method, "GET"))
			http_error(h, 405, "method_not_allowed");
		else
			tcm_assign(h, r);
		goto out;
	}
	if (!(h->ls->roles & TLSRV_ROLE_TUNNEL)) {
		http_error(h, 404, "not_found");
		goto out;
	}
	if (upgrade_check(r, srv->secret, srv->secretlen, time(NULL), &u) != 101) {
		reject(h, u.status, u.error);
		goto out;
	}
	if (srv->ntunnels >= srv->lim.max_tunnels) {
		reject(h, 503, "too_many_tunnels");
		goto out;
	}
	become_tunnel(h, &u, headlen);
out:
	free(r);
}

static void hconn_readable(struct stream *s, void *arg)
{
	struct hconn *h = arg;

	if (h->closing)
		return;
	for (int i = 0; i < 16; i++) {
		char *e;
		ssize_t n;
		if (h->inlen >= HTTPREQ_MAX_HEAD) {
			reject(h, 431, "headers_too_large");
			return;
		}
		n = stream_read(s, h->in + h->inlen, HTTPREQ_MAX_HEAD - h->inlen);
		if (n == STREAM_AGAIN)
			return;
		if (n <= 0) {
			hconn_free(h);
			return;
		}
		h->inlen += (size_t)n;
		h->in[h->inlen] = '\0';
		e = memmem(h->in, h->inlen, "\r\n\r\n", 4);
		if (e) {
			stream_pause(s, 1);
			dispatch(h, (size_t)(e - h->in) + 4);
			return;
		}
	}
}

static void hconn_event(struct stream *s, enum stream_event ev, int err, const char *what,
                        void *arg)
{
	struct hconn *h = arg;

	(void)s;
	(void)err;
	if (ev == STREAM_UP)
		return;
	if (ev == STREAM_DRAINED) {
		if (h->closing && stream_queued(h->st) == 0)
			hconn_free(h);
		return;
	}
	log_debug("%s: %s", h->client, what);
	hconn_free(h);
}

static void hconn_timeout(void *arg)
{
	struct hconn *h = arg;

	h->timer = 0;
	if (h->closing || !stream_is_up(h->st)) {
		hconn_free(h);
		return;
	}
	reject(h, 408, "request_timeout");
}

/* Takes cfd: serves it, or closes it. */
static void conn_start(struct listener *ls, int cfd, const char *client)
{
	struct tlsrv *srv = ls->srv;
	struct hconn *h;
	struct sock_addr la;
	SSL *ssl = NULL;

	if (srv->nconns >= srv->lim.max_conns) {
		close(cfd);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (ls->tls) {
		ssl = SSL_new(srv->tls);
		if (ssl) {
			SSL_set_fd(ssl, cfd);
			SSL_set_accept_state(ssl);
		}
	}
	if (!h || (ls->tls && !ssl) ||
	    stream_alloc(&h->st, srv->loop, cfd, ssl, 0, ls->tls, 4 * srv->lim.max_inflight,
	                 hconn_readable, hconn_event, h)) {
		SSL_free(ssl);
		close(cfd);
		free(h);
		return;
	}
	h->srv = srv;
	h->ls = ls;
	str_copy(h->client, client, sizeof(h->client));
	/* One process serves every TCM and TeamLink address: the accepted socket's local
	 * address is which one the client reached. */
	if (sock_local(cfd, &la) == 0)
		sock_addr_str(&la, h->local, sizeof(h->local));
	h->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = h;
	srv->conns = h;
	srv->nconns++;
	h->timer = evloop_timer_add(srv->loop, srv->lim.head_timeout_ms, hconn_timeout, h);
}

static void on_accept(int fd, uint32_t events, void *arg)
{
	struct listener *ls = arg;

	(void)events;
	for (int i = 0; i < 32; i++) {
		struct sock_addr peer = {.len = sizeof(peer.ss)};
		char client[SOCK_ADDR_STRLEN];
		int cfd = accept4(fd, (struct sockaddr *)&peer.ss, &peer.len,
		                  SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		conn_start(ls, cfd, sock_addr_str(&peer, client, sizeof(client)));
	}
}

/* ---------------------------------------------------------------- TCM health checks */

static void probe_done(struct tcm_server *s, int ok)
{
	struct tlsrv *srv = s->srv;

	if (s->probe_fd >= 0) {
		evloop_fd_del(srv->loop, s->probe_fd);
		close(s->probe_fd);
		s->probe_fd = -1;
	}
	evloop_timer_cancel(srv->loop, s->probe_timer);
	s->probe_timer = 0;
	if (ok != s->healthy || !s->checked)
		journal_emit(srv->j, "tcm.health", "{s:s, s:i, s:b}", "server", s->host, "port",
		             s->port, "healthy", ok);
	if (ok != s->healthy)
		log_info("teamlink server %s:%u is %s", s->host, s->port, ok ? "up" : "down");
	s->healthy = ok;
	s->checked = 1;
}

static void probe_io(int fd, uint32_t events, void *arg)
{
	(void)events;
	probe_done(arg, sock_connect_result(fd) == 0);
}

static void probe_timeout(void *arg)
{
	struct tcm_server *s = arg;

	s->probe_timer = 0;
	probe_done(s, 0);
}

static void health_round(void *arg)
{
	struct tlsrv *srv = arg;
	uint64_t now = evloop_now_ms();

	srv->health_timer =
	        evloop_timer_add(srv->loop, srv->lim.health_interval_ms, health_round, srv);
	if (now - srv->window_start_ms >= 60000) {
		for (unsigned i = 0; i < srv->ntcm; i++)
			srv->tcm[i].assigned = 0;
		srv->window_start_ms = now;
	}
	for (unsigned i = 0; i < srv->ntcm; i++) {
		struct tcm_server *s = &srv->tcm[i];
		struct sock_addr sa;
		char hp[300];
		int fd;
		if (s->probe_fd >= 0)
			continue; /* previous probe still pending */
		snprintf(hp, sizeof(hp), strchr(s->host, ':') ? "[%s]:%u" : "%s:%u", s->host,
		         s->port);
		if (sock_addr_parse(&sa, hp, s->port) &&
		    sock_addr_resolve(&sa, hp, s->port, SOCK_STREAM)) {
			probe_done(s, 0);
			continue;
		}
		fd = sock_connect_tcp(&sa);
		if (fd < 0) {
			probe_done(s, 0);
			continue;
		}
		if (evloop_fd_add(srv->loop, fd, EPOLLOUT, probe_io, s)) {
			close(fd);
			probe_done(s, 0);
			continue;
		}
		s->probe_fd = fd;
		s->probe_timer = evloop_timer_add(srv->loop, 2000, probe_timeout, s);
	}
}

int tlsrv_add_tcm_server(struct tlsrv *s, const char *spec)
{
	struct tcm_server *t;
	const char *c2, *c1;
	char *ep;
	unsigned long port;
	size_t hl;

	if (!s || !spec || s->ntcm >= MAX_TCM_SERVERS)
		return EINVAL;
	c2 = strrchr(spec, ':');
	if (!c2)
		return EINVAL;
	c1 = c2 - 1;
	while (c1 > spec && *c1 != ':')
		c1--;
	if (c1 <= spec || (strcmp(c2 + 1, "https") && strcmp(c2 + 1, "http")))
		return EINVAL;
	port = strtoul(c1 + 1, &ep, 10);
	if (ep != c2 || port == 0 || port > 65535)
		return EINVAL;
	hl = (size_t)(c1 - spec);
	if (spec[0] == '[' && c1[-1] == ']') {
		spec++;
		hl -= 2;
	}
	t = &s->tcm[s->ntcm];
	memset(t, 0, sizeof(*t));
	if (hl == 0 || hl >= sizeof(t->host))
		return EINVAL;
	memcpy(t->host, spec, hl);
	t->host[hl] = '\0';
	t->port = (uint16_t)port;
	str_copy(t->scheme, c2 + 1, sizeof(t->scheme));
	t->healthy = 1; /* until the first check says otherwise */
	t->probe_fd = -1;
	t->srv = s;
	s->ntcm++;
	if (!s->health_timer)
		s->health_timer = evloop_timer_add(s->loop, 0, health_round, s);
	return 0;
}

/* ---------------------------------------------------------------- server */

static void on_tick(void *arg)
{
	struct tlsrv *srv = arg;
	uint64_t now = evloop_now_ms();
	struct tunnel *t, *next;

	srv->tick = evloop_timer_add(srv->loop, TICK_MS, on_tick, srv);
	for (t = srv->tunnels; t; t = next) {
		next = t->next;
		tunnel_tick(t, now);
	}
}

void tlsrv_limits_default(struct tlsrv_limits *l)
{
	l->max_tunnels = 256;
	l->max_channels = 64;
	l->max_inflight = 1u << 20;
	l->head_timeout_ms = 10000;
	l->connect_timeout_ms = 5000;
	l->ping_after_ms = 20000;
	l->dead_after_ms = 60000;
	l->udp_idle_ms = 120000;
	l->health_interval_ms = 5000;
	l->max_conns = 512;
}

int tlsrv_alloc(struct tlsrv **sp, struct evloop *loop, struct journal *j, SSL_CTX *tls_server,
                SSL_CTX *tls_upstream, const struct tlsrv_limits *lim)
{
	struct tlsrv *s;

	if (!sp || !loop || !tls_upstream)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->loop = loop;
	s->j = j;
	s->tls = tls_server;
	s->tls_up = tls_upstream;
	if (lim)
		s->lim = *lim;
	else
		tlsrv_limits_default(&s->lim);
	s->window_start_ms = evloop_now_ms();
	s->resolve = resolve_default;
	s->tick = evloop_timer_add(loop, TICK_MS, on_tick, s);
	*sp = s;
	return 0;
}

void tlsrv_shutdown(struct tlsrv *s)
{
	if (!s)
		return;
	while (s->tunnels)
		tunnel_close(s->tunnels, WS_CLOSE_GOING_AWAY, "server shutting down");
	while (s->conns)
		hconn_free(s->conns);
}

void tlsrv_free(struct tlsrv *s)
{
	if (!s)
		return;
	tlsrv_shutdown(s);
	for (unsigned i = 0; i < s->nls; i++) {
		if (s->ls[i].fd < 0)
			continue;
		evloop_fd_del(s->loop, s->ls[i].fd);
		close(s->ls[i].fd);
	}
	for (unsigned i = 0; i < s->ntcm; i++) {
		s->tcm[i].checked = 1;
		if (s->tcm[i].probe_fd >= 0) {
			evloop_fd_del(s->loop, s->tcm[i].probe_fd);
			close(s->tcm[i].probe_fd);
		}
		evloop_timer_cancel(s->loop, s->tcm[i].probe_timer);
	}
	evloop_timer_cancel(s->loop, s->health_timer);
	evloop_timer_cancel(s->loop, s->tick);
	free(s->secret);
	free(s);
}

int tlsrv_set_secret(struct tlsrv *s, const uint8_t *key, size_t len)
{
	uint8_t *k;

	if (!s || !key || !len)
		return EINVAL;
	k = malloc(len);
	if (!k)
		return ENOMEM;
	memcpy(k, key, len);
	free(s->secret);
	s->secret = k;
	s->secretlen = len;
	return 0;
}

int tlsrv_listen(struct tlsrv *s, const struct sock_addr *addr, int tls, int roles,
                 struct sock_addr *bound)
{
	struct listener *ls;
	int fd, err;

	if (!s || !addr || s->nls >= MAX_LISTENERS || (tls && !s->tls) || !roles)
		return EINVAL;
	fd = sock_listen_tcp(addr, 128);
	if (fd < 0)
		return -fd;
	ls = &s->ls[s->nls];
	ls->srv = s;
	ls->fd = fd;
	ls->tls = tls;
	ls->roles = roles;
	err = evloop_fd_add(s->loop, fd, EPOLLIN, on_accept, ls);
	if (err) {
		close(fd);
		return err;
	}
	s->nls++;
	if (bound)
		(void)sock_local(fd, bound);
	return 0;
}

unsigned tlsrv_tunnels(const struct tlsrv *s)
{
	return s ? s->ntunnels : 0;
}

void tlsrv_set_resolver(struct tlsrv *s, tlsrv_resolve_fn *fn)
{
	if (s)
		s->resolve = fn ? fn : resolve_default;
}

int tlsrv_adopt(struct tlsrv *s, int fd, int tls, int roles, const char *client)
{
	struct listener *ls = NULL;

	if (!s || fd < 0 || (tls && !s->tls) || !roles) {
		if (fd >= 0)
			close(fd);
		return EINVAL;
	}
	/* a listener entry without a socket carries the settings */
	for (unsigned i = 0; i < s->nls; i++)
		if (s->ls[i].fd < 0 && s->ls[i].tls == tls && s->ls[i].roles == roles)
			ls = &s->ls[i];
	if (!ls) {
		if (s->nls >= MAX_LISTENERS) {
			close(fd);
			return ENOSPC;
		}
		ls = &s->ls[s->nls++];
		ls->srv = s;
		ls->fd = -1;
		ls->tls = tls;
		ls->roles = roles;
	}
	conn_start(ls, fd, client ? client : "adopted");
	return 0;
}
