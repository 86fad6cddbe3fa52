/* probesrv.c - Firewall Detect test server: SIP OPTIONS over TCP/TLS, STUN over UDP. */
#define LOG_TAG "probesrv"
#include "onsight/probesrv.h"
#include "onsight/log.h"
#include "onsight/sipframe.h"
#include "onsight/stun.h"
#include "onsight/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LISTENERS 32

struct plistener {
	struct probesrv *srv;
	int fd;
	enum probesrv_proto proto;
	uint16_t port;
};

struct pconn {
	struct probesrv *srv;
	struct pconn *next, *prev;
	int fd;
	SSL *ssl; /* NULL on plain TCP */
	int handshaken;
	enum probesrv_proto proto;
	uint16_t port;
	struct sock_addr peer;
	struct sipframe *frame;
	uint64_t idle_timer;
	char out[PROBESRV_MAX_MSG];
	size_t outlen;
};

struct probesrv {
	struct evloop *loop;
	struct journal *j;
	SSL_CTX *tls;
	struct plistener lst[MAX_LISTENERS];
	size_t nlst;
	struct pconn *conns;
	size_t nconns;
};

static const char *proto_name(enum probesrv_proto p)
{
	return p == PROBESRV_TCP ? "tcp" : p == PROBESRV_TLS ? "tls" : "udp";
}

/* fd: the socket the probe arrived on, whose local address tells which test server it hit. */
static void journal_probe(struct probesrv *p, int fd, const struct sock_addr *src,
                          enum probesrv_proto proto, uint16_t port)
{
	char s[SOCK_ADDR_STRLEN];
	struct sock_addr local;

	if (sock_local(fd, &local))
		local.len = 0;
	journal_emit_at(p->j, &local, "detect.probe", "{s:s, s:s, s:i}", "source",
	                sock_addr_str(src, s, sizeof(s)), "proto", proto_name(proto), "port", port);
}

/* Header name of a line, long or compact form (RFC 3261 §7.3.3). */
static int hdr_is(const char *line, size_t n, const char *name, char compact)
{
	size_t nl = strlen(name), i;

	if (n > nl && strncasecmp(line, name, nl) == 0)
		i = nl;
	else if (n > 1 && (line[0] == compact || line[0] == (compact ^ 0x20)))
		i = 1;
	else
		return 0;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < n && line[i] == ':';
}

/* Appends the request's Via, From, To (with a tag), Call-ID and CSeq lines. */
static int copy_dialog_headers(const char *msg, size_t len, char *out, size_t cap, size_t *o)
{
	const char *p = memchr(msg, '\n', len), *end = msg + len;
	int have = 0;

	while (p && ++p < end && *p != '\r' && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p), w = n;
		int to = hdr_is(p, n, "To", 't');
		if (w && p[w - 1] == '\r')
			w--;
		if (hdr_is(p, n, "Via", 'v') || hdr_is(p, n, "From", 'f') || to ||
		    hdr_is(p, n, "Call-ID", 'i') || hdr_is(p, n, "CSeq", '\0')) {
			int tag = to && !memmem(p, w, ";tag=", 5);
			if (*o + w + 16 > cap)
				return -ENOSPC;
			memcpy(out + *o, p, w);
			*o += w;
			*o += (size_t)snprintf(out + *o, cap - *o, "%s\r\n",
			                       tag ? ";tag=probe" : "");
			have |= to                           ? 1
			        : hdr_is(p, n, "CSeq", '\0') ? 2
			        : hdr_is(p, n, "Via", 'v')   ? 4
			                                     : 0;
		}
		p = nl;
	}
	return have == 7 ? 0 : -EBADMSG;
}

