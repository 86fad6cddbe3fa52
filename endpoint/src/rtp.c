/* rtp.c - RTP sender/receiver on the event loop. */
#define LOG_TAG "rtp"
#include "rtp.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/sock.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RTP_PTIME_MS 20
#define RTP_PAYLOAD 160 /* 20 ms of PCMU at 8 kHz */
#define RTP_BIND_TRIES 64
#define RTCP_EVERY 250 /* RTP packets between sender reports: 5 s (RFC 3550 §6.2 minimum) */

struct rtp {
	struct evloop *loop;
	int fd, rtcp_fd;
	unsigned port;
	struct sock_addr remote;
	int have_remote;
	char remote_txt[SOCK_ADDR_STRLEN + 8];
	rtp_send_h *sendh;
	void *sendarg;
	uint64_t timer;
	uint16_t seq;
	uint32_t ts, ssrc;
	unsigned long tx, rx;
	unsigned long rtcp_tx;
	unsigned since_sr;
	uint32_t octets;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RTCP sender report without report blocks (RFC 3550 §6.4.1), from the RTCP port to the
 * remote RTP port + 1 (§11). Only on the socket path: a tunnelled call carries RTP only. */
static void send_sr(struct rtp *r)
{
	struct sock_addr to = r->remote;
	struct timespec ts;
	uint8_t p[28];
	uint64_t ntp_sec;

	if (r->sendh || r->rtcp_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ntp_sec = (uint64_t)ts.tv_sec + 2208988800u; /* NTP epoch 1900 */
	p[0] = 0x80; /* V=2, RC=0 */
	p[1] = 200; /* SR */
	p[2] = 0;
	p[3] = 6; /* length in 32-bit words minus one */
	put32(p + 4, r->ssrc);
	put32(p + 8, (uint32_t)ntp_sec);
	put32(p + 12, (uint32_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000u));
	put32(p + 16, r->ts);
	put32(p + 20, (uint32_t)r->tx);
	put32(p + 24, r->octets);
	sock_addr_set_port(&to, (uint16_t)(sock_addr_port(&r->remote) + 1));
	if (sendto(r->rtcp_fd, p, sizeof(p), 0, (struct sockaddr *)&to.ss, to.len) ==
	    (ssize_t)sizeof(p))
		r->rtcp_tx++;
}

static int bind_port(unsigned port)
{
	struct sock_addr sa;
	char txt[32];

	snprintf(txt, sizeof(txt), "0.0.0.0:%u", port);
	if (sock_addr_parse(&sa, txt, 0))
		return -EINVAL;
	return sock_bind_udp(&sa);
}

static void on_rx(int fd, uint32_t events, void *arg)
{
	struct rtp *r = arg;
	uint8_t buf[2048];
	int i;

	(void)events;
	/* Bounded: a flood cannot keep the loop here. */
	for (i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0)
			break;
		rtp_input(r, buf, (size_t)n);
	}
}

static void on_rtcp(int fd, uint32_t events, void *arg)
{
	uint8_t buf[2048];

	(void)events;
	(void)arg;
	while (recv(fd, buf, sizeof(buf), 0) >= 0)
		;
}

/* Picks an even port pair; starts at a random offset so two calls do not collide. */
static int bind_pair(struct rtp *r, unsigned lo, unsigned hi)
{
	unsigned span, start, i;
	uint32_t rnd = 0;

	if (lo & 1)
		lo++;
	if (hi < lo + 1)
		return EADDRINUSE;
	span = (hi - lo) / 2 + ((hi - lo) % 2 ? 1 : 0);
	if (span == 0)
		span = 1;
	(void)RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	start = rnd % span;
	for (i = 0; i < span && i < RTP_BIND_TRIES; i++) {
		unsigned p = lo + 2 * ((start + i) % span);
		int fd, fd2;

		if (p + 1 > hi)
			continue;
		fd = bind_port(p);
		if (fd < 0)
			continue;
		fd2 = bind_port(p + 1);
		if (fd2 < 0) {
			close(fd);
			continue;
		}
		r->fd = fd;
		r->rtcp_fd = fd2;
		r->port = p;
		return 0;
	}
	return EADDRINUSE;
}

int rtp_alloc(struct rtp **rp, struct evloop *loop, unsigned port_min, unsigned port_max,
              enum rtp_ports where)
{
	struct rtp *r = NULL;
	int err;

