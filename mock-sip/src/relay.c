/* relay.c - RTP/RTCP relay with latching and counters. */
#define LOG_TAG "relay"
#include "relay.h"
#include "onsight/log.h"
#include "stunsrv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT_MAX 2048

struct leg;

struct sockref {
	struct leg *leg;
	int rtcp;
};

struct leg {
	struct relay_sess *s;
	struct leg *other;
	int idx, side;
	int fd[2]; /* RTP, RTCP */
	uint16_t port;
	struct sockref ref[2];
	struct sock_addr peer[2]; /* where this side's media goes */
	int latched[2];
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out, rtcp_in, rtcp_out;
	double first_seen, last_seen;
};

struct stream {
	int used;
	struct leg leg[2];
};

struct relay_sess {
	struct relay *r;
	char call_id[256];
	struct stream st[SDP_MAX_STREAMS];
	uint64_t last_ms, packets;
};

struct relay {
	struct evloop *loop;
	struct journal *j;
	struct relay_cfg cfg;
	uint8_t *busy; /* per pair, index (port - first) / 2 */
	size_t npairs, cursor, inuse, nsess;
	int stun_fd;
	uint16_t stun_port;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint16_t first_pair_port(const struct relay *r)
{
	uint16_t p = (uint16_t)(r->cfg.port_min + (r->cfg.port_min & 1));

	return r->cfg.stun_on_first_port ? (uint16_t)(p + 2) : p;
}

static void relay_packet(struct leg *in, int rtcp, const uint8_t *buf, size_t n,
                         const struct sock_addr *from)
{
	struct leg *out = in->other;
	struct relay_sess *s = in->s;

	if (!in->latched[rtcp]) {
		in->peer[rtcp] = *from; /* symmetric latching: the first source wins */
		in->latched[rtcp] = 1;
	} else if (!sock_addr_eq(&in->peer[rtcp], from)) {
		return;
	}
	in->last_seen = wall_now();
	if (in->first_seen == 0)
		in->first_seen = in->last_seen;
	s->last_ms = evloop_now_ms();
	s->packets++;
	rtcp ? in->rtcp_in++ : (in->pkts_in++, in->bytes_in += n);
	if (!out->peer[rtcp].len)
		return;
	if (sendto(out->fd[rtcp], buf, n, 0, (const struct sockaddr *)&out->peer[rtcp].ss,
	           out->peer[rtcp].len) < 0)
		return;
	rtcp ? out->rtcp_out++ : (out->pkts_out++, out->bytes_out += n);
}

static void leg_event(int fd, uint32_t events, void *arg)
{
	struct sockref *ref = arg;
	uint8_t buf[PKT_MAX];
	struct sock_addr from;

	(void)events;
	for (int i = 0; i < 32; i++) {
		ssize_t r;
		from.len = sizeof(from.ss);
		r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from.ss, &from.len);
		if (r <= 0)
			return;
		/* ICE consent checks may arrive on a relay port: answer them, relay nothing. */
		if (stunsrv_answer(ref->leg->s->r->j, fd, buf, (size_t)r, &from, ref->leg->port))
			continue;
		relay_packet(ref->leg, ref->rtcp, buf, (size_t)r, &from);
	}
}

static void leg_close(struct relay *r, struct leg *l)
{
	for (int k = 0; k < 2; k++) {
		if (l->fd[k] >= 0) {
			evloop_fd_del(r->loop, l->fd[k]);
			close(l->fd[k]);
			l->fd[k] = -1;
		}
	}
	if (l->port) {
		r->busy[(l->port - first_pair_port(r)) / 2] = 0;
		r->inuse--;
		l->port = 0;
	}
}

static int bind_pair(struct relay *r, struct leg *l, uint16_t port)
{
	struct sock_addr a = r->cfg.addr;

	for (int k = 0; k < 2; k++) {
		sock_addr_set_port(&a, (uint16_t)(port + k));
		l->fd[k] = sock_bind_udp(&a);
		if (l->fd[k] < 0)
			return -l->fd[k];
		l->ref[k].leg = l;
		l->ref[k].rtcp = k;
		if (evloop_fd_add(r->loop, l->fd[k], EPOLLIN, leg_event, &l->ref[k]))
			return ENOMEM;
	}
	return 0;
}

/* Next free even/odd pair from the cursor; ports others hold are skipped. */
static int leg_open(struct relay *r, struct leg *l)
{
	uint16_t base = first_pair_port(r);

	l->fd[0] = l->fd[1] = -1;
	for (size_t tries = 0; tries < r->npairs; tries++) {
		size_t i = r->cursor++ % r->npairs;
		uint16_t port = (uint16_t)(base + 2 * i);
		if (r->busy[i])
			continue;
		if (bind_pair(r, l, port) == 0) {
			r->busy[i] = 1;
			r->inuse++;
			l->port = port;
			return 0;
		}
		leg_close(r, l);
	}
	return EADDRNOTAVAIL;
}

static int stream_open(struct relay_sess *s, int idx)
{
	struct stream *st = &s->st[idx];
	int err = 0;

	for (int side = 0; side < 2 && !err; side++) {
		struct leg *l = &st->leg[side];
		l->s = s;
		l->idx = idx;
		l->side = side;
		l->other = &st->leg[!side];
		err = leg_open(s->r, l);
	}
	st->used = 1;
	return err;
}