int probesrv_answer(const char *msg, size_t len, char *out, size_t cap)
{
	static const char tail[] = "Allow: OPTIONS\r\nAccept: application/sdp\r\n"
	                           "Supported: \r\nServer: onsight-lab probe\r\n"
	                           "Content-Length: 0\r\n\r\n";
	int options = len > 8 && memcmp(msg, "OPTIONS ", 8) == 0;
	size_t o;
	int err;

	if (len < 8 || memcmp(msg, "SIP/", 4) == 0 || memcmp(msg, "ACK ", 4) == 0)
		return 0;
	o = (size_t)snprintf(out, cap, "SIP/2.0 %s\r\n",
	                     options ? "200 OK" : "501 Not Implemented");
	if (o >= cap)
		return -ENOSPC;
	err = copy_dialog_headers(msg, len, out, cap, &o);
	if (err)
		return err;
	if (o + sizeof(tail) > cap)
		return -ENOSPC;
	memcpy(out + o, tail, sizeof(tail));
	return (int)(o + sizeof(tail) - 1);
}

static void conn_close(struct pconn *c, const char *why)
{
	struct probesrv *p = c->srv;

	log_debug("close fd %d: %s", c->fd, why);
	evloop_fd_del(p->loop, c->fd);
	evloop_timer_cancel(p->loop, c->idle_timer);
	if (c->ssl)
		SSL_free(c->ssl);
	close(c->fd);
	sipframe_free(c->frame);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	p->nconns--;
	free(c);
}

static void conn_idle(void *arg)
{
	struct pconn *c = arg;

	c->idle_timer = 0;
	conn_close(c, "idle timeout");
}

static void conn_touch(struct pconn *c)
{
	evloop_timer_cancel(c->srv->loop, c->idle_timer);
	c->idle_timer = evloop_timer_add(c->srv->loop, PROBESRV_IDLE_MS, conn_idle, c);
}

static ssize_t conn_io(struct pconn *c, void *buf, size_t n, int wr)
{
	return tls_sock_io(c->fd, c->ssl, buf, n, wr);
}

static int conn_flush(struct pconn *c)
{
	while (c->outlen) {
		ssize_t w = conn_io(c, c->out, c->outlen, 1);
		if (w < 0)
			return -1;
		if (w == 0)
			break;
		memmove(c->out, c->out + w, c->outlen - (size_t)w);
		c->outlen -= (size_t)w;
	}
	return evloop_fd_mod(c->srv->loop, c->fd, EPOLLIN | (c->outlen ? EPOLLOUT : 0));
}

static int conn_message(struct pconn *c, const char *msg, size_t len)
{
	int n;

	journal_probe(c->srv, c->fd, &c->peer, c->proto, c->port);
	n = probesrv_answer(msg, len, c->out + c->outlen, sizeof(c->out) - c->outlen);
	if (n < 0)
		return -1; /* stateless: no reply possible without Via; close */
	c->outlen += (size_t)n;
	return 0;
}

static int conn_drain(struct pconn *c)
{
	const char *msg;
	size_t len;
	int r;

	while ((r = sipframe_next(c->frame, &msg, &len)) != SIPFRAME_MORE) {
		if (r < 0)
			return -1;
		if (r == SIPFRAME_PING) {
			if (c->outlen + 2 > sizeof(c->out))
				return -1;
			memcpy(c->out + c->outlen, "\r\n", 2);
			c->outlen += 2;
		} else if (conn_message(c, msg, len)) {
			return -1;
		}
	}
	return 0;
}

static void conn_event(int fd, uint32_t events, void *arg)
{
	struct pconn *c = arg;
	char buf[4096];
	ssize_t r;
	int i;

	(void)fd;
	conn_touch(c);
	if (c->ssl && !c->handshaken) {
		int h = tls_accept_step(c->ssl, c->srv->loop, c->fd);
		if (h)
			return h < 0 ? conn_close(c, "tls handshake failed") : (void)0;
		c->handshaken = 1;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (i = 0; i < 16; i++) {
			r = conn_io(c, buf, sizeof(buf), 0);
			if (r < 0)
				return conn_close(c, "closed by peer");
			if (r == 0)
				break;
			if (sipframe_feed(c->frame, buf, (size_t)r) || conn_drain(c))
				return conn_close(c, "bad or oversized message");
		}
	}
	if (conn_flush(c))
		conn_close(c, "write failed");
}

