/* transport.c - UDP, TCP and TLS listeners and connections. */
#define LOG_TAG "transport"
#include "transport.h"
#include "onsight/log.h"
#include "onsight/sipframe.h"
#include "onsight/tls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LISTENERS 48
#define OUTBUF_CAP (256u * 1024u) /* queued output per connection before we give up on it */
#define OUTBUF_HIGH (64u * 1024u) /* above this, stop reading the peer until it reads ours */
#define READ_CHUNK 65536
#define HANDSHAKE_MS 10000

struct listener {
	struct tp *t;
	int fd;
	enum tp_kind kind;
	struct sock_addr addr;
};

struct conn {
	struct tp *t;
	uint64_t id; /* 0: slot free */
	int fd;
	enum tp_kind kind;
	SSL *ssl;
	int handshaken, connecting;
	struct sock_addr peer, local;
	struct sipframe *frame;
	char *out;
	size_t outlen, outcap;
	uint64_t idle_timer;
};

struct tp {
	struct evloop *loop;
	SSL_CTX *tls;
	struct tp_limits lim;
	tp_recv_h *h;
	void *arg;
	struct listener lst[MAX_LISTENERS];
	size_t nlst;
	struct conn *conns; /* lim.max_conns slots */
	size_t nconns;
	uint32_t gen;
	char *rbuf;
};

const char *tp_kind_name(enum tp_kind k)
{
	return k == TP_UDP ? "udp" : k == TP_TCP ? "tcp" : "tls";
}

static struct conn *conn_get(const struct tp *t, uint64_t id)
{
	size_t slot = (size_t)(id & 0xffffffffu);

	if (id == 0 || slot >= t->lim.max_conns || t->conns[slot].id != id)
		return NULL;
	return &t->conns[slot];
}

int tp_conn_alive(const struct tp *t, uint64_t id)
{
	return conn_get(t, id) != NULL;
}

size_t tp_conn_count(const struct tp *t)
{
	return t->nconns;
}

static void conn_close(struct conn *c, const char *why)
{
	struct tp *t = c->t;
	char a[SOCK_ADDR_STRLEN];

	log_debug("close %s %s: %s", tp_kind_name(c->kind), sock_addr_str(&c->peer, a, sizeof(a)),
	          why);
	evloop_fd_del(t->loop, c->fd);
	evloop_timer_cancel(t->loop, c->idle_timer);
	SSL_free(c->ssl);
	close(c->fd);
	sipframe_free(c->frame);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	t->nconns--;
}

static void conn_idle(void *arg)
{
	struct conn *c = arg;

	c->idle_timer = 0;
	conn_close(c, "idle timeout");
}

static void conn_touch(struct conn *c)
{
	/* A TLS handshake gets a short deadline: half-open handshakes must not hold slots. */
	uint64_t ms = (c->ssl && !c->handshaken && HANDSHAKE_MS < c->t->lim.idle_ms)
	        ? HANDSHAKE_MS
	        : c->t->lim.idle_ms;

	evloop_timer_cancel(c->t->loop, c->idle_timer);
	c->idle_timer = evloop_timer_add(c->t->loop, ms, conn_idle, c);
}

static ssize_t conn_io(struct conn *c, void *buf, size_t n, int wr)
{
	return tls_sock_io(c->fd, c->ssl, buf, n, wr);
}

static int conn_want(struct conn *c)
{
	/* Backpressure: a peer that does not read its responses is not read either. */
	uint32_t ev = c->outlen > OUTBUF_HIGH ? 0 : EPOLLIN;

	if (c->connecting || c->outlen)
		ev |= EPOLLOUT;
	return evloop_fd_mod(c->t->loop, c->fd, ev);
}

