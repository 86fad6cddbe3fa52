/* tlbench - media-like UDP load through a TeamLink tunnel, through a TURN server over TLS
 * (RFC 8656 ChannelData), or straight to the echo peer (the baseline), with loss and
 * round-trip percentiles. One JSON line of results on stdout.
 *
 *   tlbench direct --peer ADDR:PORT [load]
 *   tlbench tunnel --url URL --token-file F --ca F --peer ADDR:PORT [load]
 *   tlbench turn --server HOST:PORT --ca F --user U --password P --peer ADDR:PORT [load]
 *   load: --streams N --rate PPS --size BYTES --seconds S [--flat WINDOW]
 *
 * Media mode: every stream sends SIZE-byte datagrams at RATE per second, spread over the
 * period. Flat mode: every stream keeps WINDOW datagrams in flight (a new one per echo).
 */
#define LOG_TAG "tlbench"
#include "stream.h"
#include "teamlink/client.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/sock.h"
#include "onsight/stun.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAGIC 0x544c424eu
#define MAX_SAMPLES (4u << 20)
#define TURN_ALLOCATE 0x0003
#define TURN_CHANNEL_BIND 0x0009
#define ATTR_CHANNEL_NUMBER 0x000C
#define ATTR_XOR_PEER 0x0012
#define ATTR_REQ_TRANSPORT 0x0019

enum mode { M_DIRECT, M_TUNNEL, M_TURN };

struct bench;

struct flow {
	struct bench *b;
	unsigned idx;
	uint64_t sent, rcvd;
	uint64_t next_ns, last_rx_ns;
	int ready;
	struct tlc_chan *ch; /* tunnel */
	int fd; /* direct */
	struct stream *st; /* turn */
	uint8_t in[65536];
	size_t inlen;
	int tstate; /* 0 alloc unauth, 1 alloc auth, 2 bind, 3 ready */
	uint8_t tid[12];
	char realm[128], nonce[256];
	uint8_t key[16];
	uint16_t chnum;
};

struct bench {
	enum mode mode;
	struct evloop *loop;
	const char *url, *token_file, *ca, *server, *user, *password;
	struct sock_addr peer, server_sa;
	char server_host[256];
	unsigned streams, rate, size, seconds, flat;
	struct flow *f;
	unsigned nready;
	struct tlc *t;
	SSL_CTX *tls;
	int phase; /* 0 setup, 1 running, 2 draining */
	uint64_t t0_ns, t_end_ns;
	uint32_t *rtt_us;
	size_t nrtt;
	uint64_t send_fail;
	uint64_t tick;
	int failed;
	char why[256];
};

static void failx(struct bench *b, const char *why)
{
	if (!b->failed)
		str_copy(b->why, why, sizeof(b->why));
	b->failed = 1;
	evloop_stop(b->loop);
}

static void payload(struct flow *f, uint8_t *buf)
{
	uint32_t m = MAGIC, idx = f->idx, seq = (uint32_t)f->sent;
	uint64_t now = evloop_now_ns();

	memset(buf, 0x5a, f->b->size);
	memcpy(buf, &m, 4);
	memcpy(buf + 4, &idx, 4);
	memcpy(buf + 8, &seq, 4);
	memcpy(buf + 12, &now, 8);
}

static void send_one(struct flow *f)
{
	struct bench *b = f->b;
	uint8_t buf[4 + 65536];
	int err = 0;

	if (b->mode == M_TURN) {
		size_t padded = (b->size + 3) & ~(size_t)3;
		buf[0] = (uint8_t)(f->chnum >> 8);
		buf[1] = (uint8_t)f->chnum;
		buf[2] = (uint8_t)(b->size >> 8);
		buf[3] = (uint8_t)b->size;
		payload(f, buf + 4);
		memset(buf + 4 + b->size, 0, padded - b->size);
		err = stream_write(f->st, buf, 4 + padded);
	} else {
		payload(f, buf);
		if (b->mode == M_TUNNEL)
			err = tlc_send(f->ch, buf, b->size);
		else if (send(f->fd, buf, b->size, MSG_DONTWAIT) < 0)
			err = errno;
	}
	if (err)
		b->send_fail++;
	f->sent++;
}