static int conn_new(struct plistener *l, int fd, const struct sock_addr *peer)
{
	struct probesrv *p = l->srv;
	struct pconn *c = calloc(1, sizeof(*c));
	int err = ENOMEM;

	if (!c)
		goto fail;
	c->srv = p;
	c->fd = fd;
	c->peer = *peer;
	c->proto = l->proto;
	c->port = l->port;
	if (sipframe_alloc(&c->frame, PROBESRV_MAX_MSG))
		goto fail;
	if (l->proto == PROBESRV_TLS) {
		c->ssl = SSL_new(p->tls);
		if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
			goto fail;
		/* c->out may grow between a WANT_WRITE and the retry */
		SSL_set_mode(c->ssl,
		             SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	err = evloop_fd_add(p->loop, fd, EPOLLIN, conn_event, c);
	if (err)
		goto fail;
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->nconns++;
	conn_touch(c);
	return 0;
fail:
	if (c) {
		SSL_free(c->ssl);
		sipframe_free(c->frame);
		free(c);
	}
	close(fd);
	return err;
}

static void accept_event(int fd, uint32_t events, void *arg)
{
	struct plistener *l = arg;
	struct sock_addr peer;

	(void)events;
	for (int i = 0; i < 32; i++) {
		int cfd;
		peer.len = sizeof(peer.ss);
		cfd = accept4(fd, (struct sockaddr *)&peer.ss, &peer.len,
		              SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		if (l->srv->nconns >= PROBESRV_MAX_CONNS) {
			log_warnx("connection limit reached, refusing");
			close(cfd);
			continue;
		}
		if (conn_new(l, cfd, &peer))
			log_warnx("cannot take a connection");
	}
}

static void udp_event(int fd, uint32_t events, void *arg)
{
	struct plistener *l = arg;
	uint8_t in[STUN_MAX_MSG], out[STUN_MAX_MSG];
	struct sock_addr from;
	struct stun_msg m;
	size_t n;

	(void)events;
	for (int i = 0; i < 64; i++) {
		ssize_t r;
		from.len = sizeof(from.ss);
		r = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from.ss, &from.len);
		if (r < 0)
			return;
		if (stun_decode(&m, in, (size_t)r) || m.type != STUN_BINDING_REQUEST)
			continue;
		journal_probe(l->srv, fd, &from, PROBESRV_UDP, l->port);
		if (m.n_unknown
		            ? stun_error_response(out, sizeof(out), &m, 420, "Unknown Attribute",
		                                  &n)
		            : stun_binding_response(out, sizeof(out), &m, &from, NULL, 0, 1, &n))
			continue;
		(void)sendto(fd, out, n, 0, (struct sockaddr *)&from.ss, from.len);
	}
}

int probesrv_alloc(struct probesrv **pp, struct evloop *loop, struct journal *j, SSL_CTX *tls)
{
	struct probesrv *p;

	if (!pp || !loop)
		return EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->loop = loop;
	p->j = j;
	p->tls = tls;
	*pp = p;
	return 0;
}

void probesrv_free(struct probesrv *p)
{
	if (!p)
		return;
	while (p->conns)
		conn_close(p->conns, "shutdown");
	for (size_t i = 0; i < p->nlst; i++) {
		evloop_fd_del(p->loop, p->lst[i].fd);
		close(p->lst[i].fd);
	}
	free(p);
}

int probesrv_listen(struct probesrv *p, enum probesrv_proto proto, const struct sock_addr *sa,
                    struct sock_addr *bound)
{
	struct plistener *l;
	struct sock_addr b;
	int fd, err;

	if (!p || !sa || (proto == PROBESRV_TLS && !p->tls))
		return EINVAL;
	if (p->nlst >= MAX_LISTENERS)
		return ENOSPC;
	fd = proto == PROBESRV_UDP ? sock_bind_udp(sa) : sock_listen_tcp(sa, 128);
	if (fd < 0)
		return -fd;
	l = &p->lst[p->nlst];
	l->srv = p;
	l->fd = fd;
	l->proto = proto;
	err = sock_local(fd, &b);
	if (!err)
		err = evloop_fd_add(p->loop, fd, EPOLLIN,
		                    proto == PROBESRV_UDP ? udp_event : accept_event, l);
	if (err) {
		close(fd);
		return err;
	}
	l->port = sock_addr_port(&b);
	if (bound)
		*bound = b;
	p->nlst++;
	return 0;
}