static int conn_flush(struct conn *c)
{
	while (c->outlen && !c->connecting && (!c->ssl || c->handshaken)) {
		ssize_t w = conn_io(c, c->out, c->outlen, 1);
		if (w < 0)
			return -1;
		if (w == 0)
			break;
		memmove(c->out, c->out + w, c->outlen - (size_t)w);
		c->outlen -= (size_t)w;
	}
	return conn_want(c);
}

/* Output waits here while the socket is full; it grows as needed up to OUTBUF_CAP. */
static int conn_queue(struct conn *c, const char *buf, size_t len)
{
	if (c->outlen + len > OUTBUF_CAP)
		return ENOBUFS;
	if (c->outlen + len > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		char *nb;
		while (cap < c->outlen + len)
			cap *= 2;
		cap = cap < OUTBUF_CAP ? cap : OUTBUF_CAP;
		nb = realloc(c->out, cap);
		if (!nb)
			return ENOMEM;
		c->out = nb;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	return 0;
}

static int conn_deliver(struct conn *c)
{
	struct tp_flow f = {.kind = c->kind, .peer = c->peer, .local = c->local, .conn = c->id};
	const char *msg;
	size_t len;
	int r;

	while ((r = sipframe_next(c->frame, &msg, &len)) != SIPFRAME_MORE) {
		if (r < 0)
			return -1;
		if (r == SIPFRAME_PING) {
			if (conn_queue(c, "\r\n", 2))
				return -1;
			continue;
		}
		c->t->h(c->t->arg, &f, msg, len, 0);
		if (!conn_get(c->t, f.conn))
			return 1; /* closed by the handler */
	}
	return 0;
}

/* Reads what is there (bounded per event so one peer cannot starve the others). */
static int conn_read(struct conn *c)
{
	uint64_t id = c->id;

	for (int i = 0; i < 8 && c->outlen <= OUTBUF_HIGH; i++) {
		ssize_t r = conn_io(c, c->t->rbuf, READ_CHUNK, 0);
		int d;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (sipframe_feed(c->frame, c->t->rbuf, (size_t)r))
			return -2;
		d = conn_deliver(c);
		if (d < 0)
			return -2;
		if (d > 0 || !conn_get(c->t, id))
			return 1;
	}
	return 0;
}

static void conn_event(int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	int r;

	(void)fd;
	conn_touch(c);
	if (c->connecting) {
		if (sock_connect_result(c->fd) != 0)
			return conn_close(c, "connect failed");
		c->connecting = 0;
	}
	if (c->ssl && !c->handshaken) {
		int h = tls_accept_step(c->ssl, c->t->loop, c->fd);
		if (h)
			return h < 0 ? conn_close(c, "tls handshake failed") : (void)0;
		c->handshaken = 1;
		conn_touch(c); /* from now on the idle timeout applies */
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		r = conn_read(c);
		if (r == -1)
			return conn_close(c, "closed by peer");
		if (r == -2)
			return conn_close(c, "framing error or message too large");
		if (r == 1)
			return;
	}
	if (conn_flush(c))
		conn_close(c, "write failed");
}

static struct conn *conn_new(struct tp *t, int fd, enum tp_kind kind, const struct sock_addr *peer)
{
	struct conn *c = NULL;

	for (size_t i = 0; i < t->lim.max_conns; i++) {
		if (t->conns[i].id == 0) {
			c = &t->conns[i];
			if (++t->gen == 0)
				t->gen = 1;
			c->id = ((uint64_t)t->gen << 32) | i;
			break;
		}
	}
	if (!c)
		return NULL;
	c->t = t;
	c->fd = fd;
	c->kind = kind;
	c->peer = *peer;
	(void)sock_local(fd, &c->local);
	/* Responses are small and latency matters more than segment count. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	t->nconns++;
	if (sipframe_alloc(&c->frame, t->lim.max_msg) ||
	    (kind == TP_TLS && (!(c->ssl = SSL_new(t->tls)) || SSL_set_fd(c->ssl, fd) != 1)) ||
	    (c->ssl &&
	     !(SSL_set_mode(c->ssl,
	                    SSL_MODE_ENABLE_PARTIAL_WRITE |
	                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))) ||
	    evloop_fd_add(t->loop, fd, EPOLLIN, conn_event, c)) {
		conn_close(c, "out of memory");
		return NULL;
	}
	conn_touch(c);
	return c;
}

static void accept_event(int fd, uint32_t events, void *arg)
{
	struct listener *l = arg;
	struct sock_addr peer;

	(void)events;
	for (int i = 0; i < 64; i++) {
		int cfd;
		peer.len = sizeof(peer.ss);
		cfd = accept4(fd, (struct sockaddr *)&peer.ss, &peer.len,
		              SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		if (l->t->nconns >= l->t->lim.max_conns) {
			log_warnx("connection limit %zu reached, refusing", l->t->lim.max_conns);
			close(cfd);
			continue;
		}
		if (!conn_new(l->t, cfd, l->kind, &peer))
			close(cfd);
	}
}

static void udp_event(int fd, uint32_t events, void *arg)
{
	struct listener *l = arg;
	struct tp *t = l->t;
	struct tp_flow f = {.kind = TP_UDP, .local = l->addr};
	struct sipframe_info fi;

	(void)events;
	for (int i = 0; i < 64; i++) {
		ssize_t r;
		int st;
		f.peer.len = sizeof(f.peer.ss);
		r = recvfrom(fd, t->rbuf, READ_CHUNK, 0, (struct sockaddr *)&f.peer.ss,
		             &f.peer.len);
		if (r < 0)
			return;
		if ((size_t)r > t->lim.max_msg)
			continue; /* over the cap: dropped, not answered */
		st = sipframe_scan(t->rbuf, (size_t)r, t->lim.max_msg, 0, &fi);
		if (st == SIPFRAME_MSG)
			t->h(t->arg, &f, t->rbuf + fi.skip, fi.hdr_len + fi.body_len, 0);
		else if (st == -EBADMSG)
			t->h(t->arg, &f, t->rbuf, (size_t)r, 1);
	}
}

