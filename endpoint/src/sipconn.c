/* sipconn.c - direct SIP transports. */
#define LOG_TAG "sipconn"
#include "sipconn.h"

#include "netio.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/sipframe.h"
#include "onsight/sock.h"
#include "onsight/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIPCONN_WRITE_MS 2000

struct sipconn {
	struct evloop *loop;
	int fd;
	SSL *ssl;
	int udp;
	struct sipframe *frame;
	sipconn_msg_h *onmsg;
	sipconn_close_h *onclose;
	void *arg;
	struct sock_addr local;
	char remote[SOCK_ADDR_STRLEN];
	char close_reason[128];
	uint64_t close_timer;
	int dead;
};

static void fire_close(void *arg)
{
	struct sipconn *c = arg;

	c->close_timer = 0;
	if (c->onclose)
		c->onclose(c->arg, c->close_reason);
}

static void conn_dead(struct sipconn *c, const char *reason)
{
	if (c->dead)
		return;
	c->dead = 1;
	str_copy(c->close_reason, reason, sizeof(c->close_reason));
	evloop_fd_del(c->loop, c->fd);
	c->close_timer = evloop_timer_add(c->loop, 0, fire_close, c);
}

static void deliver(struct sipconn *c)
{
	const char *msg;
	size_t len;
	int rc, i;

	for (i = 0; i < 64 && !c->dead; i++) {
		rc = sipframe_next(c->frame, &msg, &len);
		if (rc == SIPFRAME_MORE)
			return;
		if (rc == SIPFRAME_PING) {
			if (netio_write_all(c->fd, c->ssl, "\r\n", 2, SIPCONN_WRITE_MS))
				conn_dead(c, "write failed");
			continue;
		}
		if (rc < 0) {
			conn_dead(c, "unframeable SIP stream");
			return;
		}
		c->onmsg(c->arg, msg, len);
	}
}

static void on_read(int fd, uint32_t events, void *arg)
{
	struct sipconn *c = arg;
	char buf[16384];
	int i;

	(void)events;
	for (i = 0; i < 16 && !c->dead; i++) {
		long n;

		if (c->udp) {
			struct sipframe_info fi;
			ssize_t r = recv(fd, buf, sizeof(buf), 0);

			if (r < 0)
				return;
			if (sipframe_scan(buf, (size_t)r, sizeof(buf), 0, &fi) == SIPFRAME_MSG)
				c->onmsg(c->arg, buf + fi.skip, fi.hdr_len + fi.body_len);
			continue;
		}
		n = netio_read(fd, c->ssl, buf, sizeof(buf), 0);
		if (n == -ETIMEDOUT || n == -EAGAIN)
			return;
		if (n <= 0) {
			conn_dead(c, n == 0 ? "server closed the connection" : "connection reset");
			return;
		}
		if (sipframe_feed(c->frame, buf, (size_t)n)) {
			conn_dead(c, "SIP message over the size cap");
			return;
		}
		deliver(c);
		if (!c->ssl || SSL_pending(c->ssl) == 0)
			return;
	}
}

int sipconn_open(struct sipconn **cp, struct evloop *loop, const struct sipconn_opts *o,
                 sipconn_msg_h *onmsg, sipconn_close_h *onclose, void *arg, char *reason,
                 size_t rlen)
{
	struct sipconn *c = NULL;
	struct sock_addr sa;
	int err;

	if (!cp || !loop || !o || !o->host || !o->transport || !onmsg)
		return EINVAL;
	reason[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->loop = loop;
	c->fd = -1;
	c->onmsg = onmsg;
	c->onclose = onclose;
	c->arg = arg;
	c->udp = strcmp(o->transport, "udp") == 0;
	err = sipframe_alloc(&c->frame, SIPFRAME_MAX_MSG);
	if (err)
		goto out;
	if (o->proxy_host && !c->udp) {
		int status = 0;

		c->fd = netio_connect_via_proxy(o->proxy_host, o->proxy_port, o->host, o->port,
		                                o->timeout_ms, &status);
		if (c->fd < 0) {
			err = -c->fd;
			snprintf(reason, rlen, "proxy CONNECT %s:%u: %s (status %d)", o->host,
			         o->port, strerror(err), status);
			goto out;
		}
		snprintf(c->remote, sizeof(c->remote), "%s:%u", o->host, o->port);
	} else {
		err = netio_resolve(o->host, o->port, c->udp ? SOCK_DGRAM : SOCK_STREAM, &sa);
		if (err) {
			snprintf(reason, rlen, "%s does not resolve", o->host);
			goto out;
		}
		sock_addr_str(&sa, c->remote, sizeof(c->remote));
		if (c->udp) {
			c->fd = socket(sa.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			               0);
			if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa.ss, sa.len) != 0) {
				err = errno;
				snprintf(reason, rlen, "udp socket: %s", strerror(err));
				goto out;
			}
		} else {
			c->fd = netio_connect(&sa, o->timeout_ms);
			if (c->fd < 0) {
				err = -c->fd;
				snprintf(reason, rlen, "connect %s: %s", c->remote, strerror(err));
				goto out;
			}
		}
	}
	if (strcmp(o->transport, "tls") == 0) {
		char why[256];

		err = o->ctx ? netio_tls(o->ctx, c->fd, o->host, o->timeout_ms, &c->ssl, why,
		                         sizeof(why))
		             : EINVAL;
		if (err) {
			snprintf(reason, rlen, "TLS to %s: %s", o->host,
			         o->ctx ? why : "no context");
			goto out;
		}
	}
	if (sock_local(c->fd, &c->local)) {
		err = EIO;
		goto out;
	}
	err = evloop_fd_add(loop, c->fd, EPOLLIN, on_read, c);
	if (err)
		goto out;
	*cp = c;
	c = NULL;
out:
	if (err && !reason[0])
		str_copy(reason, strerror(err), rlen);
	sipconn_free(c);
	return err;
}

void sipconn_free(struct sipconn *c)
{
	if (!c)
		return;
	if (c->close_timer)
		evloop_timer_cancel(c->loop, c->close_timer);
	if (c->fd >= 0) {
		evloop_fd_del(c->loop, c->fd);
		if (c->ssl && !c->dead)
			SSL_shutdown(c->ssl);
	}
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	sipframe_free(c->frame);
	free(c);
}

int sipconn_send(struct sipconn *c, const char *buf, size_t len)
{
	int err;

	if (!c || c->dead)
		return ENOTCONN;
	if (c->udp)
		return send(c->fd, buf, len, 0) == (ssize_t)len ? 0 : errno;
	err = netio_write_all(c->fd, c->ssl, buf, len, SIPCONN_WRITE_MS);
	if (err)
		conn_dead(c, "write failed");
	return err;
}

void sipconn_local(const struct sipconn *c, char *host, size_t len, unsigned *port)
{
	sock_addr_host(&c->local, host, len);
	*port = sock_addr_port(&c->local);
}

const char *sipconn_remote(const struct sipconn *c)
{
	return c->remote;
}