static void got(struct flow *f, const uint8_t *p, size_t n)
{
	struct bench *b = f->b;
	uint32_t m, idx;
	uint64_t ts, now = evloop_now_ns();

	if (n < 20)
		return;
	memcpy(&m, p, 4);
	memcpy(&idx, p + 4, 4);
	memcpy(&ts, p + 12, 8);
	if (m != MAGIC || idx != f->idx || b->phase == 0)
		return;
	f->rcvd++;
	f->last_rx_ns = now;
	if (b->nrtt < MAX_SAMPLES && now > ts)
		b->rtt_us[b->nrtt++] = (uint32_t)((now - ts) / 1000);
	if (b->flat && b->phase == 1)
		send_one(f);
}

/* ---- direct ---- */

static void direct_readable(int fd, uint32_t events, void *arg)
{
	uint8_t buf[65536];

	(void)events;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return;
		got(arg, buf, (size_t)n);
	}
}

/* ---- tunnel ---- */

static void tl_opened(struct tlc_chan *c, const char *addr, void *arg)
{
	struct flow *f = arg;

	(void)c;
	(void)addr;
	f->ready = 1;
	f->b->nready++;
}

static void tl_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	(void)c;
	got(arg, p, n);
}

static void tl_closed(struct tlc_chan *c, int code, const char *text, void *arg)
{
	struct flow *f = arg;
	char why[256];

	(void)c;
	f->ch = NULL;
	snprintf(why, sizeof(why), "channel closed: %d %s", code, text);
	failx(f->b, why);
}

static void tl_state(struct tlc *t, enum tlc_state st, const char *reason, void *arg)
{
	struct bench *b = arg;
	static const struct tlc_chan_handlers h = {tl_opened, tl_data, tl_closed};
	char host[64];

	(void)t;
	if (st != TLC_OPEN) {
		failx(b, reason);
		return;
	}
	sock_addr_host(&b->peer, host, sizeof(host));
	for (unsigned i = 0; i < b->streams; i++)
		if (tlc_open_udp(b->t, &b->f[i].ch, host, sock_addr_port(&b->peer), &h, &b->f[i])) {
			failx(b, "cannot open a channel");
			return;
		}
}

/* ---- TURN over TLS ---- */

static void turn_send_request(struct flow *f)
{
	struct bench *b = f->b;
	struct stun_builder sb;
	uint8_t buf[512];
	size_t len;
	static const uint8_t udp[4] = {17, 0, 0, 0};

	if (RAND_bytes(f->tid, sizeof(f->tid)) != 1)
		memset(f->tid, f->idx, sizeof(f->tid));
	stun_build_begin(&sb, buf, sizeof(buf), f->tstate == 2 ? TURN_CHANNEL_BIND : TURN_ALLOCATE,
	                 f->tid);
	if (f->tstate == 2) {
		uint8_t chn[4] = {(uint8_t)(f->chnum >> 8), (uint8_t)f->chnum, 0, 0};
		stun_add_bytes(&sb, ATTR_CHANNEL_NUMBER, chn, 4);
		stun_add_xor_address(&sb, ATTR_XOR_PEER, &b->peer);
	} else
		stun_add_bytes(&sb, ATTR_REQ_TRANSPORT, udp, 4);
	if (f->tstate > 0) {
		stun_add_bytes(&sb, STUN_ATTR_USERNAME, b->user, strlen(b->user));
		stun_add_bytes(&sb, STUN_ATTR_REALM, f->realm, strlen(f->realm));
		stun_add_bytes(&sb, STUN_ATTR_NONCE, f->nonce, strlen(f->nonce));
	}
	if (stun_build_finish(&sb, f->tstate > 0 ? f->key : NULL, 16, 0, &len) ||
	    stream_write(f->st, buf, len))
		failx(b, "TURN request");
}