int tp_alloc(struct tp **tpp, struct evloop *loop, SSL_CTX *tls, const struct tp_limits *lim,
             tp_recv_h *h, void *arg)
{
	struct tp *t;

	if (!tpp || !loop || !lim || !h || lim->max_conns == 0 || lim->max_conns > 1000000)
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->conns = calloc(lim->max_conns, sizeof(*t->conns));
	t->rbuf = malloc(READ_CHUNK + 1);
	if (!t->conns || !t->rbuf) {
		tp_free(t);
		return ENOMEM;
	}
	t->loop = loop;
	t->tls = tls;
	t->lim = *lim;
	t->h = h;
	t->arg = arg;
	*tpp = t;
	return 0;
}

void tp_free(struct tp *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->conns && i < t->lim.max_conns; i++)
		if (t->conns[i].id)
			conn_close(&t->conns[i], "shutdown");
	for (size_t i = 0; i < t->nlst; i++) {
		evloop_fd_del(t->loop, t->lst[i].fd);
		close(t->lst[i].fd);
	}
	free(t->conns);
	free(t->rbuf);
	free(t);
}

static int add_listener(struct tp *t, const struct sock_addr *a, uint16_t port, enum tp_kind k)
{
	struct sock_addr sa = *a;
	struct listener *l;
	int fd, err;

	if (t->nlst >= MAX_LISTENERS)
		return ENOSPC;
	sock_addr_set_port(&sa, port);
	fd = k == TP_UDP ? sock_bind_udp(&sa) : sock_listen_tcp(&sa, 511);
	if (fd < 0)
		return -fd;
	l = &t->lst[t->nlst];
	l->t = t;
	l->fd = fd;
	l->kind = k;
	err = sock_local(fd, &l->addr);
	if (!err)
		err = evloop_fd_add(t->loop, fd, EPOLLIN, k == TP_UDP ? udp_event : accept_event,
		                    l);
	if (err) {
		close(fd);
		return err;
	}
	t->nlst++;
	return 0;
}