	if (!rp || !loop || port_min > port_max || port_max > 65535)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->loop = loop;
	r->fd = r->rtcp_fd = -1;
	if (where == RTP_PORTS_BELOW_RANGE) {
		/* Fault: a pair just under the range (or the range of 10000 ports below it). */
		unsigned hi = port_min > 1026 ? port_min - 1 : 1025;
		unsigned lo = hi > 11024 ? hi - 10000 : 1024;
		err = bind_pair(r, lo, hi);
	} else if (where == RTP_PORTS_BELOW_1024) {
		/* Fault: a privileged pair (binding it needs root or CAP_NET_BIND_SERVICE). */
		err = bind_pair(r, RTP_LOW_PORT_MIN, RTP_LOW_PORT_MAX);
	} else {
		err = bind_pair(r, port_min, port_max);
	}
	if (err)
		goto out;
	(void)RAND_bytes((unsigned char *)&r->ssrc, sizeof(r->ssrc));
	(void)RAND_bytes((unsigned char *)&r->seq, sizeof(r->seq));
	err = evloop_fd_add(loop, r->fd, EPOLLIN, on_rx, r);
	if (!err)
		err = evloop_fd_add(loop, r->rtcp_fd, EPOLLIN, on_rtcp, r);
	if (err)
		goto out;
	*rp = r;
	r = NULL;
out:
	rtp_free(r);
	return err;
}

void rtp_free(struct rtp *r)
{
	if (!r)
		return;
	rtp_stop(r);
	if (r->fd >= 0) {
		evloop_fd_del(r->loop, r->fd);
		close(r->fd);
	}
	if (r->rtcp_fd >= 0) {
		evloop_fd_del(r->loop, r->rtcp_fd);
		close(r->rtcp_fd);
	}
	free(r);
}

unsigned rtp_local_port(const struct rtp *r)
{
	return r ? r->port : 0;
}

void rtp_set_sender(struct rtp *r, rtp_send_h *h, void *arg)
{
	if (!r)
		return;
	r->sendh = h;
	r->sendarg = arg;
}

static void send_one(struct rtp *r)
{
	uint8_t pkt[12 + RTP_PAYLOAD];
	uint16_t seq = r->seq++;
	int rc;

	pkt[0] = 0x80; /* V=2 */
	pkt[1] = 0; /* PT 0 = PCMU (RFC 3551) */
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[4] = (uint8_t)(r->ts >> 24);
	pkt[5] = (uint8_t)(r->ts >> 16);
	pkt[6] = (uint8_t)(r->ts >> 8);
	pkt[7] = (uint8_t)r->ts;
	pkt[8] = (uint8_t)(r->ssrc >> 24);
	pkt[9] = (uint8_t)(r->ssrc >> 16);
	pkt[10] = (uint8_t)(r->ssrc >> 8);
	pkt[11] = (uint8_t)r->ssrc;
	memset(pkt + 12, 0xff, RTP_PAYLOAD); /* PCMU silence */
	r->ts += RTP_PAYLOAD;
	if (r->sendh)
		rc = r->sendh(r->sendarg, pkt, sizeof(pkt));
	else
		rc = sendto(r->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&r->remote.ss,
		            r->remote.len) == (ssize_t)sizeof(pkt)
		        ? 0
		        : errno;
	if (rc == 0) {
		r->tx++;
		r->octets += RTP_PAYLOAD;
	}
	if (++r->since_sr >= RTCP_EVERY) {
		r->since_sr = 0;
		send_sr(r);
	}
}

static void on_tick(void *arg)
{
	struct rtp *r = arg;

	r->timer = evloop_timer_add(r->loop, RTP_PTIME_MS, on_tick, r);
	send_one(r);
}

int rtp_start(struct rtp *r, const char *host, unsigned port)
{
	if (!r || !host || port == 0 || port > 65535)
		return EINVAL;
	snprintf(r->remote_txt, sizeof(r->remote_txt), "%s:%u", host, port);
	if (!r->sendh) {
		if (sock_addr_parse(&r->remote, host, (uint16_t)port))
			return EINVAL;
		sock_addr_set_port(&r->remote, (uint16_t)port);
	}
	r->have_remote = 1;
	r->since_sr = RTCP_EVERY / 2; /* first report after half the interval (§6.2) */
	rtp_stop(r);
	r->timer = evloop_timer_add(r->loop, RTP_PTIME_MS, on_tick, r);
	if (!r->timer)
		return ENOMEM;
	send_one(r);
	return 0;
}

void rtp_stop(struct rtp *r)
{
	if (!r || !r->timer)
		return;
	evloop_timer_cancel(r->loop, r->timer);
	r->timer = 0;
}

void rtp_input(struct rtp *r, const uint8_t *buf, size_t len)
{
	/* Count RTP only (RFC 3550 §5.1: version 2, at least the fixed header). */
	if (!r || len < 12 || (buf[0] >> 6) != 2)
		return;
	r->rx++;
}

void rtp_counters(const struct rtp *r, unsigned long *tx, unsigned long *rx)
{
	*tx = r ? r->tx : 0;
	*rx = r ? r->rx : 0;
}

const char *rtp_remote(const struct rtp *r)
{
	return r ? r->remote_txt : "";
}