static void turn_stun(struct flow *f, const uint8_t *p, size_t n)
{
	struct stun_msg m;
	char why[200];

	if (stun_decode(&m, p, n) || memcmp(m.tid, f->tid, 12))
		return;
	if (m.error_code == 401 && f->tstate == 0) {
		snprintf(f->realm, sizeof(f->realm), "%.*s", (int)m.realm.len, m.realm.p);
		snprintf(f->nonce, sizeof(f->nonce), "%.*s", (int)m.nonce.len, m.nonce.p);
		stun_longterm_key(f->b->user, f->realm, f->b->password, f->key);
		f->tstate = 1;
		turn_send_request(f);
		return;
	}
	if (m.error_code) {
		snprintf(why, sizeof(why), "TURN error %d %.*s", m.error_code, (int)m.reason.len,
		         m.reason.p ? m.reason.p : "");
		failx(f->b, why);
		return;
	}
	if (f->tstate == 1) {
		f->tstate = 2;
		turn_send_request(f);
	} else if (f->tstate == 2) {
		f->tstate = 3;
		f->ready = 1;
		f->b->nready++;
	}
}

static void turn_readable(struct stream *s, void *arg)
{
	struct flow *f = arg;

	for (int i = 0; i < 64; i++) {
		size_t off = 0;
		ssize_t n = stream_read(s, f->in + f->inlen, sizeof(f->in) - f->inlen);
		if (n == STREAM_AGAIN)
			return;
		if (n <= 0) {
			failx(f->b, "TURN connection closed");
			return;
		}
		f->inlen += (size_t)n;
		/* RFC 8656 §12.5: over TCP/TLS ChannelData is padded to four bytes */
		while (f->inlen - off >= 4) {
			const uint8_t *p = f->in + off;
			size_t len = (size_t)(p[2] << 8 | p[3]), total;
			if ((p[0] & 0xc0) == 0x40) {
				total = 4 + ((len + 3) & ~(size_t)3);
				if (f->inlen - off < total)
					break;
				got(f, p + 4, len);
			} else {
				total = 20 + len;
				if (f->inlen - off < total)
					break;
				turn_stun(f, p, total);
			}
			off += total;
		}
		memmove(f->in, f->in + off, f->inlen - off);
		f->inlen -= off;
	}
}

static void turn_event(struct stream *s, enum stream_event ev, int err, const char *what, void *arg)
{
	struct flow *f = arg;

	(void)s;
	(void)err;
	if (ev == STREAM_UP)
		turn_send_request(f);
	else if (ev == STREAM_ERROR)
		failx(f->b, what);
}

/* ---- driver ---- */

static void on_tick(void *arg)
{
	struct bench *b = arg;
	uint64_t now = evloop_now_ns();
	uint64_t period = 1000000000ull / b->rate;

	b->tick = evloop_timer_add(b->loop, 1, on_tick, b);
	if (b->phase == 0) {
		if (b->nready < b->streams)
			return;
		b->phase = 1;
		b->t0_ns = now;
		b->t_end_ns = now + (uint64_t)b->seconds * 1000000000ull;
		for (unsigned i = 0; i < b->streams; i++) {
			struct flow *f = &b->f[i];
			f->next_ns = now + period * i / b->streams;
			f->last_rx_ns = now;
			if (b->flat)
				for (unsigned k = 0; k < b->flat; k++)
					send_one(f);
		}
		return;
	}
	if (b->phase == 1 && now >= b->t_end_ns) {
		b->phase = 2;
		b->t_end_ns = now + 1000000000ull; /* one second for late echoes */
		return;
	}
	if (b->phase == 2) {
		if (now >= b->t_end_ns)
			evloop_stop(b->loop);
		return;
	}
	for (unsigned i = 0; i < b->streams; i++) {
		struct flow *f = &b->f[i];
		if (b->flat) {
			/* a window lost to drops is primed again */
			if (now - f->last_rx_ns > 200000000ull) {
				f->last_rx_ns = now;
				for (unsigned k = 0; k < b->flat; k++)
					send_one(f);
			}
			continue;
		}
		for (int k = 0; k < 4 && f->next_ns <= now; k++) {
			send_one(f);
			f->next_ns += period;
		}
	}
}