int tp_listen(struct tp *t, const struct sock_addr *addr, uint16_t sip_port, uint16_t tls_port)
{
	int err = add_listener(t, addr, sip_port, TP_UDP);

	if (!err) {
		/* Ephemeral: try TCP on the port UDP got, so one port serves both. */
		struct sock_addr b = t->lst[t->nlst - 1].addr;
		err = add_listener(t, addr, sip_port ? sip_port : sock_addr_port(&b), TP_TCP);
		if (err && !sip_port)
			err = add_listener(t, addr, 0, TP_TCP);
	}
	if (!err && t->tls)
		err = add_listener(t, addr, tls_port, TP_TLS);
	return err;
}

int tp_bound(const struct tp *t, size_t i, enum tp_kind k, struct sock_addr *out)
{
	for (size_t j = 0; j < t->nlst; j++) {
		if (t->lst[j].kind == k && i-- == 0) {
			*out = t->lst[j].addr;
			return 0;
		}
	}
	return ENOENT;
}

int tp_local(const struct tp *t, enum tp_kind k, int fam, struct sock_addr *out)
{
	for (size_t j = 0; j < t->nlst; j++) {
		if (t->lst[j].kind == k && t->lst[j].addr.ss.ss_family == fam) {
			*out = t->lst[j].addr;
			return 0;
		}
	}
	return tp_bound(t, 0, k, out);
}

static int udp_fd_for(const struct tp *t, const struct tp_flow *f)
{
	int any = -1;

	for (size_t j = 0; j < t->nlst; j++) {
		const struct listener *l = &t->lst[j];
		if (l->kind != TP_UDP || l->addr.ss.ss_family != f->peer.ss.ss_family)
			continue;
		if (f->local.len && sock_addr_eq(&l->addr, &f->local))
			return l->fd;
		if (any < 0)
			any = l->fd;
	}
	return any;
}

static struct conn *conn_open(struct tp *t, const struct tp_flow *f)
{
	struct conn *c;
	int fd;

	if (f->kind != TP_TCP || t->nconns >= t->lim.max_conns)
		return NULL;
	fd = sock_connect_tcp(&f->peer);
	if (fd < 0)
		return NULL;
	c = conn_new(t, fd, TP_TCP, &f->peer);
	if (!c) {
		close(fd);
		return NULL;
	}
	c->connecting = 1;
	(void)conn_want(c);
	return c;
}

/* A live connection to the flow's peer: by id, else by address and kind. */
static struct conn *conn_for(struct tp *t, const struct tp_flow *f)
{
	struct conn *c = conn_get(t, f->conn);

	if (c)
		return c;
	for (size_t i = 0; i < t->lim.max_conns; i++) {
		c = &t->conns[i];
		if (c->id && c->kind == f->kind && sock_addr_eq(&c->peer, &f->peer))
			return c;
	}
	return conn_open(t, f);
}

int tp_send(struct tp *t, const struct tp_flow *f, const char *buf, size_t len)
{
	struct conn *c;
	int fd, err;

	if (len > t->lim.max_msg)
		return EMSGSIZE;
	if (f->kind == TP_UDP) {
		fd = udp_fd_for(t, f);
		if (fd < 0)
			return EAFNOSUPPORT;
		if (sendto(fd, buf, len, 0, (const struct sockaddr *)&f->peer.ss, f->peer.len) < 0)
			return errno;
		return 0;
	}
	c = conn_for(t, f);
	if (!c)
		return ENOTCONN;
	err = conn_queue(c, buf, len);
	if (err) {
		conn_close(c, "output queue full");
		return err;
	}
	if (conn_flush(c)) {
		conn_close(c, "write failed");
		return EPIPE;
	}
	return 0;
}