int relay_sess_offer(struct relay_sess *s, int leg, const struct sdp_info *info,
                     uint16_t ports[SDP_MAX_STREAMS])
{
	for (unsigned i = 0; i < info->n; i++) {
		struct leg *l;
		ports[i] = 0;
		if (info->s[i].port == 0)
			continue;
		if (!s->st[i].used) {
			int err = stream_open(s, (int)i);
			if (err)
				return err;
		}
		l = &s->st[i].leg[leg];
		if (!l->latched[0] && info->s[i].addr.len) {
			l->peer[0] = info->s[i].addr;
			l->peer[1] = info->s[i].addr;
			sock_addr_set_port(&l->peer[1], (uint16_t)(info->s[i].port + 1));
		}
		ports[i] = l->other->port;
	}
	return 0;
}

int relay_sess_alloc(struct relay_sess **sp, struct relay *r, const char *call_id)
{
	struct relay_sess *s;

	if (r->nsess >= r->cfg.max_sessions)
		return EAGAIN;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	for (int i = 0; i < SDP_MAX_STREAMS; i++)
		s->st[i].leg[0].fd[0] = s->st[i].leg[0].fd[1] = s->st[i].leg[1].fd[0] =
		        s->st[i].leg[1].fd[1] = -1;
	s->r = r;
	snprintf(s->call_id, sizeof(s->call_id), "%s", call_id);
	s->last_ms = evloop_now_ms();
	r->nsess++;
	*sp = s;
	return 0;
}

static void journal_leg(struct relay *r, const struct relay_sess *s, const struct leg *l)
{
	char peer[SOCK_ADDR_STRLEN] = "";
	struct sock_addr local = {.len = 0};

	if (l->peer[0].len)
		sock_addr_str(&l->peer[0], peer, sizeof(peer));
	if (l->fd[0] < 0 || sock_local(l->fd[0], &local))
		local.len = 0;
	journal_emit_at(r->j, &local, "media.stream",
	                "{s:s, s:i, s:i, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}",
	                "call_id", s->call_id, "stream", l->idx, "relay_port", l->port, "leg",
	                l->side ? "callee" : "caller", "peer", peer, "latched", l->latched[0],
	                "packets_in", (json_int_t)l->pkts_in, "packets_out",
	                (json_int_t)l->pkts_out, "bytes_in", (json_int_t)l->bytes_in, "bytes_out",
	                (json_int_t)l->bytes_out, "rtcp_in", (json_int_t)l->rtcp_in, "rtcp_out",
	                (json_int_t)l->rtcp_out, "first_seen", l->first_seen, "last_seen",
	                l->last_seen);
}

void relay_sess_free(struct relay_sess *s)
{
	if (!s)
		return;
	for (int i = 0; i < SDP_MAX_STREAMS; i++) {
		if (!s->st[i].used)
			continue;
		for (int side = 0; side < 2; side++) {
			if (s->st[i].leg[side].port)
				journal_leg(s->r, s, &s->st[i].leg[side]);
			leg_close(s->r, &s->st[i].leg[side]);
		}
	}
	s->r->nsess--;
	free(s);
}

uint64_t relay_sess_last_ms(const struct relay_sess *s)
{
	return s->last_ms;
}

uint64_t relay_sess_packets(const struct relay_sess *s)
{
	return s->packets;
}

size_t relay_ports_in_use(const struct relay *r)
{
	return r->inuse * 2;
}

uint16_t relay_stun_port(const struct relay *r)
{
	return r->stun_port;
}

const struct sock_addr *relay_addr(const struct relay *r)
{
	return &r->cfg.addr;
}

static void stun_event(int fd, uint32_t events, void *arg)
{
	struct relay *r = arg;

	(void)events;
	stunsrv_drain(r->j, fd, r->stun_port);
}

int relay_alloc(struct relay **rp, struct evloop *loop, struct journal *j,
                const struct relay_cfg *cfg)
{
	struct relay *r;
	uint16_t first;

	if (!rp || !cfg || cfg->port_min == 0 || cfg->port_max < cfg->port_min + 5)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->loop = loop;
	r->j = j;
	r->cfg = *cfg;
	r->stun_fd = -1;
	first = first_pair_port(r);
	r->npairs = (size_t)(cfg->port_max - first + 1) / 2;
	r->busy = calloc(r->npairs, 1);
	if (!r->busy) {
		relay_free(r);
		return ENOMEM;
	}
	if (cfg->stun_on_first_port) {
		struct sock_addr a = cfg->addr;
		sock_addr_set_port(&a, cfg->port_min);
		r->stun_fd = sock_bind_udp(&a);
		if (r->stun_fd < 0 || evloop_fd_add(loop, r->stun_fd, EPOLLIN, stun_event, r)) {
			int err = r->stun_fd < 0 ? -r->stun_fd : ENOMEM;
			relay_free(r);
			return err;
		}
		r->stun_port = cfg->port_min;
	}
	*rp = r;
	return 0;
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	if (r->stun_fd >= 0) {
		evloop_fd_del(r->loop, r->stun_fd);
		close(r->stun_fd);
	}
	free(r->busy);
	free(r);
}
