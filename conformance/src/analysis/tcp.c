/* tcp.c - TCP connection events and per-direction stream reassembly.
 *
 * Each direction keeps the next expected sequence number, a contiguous buffer of bytes not yet
 * consumed by an application decoder, and a short out-of-order list. Sequence comparisons are
 * wrap-safe ((int32_t)(a - b), RFC 793 §3.3 modular arithmetic). Everything is capped: a
 * direction whose buffer or out-of-order list overflows, or that shows a gap at the end of its
 * out-of-order budget, stops being decoded (counted in tcp_gaps). A flow is freed on RST, on
 * FIN from both sides, or when evicted as least recently used.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"

#define OOO_MAX_SEGS 64

enum app { APP_UNKNOWN = 0, APP_TLS, APP_HTTP, APP_SIP, APP_DONE };

struct seg {
	uint32_t seq;
	uint32_t len;
	struct seg *next;
	uint8_t data[];
};

struct tcp_dir {
	bool have_next;
	bool fin;
	uint32_t next;
	uint8_t *buf;
	size_t len, cap;
	struct seg *ooo; /* sorted by seq */
	unsigned nooo;
	size_t ooo_bytes;
	enum app app;
	struct pktinfo msg_pi; /* packet that carried the first unconsumed byte */
};

struct flow {
	struct flow *hnext;
	struct flow *lru_prev, *lru_next;
	uint32_t hash;
	int af;
	uint8_t ca[16], sa[16]; /* client (initiator) and server addresses */
	uint16_t cport, sport;
	bool syn_seen, synack_seen, rst_seen;
	unsigned syn_retx;
	struct pktinfo syn_pi;
	json_t *syn_ev; /* borrowed: owned by the timeline */
	struct http_pair pair;
	struct tcp_dir d[2]; /* 0: client -> server */
};

struct tcp_table {
	struct flow **bucket;
	size_t nbucket;
	size_t nflows, max_flows, max_buf;
	struct flow *lru_head, *lru_tail; /* head = most recent */
};

int tcp_table_alloc(struct tcp_table **tp, size_t max_flows, size_t max_buf)
{
	struct tcp_table *tt = calloc(1, sizeof(*tt));
	size_t nb = 1024;

	if (!tt)
		return ENOMEM;
	while (nb < max_flows * 2 && nb < (1u << 22))
		nb <<= 1;
	tt->bucket = calloc(nb, sizeof(*tt->bucket));
	if (!tt->bucket) {
		free(tt);
		return ENOMEM;
	}
	tt->nbucket = nb;
	tt->max_flows = max_flows;
	tt->max_buf = max_buf;
	*tp = tt;
	return 0;
}

static void dir_clear(struct tcp_dir *d)
{
	struct seg *s = d->ooo;

	while (s) {
		struct seg *n = s->next;

		free(s);
		s = n;
	}
	d->ooo = NULL;
	d->nooo = 0;
	d->ooo_bytes = 0;
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

static uint32_t flow_hash(int af, const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
	/* Symmetric in the two endpoints so both directions land in the same bucket. */
	size_t n = af == AF_INET6 ? 16 : 4;
	uint32_t ha = 2166136261u, hb = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		ha = (ha ^ a[i]) * 16777619u;
		hb = (hb ^ b[i]) * 16777619u;
	}
	ha = (ha ^ ap) * 16777619u;
	hb = (hb ^ bp) * 16777619u;
	return ha ^ hb;
}