static void on_deadline(void *arg)
{
	evloop_stop(arg);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int setup(struct bench *b)
{
	b->f = calloc(b->streams, sizeof(*b->f));
	b->rtt_us = malloc(MAX_SAMPLES * sizeof(uint32_t));
	if (!b->f || !b->rtt_us)
		return ENOMEM;
	for (unsigned i = 0; i < b->streams; i++) {
		b->f[i].b = b;
		b->f[i].idx = i;
		b->f[i].fd = -1;
		b->f[i].chnum = (uint16_t)(0x4000 + i);
	}
	if (b->mode == M_DIRECT) {
		for (unsigned i = 0; i < b->streams; i++) {
			struct sock_addr any = {0};
			int fd;
			any.ss.ss_family = b->peer.ss.ss_family;
			any.len = b->peer.len;
			fd = sock_bind_udp(&any);
			if (fd < 0 || connect(fd, (struct sockaddr *)&b->peer.ss, b->peer.len) ||
			    evloop_fd_add(b->loop, fd, EPOLLIN, direct_readable, &b->f[i]))
				return EIO;
			b->f[i].fd = fd;
			b->f[i].ready = 1;
			b->nready++;
		}
		return 0;
	}
	if (tls_client_ctx(&b->tls, b->ca, NULL))
		return EINVAL;
	if (b->mode == M_TUNNEL) {
		char *tok = NULL;
		size_t n;
		struct tlc_opts o = {.url = b->url, .tls = b->tls, .timeout_ms = 10000};
		int err;
		if (file_read_secret(b->token_file, &tok, &n))
			return EINVAL;
		o.token = tok;
		err = tlc_open(&b->t, b->loop, &o, tl_state, b);
		free(tok);
		return err;
	}
	for (unsigned i = 0; i < b->streams; i++) {
		int fd = sock_connect_tcp(&b->server_sa);
		SSL *ssl;
		if (fd < 0)
			return -fd;
		ssl = tls_client_ssl(b->tls, fd, b->server_host);
		if (!ssl ||
		    stream_alloc(&b->f[i].st, b->loop, fd, ssl, 1, 1, 16u << 20, turn_readable,
		                 turn_event, &b->f[i]))
			return EIO;
	}
	return 0;
}

static void report(struct bench *b)
{
	uint64_t sent = 0, rcvd = 0;
	static const char *names[] = {"direct", "tunnel", "turn"};
	double secs = (double)b->seconds;

	for (unsigned i = 0; i < b->streams; i++) {
		sent += b->f[i].sent;
		rcvd += b->f[i].rcvd;
	}
	qsort(b->rtt_us, b->nrtt, sizeof(uint32_t), cmp_u32);
	printf("{\"mode\":\"%s\",\"load\":\"%s\",\"streams\":%u,\"rate\":%u,\"size\":%u,"
	       "\"seconds\":%u,\"sent\":%llu,\"received\":%llu,\"send_fail\":%llu,"
	       "\"loss\":%.6f,\"rtt_p50_us\":%u,\"rtt_p99_us\":%u,\"echo_pps\":%.1f}\n",
	       names[b->mode], b->flat ? "flat" : "media", b->streams, b->rate, b->size, b->seconds,
	       (unsigned long long)sent, (unsigned long long)rcvd, (unsigned long long)b->send_fail,
	       sent ? 1.0 - (double)rcvd / (double)sent : 0.0, b->nrtt ? b->rtt_us[b->nrtt / 2] : 0,
	       b->nrtt ? b->rtt_us[(size_t)((double)b->nrtt * 0.99)] : 0, (double)rcvd / secs);
}

int main(int argc, char **argv)
{
	struct bench b;
	const char *peer = NULL;
	int rc = 1;

	memset(&b, 0, sizeof(b));
	log_init("tlbench", LOG_LVL_WARN);
	util_ignore_sigpipe();
	b.streams = 10;
	b.rate = 50;
	b.size = 200;
	b.seconds = 5;
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "direct"))
		b.mode = M_DIRECT;
	else if (!strcmp(argv[1], "tunnel"))
		b.mode = M_TUNNEL;
	else if (!strcmp(argv[1], "turn"))
		b.mode = M_TURN;
	else
		goto usage;
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--url"))
			b.url = v;
		else if (!strcmp(k, "--token-file"))
			b.token_file = v;
		else if (!strcmp(k, "--ca"))
			b.ca = v;
		else if (!strcmp(k, "--server"))
			b.server = v;
		else if (!strcmp(k, "--user"))
			b.user = v;
		else if (!strcmp(k, "--password"))
			b.password = v;
		else if (!strcmp(k, "--peer"))
			peer = v;
		else if (!strcmp(k, "--streams"))
			b.streams = (unsigned)atoi(v);
		else if (!strcmp(k, "--rate"))
			b.rate = (unsigned)atoi(v);
		else if (!strcmp(k, "--size"))
			b.size = (unsigned)atoi(v);
		else if (!strcmp(k, "--seconds"))
			b.seconds = (unsigned)atoi(v);
		else if (!strcmp(k, "--flat"))
			b.flat = (unsigned)atoi(v);
		else
			goto usage;
	}
	if (!peer || sock_addr_parse(&b.peer, peer, 0) || b.streams < 1 || b.streams > 10000 ||
	    b.rate < 1 || b.rate > 10000 || b.size < 20 || b.size > 16384 || b.seconds < 1 ||
	    b.seconds > 600 || (b.mode == M_TUNNEL && (!b.url || !b.token_file || !b.ca)) ||
	    (b.mode == M_TURN && (!b.server || !b.user || !b.password || !b.ca)))
		goto usage;
	if (b.mode == M_TURN) {
		const char *c = strrchr(b.server, ':');
		if (!c || sock_addr_resolve(&b.server_sa, b.server, 0, SOCK_STREAM))
			goto usage;
		snprintf(b.server_host, sizeof(b.server_host), "%.*s", (int)(c - b.server),
		         b.server);
	}
	if (evloop_alloc(&b.loop) || setup(&b)) {
		fprintf(stderr, "tlbench: setup failed\n");
		goto out;
	}
	b.tick = evloop_timer_add(b.loop, 1, on_tick, &b);
	/* bounded: setup + run + drain, or the deadline below */
	evloop_timer_add(b.loop, (uint64_t)(b.seconds + 30) * 1000, on_deadline, b.loop);
	evloop_run(b.loop);
	if (b.failed || b.phase != 2) {
		fprintf(stderr, "tlbench: %s\n", b.failed ? b.why : "did not finish in time");
		goto out;
	}
	report(&b);
	rc = 0;
out:
	tlc_free(b.t);
	for (unsigned i = 0; b.f && i < b.streams; i++) {
		stream_free(b.f[i].st);
		if (b.f[i].fd >= 0) {
			evloop_fd_del(b.loop, b.f[i].fd);
			close(b.f[i].fd);
		}
	}
	evloop_free(b.loop);
	SSL_CTX_free(b.tls);
	free(b.f);
	free(b.rtt_us);
	return rc;
usage:
	fprintf(stderr, "usage: see the comment at the top of bench/tunnel/tlbench.c\n");
	return 2;
}