static void lru_unlink(struct tcp_table *tt, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		tt->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		tt->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_front(struct tcp_table *tt, struct flow *f)
{
	f->lru_next = tt->lru_head;
	f->lru_prev = NULL;
	if (tt->lru_head)
		tt->lru_head->lru_prev = f;
	tt->lru_head = f;
	if (!tt->lru_tail)
		tt->lru_tail = f;
}

/* Emits what a flow leaves behind when it goes (an unanswered SYN) and frees it. */
static void flow_end(struct conform_timeline *t, struct flow *f)
{
	struct tcp_table *tt = t->tcp;
	struct flow **pp = &tt->bucket[f->hash & (tt->nbucket - 1)];

	if (f->syn_seen && !f->synack_seen && !f->rst_seen) {
		json_t *ev = tl_add_pcap_event(t, &f->syn_pi, "tcp.unanswered");

		if (ev)
			ev_set_int(ev, "retransmits", f->syn_retx);
	}
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	lru_unlink(tt, f);
	dir_clear(&f->d[0]);
	dir_clear(&f->d[1]);
	free(f);
	tt->nflows--;
}

void tcp_table_free(struct tcp_table *tt)
{
	if (!tt)
		return;
	while (tt->lru_head) {
		struct flow *f = tt->lru_head;

		tt->lru_head = f->lru_next;
		dir_clear(&f->d[0]);
		dir_clear(&f->d[1]);
		free(f);
	}
	free(tt->bucket);
	free(tt);
}

void tcp_flush(struct conform_timeline *t)
{
	while (t->tcp->lru_tail)
		flow_end(t, t->tcp->lru_tail);
}

static struct flow *flow_find(struct tcp_table *tt, const struct pktinfo *pi, uint32_t h, int *dir)
{
	size_t n = pi->af == AF_INET6 ? 16 : 4;

	for (struct flow *f = tt->bucket[h & (tt->nbucket - 1)]; f; f = f->hnext) {
		if (f->hash != h || f->af != pi->af)
			continue;
		if (f->cport == pi->sport && f->sport == pi->dport && !memcmp(f->ca, pi->sa, n) &&
		    !memcmp(f->sa, pi->da, n)) {
			*dir = 0;
			return f;
		}
		if (f->cport == pi->dport && f->sport == pi->sport && !memcmp(f->ca, pi->da, n) &&
		    !memcmp(f->sa, pi->sa, n)) {
			*dir = 1;
			return f;
		}
	}
	return NULL;
}

/* A connection's events name the service of the port it was made to, also when the packet
 * (a SYN/ACK, a RST) comes back from that port. */
static void conn_service(json_t *ev, const struct flow *f)
{
	json_object_del(ev, "dst_service");
	ev_set_str(ev, "dst_service", port_service(f->sport));
}

/* client_is_sender: whether the packet's sender initiated the connection (as far as we know). */
static struct flow *flow_new(struct conform_timeline *t, const struct pktinfo *pi, uint32_t h,
                             bool client_is_sender)
{
	struct tcp_table *tt = t->tcp;
	struct flow *f;

	if (tt->nflows >= tt->max_flows && tt->lru_tail)
		flow_end(t, tt->lru_tail);
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->hash = h;
	f->af = pi->af;
	if (client_is_sender) {
		memcpy(f->ca, pi->sa, 16);
		memcpy(f->sa, pi->da, 16);
		f->cport = pi->sport;
		f->sport = pi->dport;
	} else {
		memcpy(f->ca, pi->da, 16);
		memcpy(f->sa, pi->sa, 16);
		f->cport = pi->dport;
		f->sport = pi->sport;
	}
	f->hnext = tt->bucket[h & (tt->nbucket - 1)];
	tt->bucket[h & (tt->nbucket - 1)] = f;
	lru_front(tt, f);
	tt->nflows++;
	return f;
}

static void dir_give_up(struct conform_timeline *t, struct tcp_dir *d)
{
	if (d->app != APP_DONE)
		t->st.tcp_gaps++;
	d->app = APP_DONE;
	dir_clear(d);
}

static enum app classify(const uint8_t *p, size_t len, bool skip_http)
{
	size_t crlf = 0;
	int tp;

	/* RFC 5626 keep-alives (CRLF CRLF) may precede the first SIP message of a stream. */
	while (crlf < len && (p[crlf] == '\r' || p[crlf] == '\n'))
		crlf++;
	if (crlf == len)
		return crlf > 64 ? APP_DONE : APP_UNKNOWN;
	if (crlf) {
		tp = text_proto(p + crlf, len - crlf);
		return tp == 1 ? APP_SIP : tp == 0 ? APP_UNKNOWN : APP_DONE;
	}
	if (tls_looks_like(p, len))
		return APP_TLS;
	tp = text_proto(p, len);
	if (tp == 0)
		return APP_UNKNOWN; /* a start line still arriving */
	if (tp == 2 && !skip_http)
		return APP_HTTP;
	if (tp == 1)
		return APP_SIP;
	return APP_DONE;
}

/* Runs the application decoders over the buffered bytes of one direction. */
static void dir_decode(struct conform_timeline *t, struct flow *f, struct tcp_dir *d)
{
	for (int guard = 0; d->len > 0 && d->app != APP_DONE && guard < 4096; guard++) {
		long n = -1;
		bool opaque = false;
		enum http_next next = HTTP_NEXT_SAME;

		if (d->app == APP_UNKNOWN) {
			if (d->len < 8)
				return; /* too little to tell; wait */
			d->app = classify(d->buf, d->len, false);
			if (d->app == APP_UNKNOWN)
				return;
			continue;
		}
		if (d->app == APP_TLS)
			n = tls_decode(t, &d->msg_pi, d->buf, d->len, &opaque);
		else if (d->app == APP_HTTP)
			n = http_decode(t, &d->msg_pi, d->buf, d->len, &f->pair, &next);
		else if (d->app == APP_SIP)
			n = sip_decode(t, &d->msg_pi, d->buf, d->len, true);
		if (n == 0)
			return;
		if (n < 0) {
			/* After an HTTP message the stream may carry something else (a CONNECT
			 * tunnel's TLS); any other decoder losing sync ends the direction. */
			d->app = d->app == APP_HTTP ? classify(d->buf, d->len, true) : APP_DONE;
			if (d->app == APP_UNKNOWN)
				return;
			continue;
		}
		if ((size_t)n > d->len)
			n = (long)d->len;
		memmove(d->buf, d->buf + n, d->len - (size_t)n);
		d->len -= (size_t)n;
		if (opaque || next == HTTP_NEXT_OPAQUE)
			d->app = APP_DONE;
		else if (next == HTTP_NEXT_TUNNEL)
			d->app = APP_UNKNOWN;
	}
	if (d->app == APP_DONE)
		dir_clear(d);
}

static bool dir_append(struct conform_timeline *t, struct tcp_dir *d, const struct pktinfo *pi,
                       const uint8_t *p, size_t len)
{
	size_t max = t->tcp->max_buf;

	if (len == 0)
		return true;
	if (d->len + len > max)
		return false;
	if (d->len + len > d->cap) {
		size_t nc = d->cap ? d->cap : 2048;
		uint8_t *nb;

		while (nc < d->len + len)
			nc *= 2;
		if (nc > max)
			nc = max;
		nb = realloc(d->buf, nc);
		if (!nb)
			return false;
		d->buf = nb;
		d->cap = nc;
	}
	if (d->len == 0)
		d->msg_pi = *pi;
	memcpy(d->buf + d->len, p, len);
	d->len += len;
	return true;
}

/* Inserts an out-of-order segment; false when over budget. */
static bool ooo_insert(struct conform_timeline *t, struct tcp_dir *d, uint32_t seq,
                       const uint8_t *p, size_t len)
{
	struct seg *s, **pp = &d->ooo;

	if (d->nooo >= OOO_MAX_SEGS || d->ooo_bytes + len > t->tcp->max_buf)
		return false;
	while (*pp && (int32_t)((*pp)->seq - seq) < 0)
		pp = &(*pp)->next;
	if (*pp && (*pp)->seq == seq && (*pp)->len >= len)
		return true; /* retransmitted copy */
	s = malloc(sizeof(*s) + len);
	if (!s)
		return false;
	s->seq = seq;
	s->len = (uint32_t)len;
	memcpy(s->data, p, len);
	s->next = *pp;
	*pp = s;
	d->nooo++;
	d->ooo_bytes += len;
	return true;
}

static void dir_data(struct conform_timeline *t, struct flow *f, struct tcp_dir *d,
                     const struct pktinfo *pi, uint32_t seq, const uint8_t *p, size_t len)
{
	int32_t diff;

	if (d->app == APP_DONE || len == 0)
		return;
	if (!d->have_next) {
		d->next = seq; /* capture started mid-connection */
		d->have_next = true;
	}
	diff = (int32_t)(seq - d->next);
	if (diff > 0) {
		if (!ooo_insert(t, d, seq, p, len))
			dir_give_up(t, d);
		return;
	}
	if ((size_t)(-(int64_t)diff) >= len)
		return; /* all old */
	p += -diff;
	len -= (size_t)(-diff);
	if (!dir_append(t, d, pi, p, len)) {
		dir_give_up(t, d);
		return;
	}
	d->next += (uint32_t)len;
	/* Drain segments that now fit. */
	while (d->ooo && (int32_t)(d->ooo->seq - d->next) <= 0) {
		struct seg *s = d->ooo;
		int32_t over = (int32_t)(d->next - s->seq);

		d->ooo = s->next;
		d->nooo--;
		d->ooo_bytes -= s->len;
		if ((uint32_t)over < s->len) {
			if (!dir_append(t, d, pi, s->data + over, s->len - (uint32_t)over)) {
				free(s);
				dir_give_up(t, d);
				return;
			}
			d->next += s->len - (uint32_t)over;
		}
		free(s);
	}
	dir_decode(t, f, d);
}

void tcp_packet(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len)
{
	struct tcp_table *tt = t->tcp;
	size_t off = (size_t)(p[12] >> 4) * 4;
	uint8_t flags = p[13];
	bool syn = flags & 0x02, ack = flags & 0x10, rst = flags & 0x04, fin = flags & 0x01;
	uint32_t seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	uint32_t h = flow_hash(pi->af, pi->sa, pi->sport, pi->da, pi->dport);
	struct flow *f;
	int dir = 0;

	if (off < 20 || off > len) {
		t->st.undecoded++;
		return;
	}
	f = flow_find(tt, pi, h, &dir);
	if (f && syn && !ack && dir == 0 && f->d[0].have_next &&
	    (int32_t)(seq + 1 - f->d[0].next) != 0 && f->synack_seen) {
		/* A new connection reusing the 4-tuple: the old one is over. */
		flow_end(t, f);
		f = NULL;
	}
	if (!f) {
		if (!syn && len == off && !rst)
			return; /* a bare ACK/FIN of a flow we no longer (or never) track */
		f = flow_new(t, pi, h, !(syn && ack));
		if (!f)
			return;
		dir = (syn && ack) ? 1 : 0;
	} else {
		lru_unlink(tt, f);
		lru_front(tt, f);
	}
	struct tcp_dir *d = &f->d[dir];

	if (syn && !ack) {
		if (!f->syn_seen) {
			f->syn_seen = true;
			f->syn_pi = *pi;
			f->syn_ev = tl_add_pcap_event(t, pi, "tcp.syn");
			if (f->syn_ev)
				ev_set_int(f->syn_ev, "retransmits", 0);
		} else if (!f->synack_seen) {
			f->syn_retx++;
			if (f->syn_ev)
				ev_set_int(f->syn_ev, "retransmits", f->syn_retx);
		}
		d->next = seq + 1;
		d->have_next = true;
	} else if (syn && ack) {
		if (!f->synack_seen) {
			json_t *ev = tl_add_pcap_event(t, pi, "tcp.established");

			f->synack_seen = true;
			if (ev)
				conn_service(ev, f);
			if (ev && f->syn_seen)
				ev_set_real(ev, "rtt_ms", (pi->t - f->syn_pi.t) * 1000.0);
		}
		d->next = seq + 1;
		d->have_next = true;
	}
	if (rst) {
		if (!f->rst_seen) {
			json_t *ev = tl_add_pcap_event(t, pi, "tcp.rst");

			if (ev) {
				ev_set_bool(ev, "answered_syn", f->syn_seen && !f->synack_seen);
				conn_service(ev, f);
			}
		}
		f->rst_seen = true;
		flow_end(t, f);
		return;
	}
	dir_data(t, f, d, pi, syn ? seq + 1 : seq, p + off, len - off);
	if (fin)
		d->fin = true;
	if (f->d[0].fin && f->d[1].fin)
		flow_end(t, f);
}
