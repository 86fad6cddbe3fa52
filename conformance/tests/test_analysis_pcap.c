/* test_analysis_pcap.c - the capture decoders on packets built here for each edge case (TCP
 * reordering, retransmission, sequence wrap, gaps; SIP framing; CONNECT tunnels; STUN, DNS,
 * RTP, IPv6, VLAN). Real traffic is covered by the golden captures in captures/. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conform/analysis.h"
#include "testutil.h"

struct cap {
	uint8_t *buf;
	size_t len, cap;
	double t;
};

static void put(struct cap *c, const void *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2 + 4096;
		c->buf = realloc(c->buf, c->cap);
		ck_assert_ptr_nonnull(c->buf);
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void cap_init(struct cap *c)
{
	/* classic pcap, microseconds, LINKTYPE_ETHERNET */
	uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};

	memset(c, 0, sizeof(*c));
	c->t = 1795000000.0;
	put(c, gh, sizeof(gh));
}

static uint16_t csum_dummy(void)
{
	return 0; /* checksums are not verified by the decoder (offloading makes them wrong) */
}

/* Writes the Ethernet header (optionally with a VLAN tag); returns its length. */
static size_t eth_hdr(uint8_t *pkt, bool v6, bool vlan)
{
	size_t off = 12;

	memset(pkt, 0x02, 12);
	if (vlan) {
		pkt[off++] = 0x81;
		pkt[off++] = 0x00;
		pkt[off++] = 0x00;
		pkt[off++] = 0x05;
	}
	pkt[off++] = v6 ? 0x86 : 0x08;
	pkt[off++] = v6 ? 0xdd : 0x00;
	return off;
}

/* Writes an IPv4 (20 octets) or IPv6 (40 octets) header carrying plen octets of protocol
 * proto; for IPv4, id and the flags/fragment-offset field too. Returns its length. */
static size_t ip_hdr(uint8_t *h, bool v6, const char *src, const char *dst, int proto, size_t plen,
                     uint16_t id, uint16_t fo)
{
	if (v6) {
		h[0] = 0x60;
		h[4] = (uint8_t)(plen >> 8);
		h[5] = (uint8_t)plen;
		h[6] = (uint8_t)proto;
		h[7] = 64;
		ck_assert_int_eq(inet_pton(AF_INET6, src, h + 8), 1);
		ck_assert_int_eq(inet_pton(AF_INET6, dst, h + 24), 1);
		return 40;
	}
	h[0] = 0x45;
	h[2] = (uint8_t)((20 + plen) >> 8);
	h[3] = (uint8_t)(20 + plen);
	h[4] = (uint8_t)(id >> 8);
	h[5] = (uint8_t)id;
	h[6] = (uint8_t)(fo >> 8);
	h[7] = (uint8_t)fo;
	h[8] = 64;
	h[9] = (uint8_t)proto;
	ck_assert_int_eq(inet_pton(AF_INET, src, h + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, h + 16), 1);
	return 20;
}

/* Appends the frame as the next pcap record, 1 ms after the previous one. */
static void record(struct cap *c, const uint8_t *pkt, size_t len)
{
	uint32_t rec[4];

	c->t += 0.001;
	rec[0] = (uint32_t)c->t;
	rec[1] = (uint32_t)((c->t - (uint32_t)c->t) * 1e6);
	rec[2] = rec[3] = (uint32_t)len;
	put(c, rec, sizeof(rec));
	put(c, pkt, len);
}

/* Appends one Ethernet/IPv4 (or IPv6, optionally VLAN-tagged) frame. */
static void frame(struct cap *c, bool v6, bool vlan, const char *src, uint16_t sport,
                  const char *dst, uint16_t dport, int proto, uint32_t seq, uint8_t flags,
                  const void *payload, size_t plen)
{
	uint8_t pkt[2048];
	size_t off, l4 = proto == 6 ? 20 : 8;

	ck_assert_uint_lt(plen, 1800);
	memset(pkt, 0, sizeof(pkt));
	off = eth_hdr(pkt, v6, vlan);
	off += ip_hdr(pkt + off, v6, src, dst, proto, l4 + plen, 0, 0);
	pkt[off] = (uint8_t)(sport >> 8);
	pkt[off + 1] = (uint8_t)sport;
	pkt[off + 2] = (uint8_t)(dport >> 8);
	pkt[off + 3] = (uint8_t)dport;
	if (proto == 6) {
		pkt[off + 4] = (uint8_t)(seq >> 24);
		pkt[off + 5] = (uint8_t)(seq >> 16);
		pkt[off + 6] = (uint8_t)(seq >> 8);
		pkt[off + 7] = (uint8_t)seq;
		pkt[off + 12] = 0x50;
		pkt[off + 13] = flags;
		pkt[off + 16] = (uint8_t)csum_dummy();
	} else {
		pkt[off + 4] = (uint8_t)((8 + plen) >> 8);
		pkt[off + 5] = (uint8_t)(8 + plen);
	}
	off += l4;
	if (plen)
		memcpy(pkt + off, payload, plen);
	off += plen;
	record(c, pkt, off);
}

#define SYN 0x02
#define ACK 0x10
#define PSH 0x08
#define RST 0x04
#define FIN 0x01

static void tcp(struct cap *c, const char *s, uint16_t sp, const char *d, uint16_t dp, uint32_t seq,
                uint8_t fl, const void *data, size_t n)
{
	frame(c, false, false, s, sp, d, dp, 6, seq, fl, data, n);
}

static struct conform_timeline *decode(struct cap *c)
{
	struct conform_timeline *t = NULL;
	char err[256] = "";

	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	if (conform_timeline_add_pcap_mem(t, c->buf, c->len, "ep", err, sizeof(err)))
		ck_abort_msg("%s", err);
	free(c->buf);
	c->buf = NULL;
	return t;
}

static size_t count(struct conform_timeline *t, const char *kind, const json_t **first)
{
	size_t n = 0;

	for (size_t i = 0; i < conform_timeline_count(t); i++) {
		const json_t *e = conform_timeline_event(t, i);

		if (!strcmp(json_string_value(json_object_get(e, "kind")), kind)) {
			if (!n && first)
				*first = e;
			n++;
		}
	}
	return n;
}

static const char *sattr(const json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

static const char reg[] = "REGISTER sip:librestream.com SIP/2.0\r\n"
                          "Via: SIP/2.0/TCP 198.51.100.10:40000;branch=z9hG4bK1\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:bob@librestream.com>;tag=1\r\n"
                          "To: \"Bob\" <sip:bob@librestream.com>\r\n"
                          "i: reg-1@198.51.100.10\r\n"
                          "CSeq: 7 REGISTER\r\n"
                          "Contact: <sip:bob@198.51.100.10:40000;transport=tcp>\r\n"
                          "Expires: 300\r\n"
                          "l: 4\r\n\r\nabcd";

START_TEST(test_tcp_reordered_and_retransmitted_segments_give_one_sip_message)
{
	struct cap c;
	const char *A = "198.51.100.10", *B = "203.0.113.20";
	uint32_t isn = 1000, s1 = isn + 1;
	size_t n = strlen(reg), a = 50, b = 150;
	const json_t *e = NULL;
	struct conform_timeline *t;

	cap_init(&c);
	tcp(&c, A, 40000, B, 5060, isn, SYN, NULL, 0);
	tcp(&c, B, 5060, A, 40000, 9000, SYN | ACK, NULL, 0);
	tcp(&c, A, 40000, B, 5060, s1 + (uint32_t)a, ACK | PSH, reg + a, b - a);
	tcp(&c, A, 40000, B, 5060, s1 + (uint32_t)b, ACK | PSH, reg + b, n - b);
	tcp(&c, A, 40000, B, 5060, s1, ACK | PSH, reg, a);
	tcp(&c, A, 40000, B, 5060, s1, ACK | PSH, reg, a + 10); /* retransmission, overlapping */
	tcp(&c, A, 40000, B, 5060, s1 + (uint32_t)n, ACK | FIN, NULL, 0);
	tcp(&c, B, 5060, A, 40000, 9001, ACK | FIN, NULL, 0);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "tcp.syn", NULL), 1);
	ck_assert_uint_eq(count(t, "tcp.established", NULL), 1);
	ck_assert_uint_eq(count(t, "tcp.unanswered", NULL), 0);
	ck_assert_uint_eq(count(t, "sip.request", &e), 1);
	ck_assert_str_eq(sattr(e, "method"), "REGISTER");
	ck_assert_str_eq(sattr(e, "call_id"), "reg-1@198.51.100.10");
	ck_assert_str_eq(sattr(e, "cseq_method"), "REGISTER");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "cseq")), 7);
	ck_assert_str_eq(sattr(e, "to"), "sip:bob@librestream.com");
	ck_assert_str_eq(sattr(e, "contact"), "sip:bob@198.51.100.10:40000;transport=tcp");
	ck_assert_str_eq(sattr(e, "via_transport"), "tcp");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "expires")), 300);
	ck_assert_str_eq(sattr(e, "transport"), "tcp");
	ck_assert_str_eq(sattr(e, "capture"), "ep");
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_tcp_sequence_wrap_and_pipelined_messages_with_keepalives)
{
	struct cap c;
	const char *A = "198.51.100.10", *B = "203.0.113.20";
	uint32_t isn = 0xffffffc0u, s1 = isn + 1;
	char two[2048];
	size_t n;
	struct conform_timeline *t;

	/* keep-alive CRLFCRLF, two messages back to back, split so the split crosses 2^32 */
	n = (size_t)snprintf(two, sizeof(two), "\r\n\r\n%s%s", reg, reg);
	cap_init(&c);
	tcp(&c, A, 40001, B, 5060, isn, SYN, NULL, 0);
	tcp(&c, B, 5060, A, 40001, 5, SYN | ACK, NULL, 0);
	tcp(&c, A, 40001, B, 5060, s1, ACK | PSH, two, 100);
	tcp(&c, A, 40001, B, 5060, s1 + 100, ACK | PSH, two + 100, n - 100);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "sip.request", NULL), 2);
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_unanswered_and_refused_syns_are_told_apart)
{
	struct cap c;
	const json_t *e = NULL;
	struct conform_timeline *t;

	cap_init(&c);
	for (int i = 0; i < 3; i++)
		tcp(&c, "198.51.100.10", 41000, "203.0.113.20", 5061, 77, SYN, NULL, 0);
	tcp(&c, "198.51.100.10", 41001, "203.0.113.20", 5062, 88, SYN, NULL, 0);
	tcp(&c, "203.0.113.20", 5062, "198.51.100.10", 41001, 0, RST | ACK, NULL, 0);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "tcp.unanswered", &e), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "dst_port")), 5061);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "retransmits")), 2);
	ck_assert_uint_eq(count(t, "tcp.syn", &e), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "retransmits")), 2);
	ck_assert_uint_eq(count(t, "tcp.rst", &e), 1);
	ck_assert(json_is_true(json_object_get(e, "answered_syn")));
	conform_timeline_free(t);
}
END_TEST

/* A minimal TLS 1.2 record with a ClientHello carrying SNI and ALPN (RFC 8446 §4.1.2). */
static size_t client_hello(uint8_t *p, const char *sni)
{
	size_t sl = strlen(sni), o = 0, ext_len, hs_len;
	uint8_t ext[512];
	size_t e = 0;

	/* server_name */
	ext[e++] = 0;
	ext[e++] = 0;
	ext[e++] = 0;
	ext[e++] = (uint8_t)(sl + 5);
	ext[e++] = 0;
	ext[e++] = (uint8_t)(sl + 3);
	ext[e++] = 0;
	ext[e++] = 0;
	ext[e++] = (uint8_t)sl;
	memcpy(ext + e, sni, sl);
	e += sl;
	/* ALPN: http/1.1 */
	static const uint8_t alpn[] = {0,   16,  0,   11,  0,   9,   8,  'h',
	                               't', 't', 'p', '/', '1', '.', '1'};
	memcpy(ext + e, alpn, sizeof(alpn));
	e += sizeof(alpn);
	/* supported_versions: GREASE, TLS 1.3, TLS 1.2 */
	static const uint8_t sv[] = {0, 43, 0, 7, 6, 0x0a, 0x0a, 3, 4, 3, 3};
	memcpy(ext + e, sv, sizeof(sv));
	e += sizeof(sv);
	ext_len = e;
	hs_len = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + ext_len;
	p[o++] = 22;
	p[o++] = 3;
	p[o++] = 1;
	p[o++] = (uint8_t)((hs_len + 4) >> 8);
	p[o++] = (uint8_t)(hs_len + 4);
	p[o++] = 1;
	p[o++] = 0;
	p[o++] = (uint8_t)(hs_len >> 8);
	p[o++] = (uint8_t)hs_len;
	p[o++] = 3;
	p[o++] = 3;
	memset(p + o, 0x11, 32);
	o += 32;
	p[o++] = 0; /* session id */
	p[o++] = 0, p[o++] = 2; /* cipher suites */
	p[o++] = 0x13, p[o++] = 0x01;
	p[o++] = 1, p[o++] = 0; /* compression */
	p[o++] = (uint8_t)(ext_len >> 8); /* extensions */
	p[o++] = (uint8_t)ext_len;
	memcpy(p + o, ext, ext_len);
	return o + ext_len;
}

START_TEST(test_connect_tunnel_then_client_hello_inside_it)
{
	struct cap c;
	const char *A = "198.51.100.10", *P = "198.51.100.3";
	const char *req = "CONNECT teamlink1.librestream.com:443 HTTP/1.1\r\n"
	                  "Host: teamlink1.librestream.com:443\r\nUser-Agent: t\r\n\r\n";
	const char *resp = "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy\r\n\r\n";
	uint8_t ch[1024];
	size_t chl = client_hello(ch, "teamlink1.librestream.com");
	uint32_t cs = 501, ss = 7001;
	const json_t *e = NULL;
	struct conform_timeline *t;

	cap_init(&c);
	tcp(&c, A, 42000, P, 3128, cs - 1, SYN, NULL, 0);
	tcp(&c, P, 3128, A, 42000, ss - 1, SYN | ACK, NULL, 0);
	tcp(&c, A, 42000, P, 3128, cs, ACK | PSH, req, strlen(req));
	cs += (uint32_t)strlen(req);
	tcp(&c, P, 3128, A, 42000, ss, ACK | PSH, resp, strlen(resp));
	ss += (uint32_t)strlen(resp);
	tcp(&c, A, 42000, P, 3128, cs, ACK | PSH, ch, 40); /* ClientHello in two segments */
	tcp(&c, A, 42000, P, 3128, cs + 40, ACK | PSH, ch + 40, chl - 40);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "http.connect", &e), 1);
	ck_assert_str_eq(sattr(e, "host"), "teamlink1.librestream.com");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "port")), 443);
	ck_assert_uint_eq(count(t, "http.response", &e), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "status")), 200);
	ck_assert_str_eq(sattr(e, "request"), "CONNECT");
	ck_assert_uint_eq(count(t, "tls.client_hello", &e), 1);
	ck_assert_str_eq(sattr(e, "sni"), "teamlink1.librestream.com");
	ck_assert_str_eq(sattr(e, "version"), "1.3");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "alpn"), 0)),
	                 "http/1.1");
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_plain_http_websocket_upgrade_is_seen)
{
	struct cap c;
	const char *A = "198.51.100.10", *T = "203.0.113.41";
	const char *req = "GET /teamlink/v1/tunnel HTTP/1.1\r\nHost: teamlink1.librestream.com\r\n"
	                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	                  "Sec-WebSocket-Protocol: teamlink.v1\r\n\r\n";
	const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                   "Connection: Upgrade\r\nSec-WebSocket-Protocol: teamlink.v1\r\n\r\n"
	                   "\x82\x03"
	                   "abc";
	const json_t *e = NULL;
	struct conform_timeline *t;

	cap_init(&c);
	tcp(&c, A, 42001, T, 80, 10, SYN, NULL, 0);
	tcp(&c, T, 80, A, 42001, 20, SYN | ACK, NULL, 0);
	tcp(&c, A, 42001, T, 80, 11, ACK | PSH, req, strlen(req));
	tcp(&c, T, 80, A, 42001, 21, ACK | PSH, resp, strlen(resp));
	t = decode(&c);
	ck_assert_uint_eq(count(t, "http.request", &e), 1);
	ck_assert_str_eq(sattr(e, "uri"), "/teamlink/v1/tunnel");
	ck_assert_str_eq(sattr(e, "upgrade"), "websocket");
	ck_assert_uint_eq(count(t, "ws.upgrade", &e), 1);
	ck_assert_str_eq(sattr(e, "protocol"), "teamlink.v1");
	ck_assert_str_eq(sattr(e, "host"), "teamlink1.librestream.com");
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_udp_stun_dns_sip_and_rtp_streams)
{
	struct cap c;
	uint8_t stun[20] = {0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1,  2,
	                    3,    4,    5, 6, 7,    8,    9,    10,   11, 12};
	uint8_t dns[64] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	const char *name = "\x03"
	                   "sip"
	                   "\x0b"
	                   "librestream"
	                   "\x03"
	                   "com";
	uint8_t rtp[172];
	const json_t *e = NULL;
	struct conform_timeline *t;
	size_t dl = 12 + strlen(name) + 1;

	memcpy(dns + 12, name, strlen(name) + 1);
	dns[dl++] = 0;
	dns[dl++] = 33; /* SRV */
	dns[dl++] = 0;
	dns[dl++] = 1;
	cap_init(&c);
	frame(&c, false, false, "198.51.100.10", 40002, "203.0.113.20", 3478, 17, 0, 0, stun, 20);
	stun[0] = 0x01; /* success response */
	frame(&c, false, false, "203.0.113.20", 3478, "198.51.100.10", 40002, 17, 0, 0, stun, 20);
	frame(&c, false, true, "198.51.100.10", 40003, "198.51.100.53", 53, 17, 0, 0, dns, dl);
	frame(&c, false, false, "198.51.100.10", 5060, "203.0.113.20", 5060, 17, 0, 0, reg,
	      strlen(reg));
	memset(rtp, 0, sizeof(rtp));
	rtp[0] = 0x80;
	rtp[1] = 0; /* PCMU */
	rtp[8] = 0xde, rtp[9] = 0xad, rtp[10] = 0xbe, rtp[11] = 0xef;
	for (int i = 0; i < 10; i++)
		frame(&c, false, false, "198.51.100.10", 16000, "203.0.113.21", 20000, 17, 0, 0,
		      rtp, sizeof(rtp));
	rtp[1] = 200; /* RTCP SR */
	frame(&c, false, false, "198.51.100.10", 16001, "203.0.113.21", 20001, 17, 0, 0, rtp, 28);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "stun.request", &e), 1);
	ck_assert_str_eq(sattr(e, "method"), "binding");
	ck_assert_str_eq(sattr(e, "transaction_id"), "0102030405060708090a0b0c");
	ck_assert_uint_eq(count(t, "stun.response", NULL), 1);
	ck_assert_uint_eq(count(t, "dns.query", &e), 1);
	ck_assert_str_eq(sattr(e, "name"), "sip.librestream.com");
	ck_assert_str_eq(sattr(e, "qtype"), "SRV");
	ck_assert_uint_eq(count(t, "sip.request", &e), 1);
	ck_assert_str_eq(sattr(e, "transport"), "udp");
	ck_assert_uint_eq(count(t, "rtp.stream", &e), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "packets")), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "bytes")), 1720);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "ssrc")), 0xdeadbeef);
	ck_assert_uint_eq(count(t, "rtcp", NULL), 1);
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_ipv6_tcp_is_decoded)
{
	struct cap c;
	const json_t *e = NULL;
	struct conform_timeline *t;

	cap_init(&c);
	frame(&c, true, false, "2001:db8:113::10", 43000, "2001:db8:113::20", 5060, 6, 5, SYN, NULL,
	      0);
	frame(&c, true, false, "2001:db8:113::20", 5060, "2001:db8:113::10", 43000, 6, 9, SYN | ACK,
	      NULL, 0);
	frame(&c, true, false, "2001:db8:113::10", 43000, "2001:db8:113::20", 5060, 6, 6, ACK | PSH,
	      reg, strlen(reg));
	t = decode(&c);
	ck_assert_uint_eq(count(t, "sip.request", &e), 1);
	ck_assert_str_eq(sattr(e, "src_ip"), "2001:db8:113::10");
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_gaps_beyond_caps_stop_the_direction_without_harm)
{
	struct cap c;
	struct conform_timeline *t;
	struct conform_timeline_stats st;
	char junk[1000];

	memset(junk, 'A', sizeof(junk));
	cap_init(&c);
	tcp(&c, "198.51.100.10", 44000, "203.0.113.20", 5060, 0, SYN, NULL, 0);
	/* 100 segments, each leaving a hole: the out-of-order list overflows */
	for (uint32_t i = 0; i < 100; i++)
		tcp(&c, "198.51.100.10", 44000, "203.0.113.20", 5060, 5000 + i * 2000, ACK, junk,
		    sizeof(junk));
	t = decode(&c);
	conform_timeline_stats(t, &st);
	ck_assert_uint_eq(st.tcp_gaps, 1);
	ck_assert_uint_eq(count(t, "sip.request", NULL), 0);
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_truncated_and_garbage_files_are_reported_not_trusted)
{
	struct cap c;
	struct conform_timeline *t = NULL;
	char err[256] = "";
	uint8_t junk[64];

	cap_init(&c);
	tcp(&c, "198.51.100.10", 44001, "203.0.113.20", 5060, 0, SYN, NULL, 0);
	tcp(&c, "198.51.100.10", 44001, "203.0.113.20", 5060, 0, SYN, NULL, 0);
	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	/* cut in the middle of the second record: the first is kept, a warning is given */
	ck_assert_int_eq(
	        conform_timeline_add_pcap_mem(t, c.buf, c.len - 10, "ep", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "after frame 1"), "%s", err);
	ck_assert_uint_eq(count(t, "tcp.unanswered", NULL), 1);
	memset(junk, 0x5a, sizeof(junk));
	ck_assert_int_ne(
	        conform_timeline_add_pcap_mem(t, junk, sizeof(junk), "x", err, sizeof(err)), 0);
	ck_assert_int_ne(conform_timeline_add_pcap(t, "/nonexistent.pcap", NULL, err, sizeof(err)),
	                 0);
	conform_timeline_free(t);
	free(c.buf);
}
END_TEST

/* Appends one Ethernet frame carrying octets [off, off + n) of the IP payload pl as a
 * fragment of datagram id (IPv4, or IPv6 with a Fragment header). */
static void ipfrag(struct cap *c, bool v6, const char *src, const char *dst, int proto, uint32_t id,
                   const uint8_t *pl, size_t off, size_t n, bool more)
{
	uint8_t pkt[1600];
	size_t o;

	ck_assert_uint_le(n, 1480);
	memset(pkt, 0, sizeof(pkt));
	o = eth_hdr(pkt, v6, false);
	if (v6) {
		o += ip_hdr(pkt + o, true, src, dst, 44 /* Fragment header */, 8 + n, 0, 0);
		pkt[o] = (uint8_t)proto;
		pkt[o + 2] = (uint8_t)(off >> 8);
		pkt[o + 3] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
		pkt[o + 4] = (uint8_t)(id >> 24);
		pkt[o + 5] = (uint8_t)(id >> 16);
		pkt[o + 6] = (uint8_t)(id >> 8);
		pkt[o + 7] = (uint8_t)id;
		o += 8;
	} else {
		o += ip_hdr(pkt + o, false, src, dst, proto, n, (uint16_t)id,
		            (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
	}
	memcpy(pkt + o, pl + off, n);
	record(c, pkt, o + n);
}

/* A UDP datagram 5060 -> 5060 holding an INVITE of about 2500 octets whose Call-ID comes
 * after the first 1480 octets (so only the whole datagram has it). Returns its length. */
static size_t big_invite(uint8_t *dg, size_t cap)
{
	char pad[2001], msg[2600];
	int n;

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	n = snprintf(msg, sizeof(msg),
	             "INVITE sip:peer@librestream.com SIP/2.0\r\n"
	             "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK-f1\r\n"
	             "X-Padding: %s\r\n"
	             "From: <sip:alice@librestream.com>;tag=1\r\nTo: <sip:peer@librestream.com>\r\n"
	             "Call-ID: frag-call-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	             pad);
	ck_assert_int_gt(n, 1480);
	ck_assert_uint_le((size_t)n + 8, cap);
	memset(dg, 0, 8);
	dg[0] = dg[2] = 5060 >> 8;
	dg[1] = dg[3] = 5060 & 0xff;
	dg[4] = (uint8_t)((n + 8) >> 8);
	dg[5] = (uint8_t)(n + 8);
	memcpy(dg + 8, msg, (size_t)n);
	return (size_t)n + 8;
}

START_TEST(test_fragmented_udp_sip_is_reassembled_v4_and_v6_in_any_order)
{
	uint8_t dg[2700];
	size_t n = big_invite(dg, sizeof(dg));
	const json_t *e = NULL;
	struct conform_timeline *t;
	struct conform_timeline_stats st;
	struct cap c;

	cap_init(&c);
	/* IPv4: last fragment first, then another datagram's first fragment (other id, never
	 * completed), then the first */
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 7, dg, 1480, n - 1480, false);
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 8, dg, 0, 1480, true);
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 7, dg, 0, 1480, true);
	/* IPv6: three fragments in order, the middle one twice */
	ipfrag(&c, true, "2001:db8:113::10", "2001:db8:113::20", 17, 0x10203, dg, 0, 1000, true);
	ipfrag(&c, true, "2001:db8:113::10", "2001:db8:113::20", 17, 0x10203, dg, 1000, 1000, true);
	ipfrag(&c, true, "2001:db8:113::10", "2001:db8:113::20", 17, 0x10203, dg, 1000, 1000, true);
	ipfrag(&c, true, "2001:db8:113::10", "2001:db8:113::20", 17, 0x10203, dg, 2000, n - 2000,
	       false);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "sip.request", &e), 2);
	ck_assert_str_eq(sattr(e, "method"), "INVITE");
	ck_assert_str_eq(sattr(e, "call_id"), "frag-call-1");
	ck_assert_str_eq(sattr(e, "src_ip"), "198.51.100.10");
	/* shown at the fragment that completed it */
	ck_assert_int_eq(json_integer_value(json_object_get(e, "frame")), 3);
	conform_timeline_stats(t, &st);
	ck_assert_uint_eq(st.ip_reassembled, 2);
	ck_assert_uint_eq(st.ip_frag_dropped, 1); /* id 8, at the end of the capture */
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_incomplete_odd_and_stale_fragments_are_dropped)
{
	uint8_t dg[2700];
	size_t n = big_invite(dg, sizeof(dg));
	struct conform_timeline *t;
	struct conform_timeline_stats st;
	struct cap c;

	cap_init(&c);
	/* a hole: the middle 1000 octets never come */
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 1, dg, 0, 1000, true);
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 1, dg, 2000, n - 2000, false);
	/* a non-last fragment whose length is not a multiple of 8 */
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 2, dg, 0, 1001, true);
	/* the rest of datagram 3 comes 31 s after its start: too late */
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 3, dg, 0, 1480, true);
	c.t += 31;
	ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, 3, dg, 1480, n - 1480, false);
	/* more datagrams at once than there are slots: the oldest make room */
	for (uint32_t id = 100; id < 140; id++)
		ipfrag(&c, false, "198.51.100.10", "203.0.113.20", 17, id, dg, 0, 8, true);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "sip.request", NULL), 0);
	conform_timeline_stats(t, &st);
	ck_assert_uint_eq(st.ip_reassembled, 0);
	/* 1 (hole) + 1 (odd) + 1 (stale start) + 1 (lone late end) + 40 (evicted or left) */
	ck_assert_uint_eq(st.ip_frag_dropped, 44);
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_packets_name_their_hosts_and_destination_service)
{
	struct cap c;
	uint8_t stun[20] = {0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1,  2,
	                    3,    4,    5, 6, 7,    8,    9,    10,   11, 12};
	uint8_t junk[16] = {1, 2, 3, 4};
	const json_t *e = NULL;
	struct conform_timeline *t;

	cap_init(&c);
	tcp(&c, "198.51.100.10", 41000, "203.0.113.20", 5061, 77, SYN, NULL, 0);
	tcp(&c, "203.0.113.20", 5061, "198.51.100.10", 41000, 500, SYN | ACK, NULL, 0);
	tcp(&c, "198.51.100.10", 41002, "198.51.100.3", 3128, 90, SYN, NULL, 0);
	tcp(&c, "198.51.100.3", 3128, "198.51.100.10", 41002, 0, RST | ACK, NULL, 0);
	frame(&c, false, false, "198.51.100.10", 40002, "203.0.113.20", 3478, 17, 0, 0, stun, 20);
	frame(&c, false, false, "198.51.100.10", 40003, "203.0.113.99", 9999, 17, 0, 0, junk,
	      sizeof(junk));
	frame(&c, false, false, "198.51.100.10", 5060, "203.0.113.60", 5060, 17, 0, 0, reg,
	      strlen(reg));
	t = decode(&c);
	ck_assert_uint_eq(count(t, "tcp.syn", &e), 2);
	ck_assert_str_eq(sattr(e, "src_host"), "endpoint-inside");
	ck_assert_str_eq(sattr(e, "dst_host"), "sip.librestream.com");
	ck_assert_str_eq(sattr(e, "dst_service"), "sip-tls");
	/* The SYN/ACK and the RST come back from the service port: still that service. */
	ck_assert_uint_eq(count(t, "tcp.established", &e), 1);
	ck_assert_str_eq(sattr(e, "src_host"), "sip.librestream.com");
	ck_assert_str_eq(sattr(e, "dst_service"), "sip-tls");
	ck_assert_uint_eq(count(t, "tcp.rst", &e), 1);
	ck_assert_str_eq(sattr(e, "src_host"), "proxy.corp.example");
	ck_assert_str_eq(sattr(e, "dst_service"), "http-proxy");
	ck_assert_uint_eq(count(t, "stun.request", &e), 1);
	ck_assert_str_eq(sattr(e, "dst_service"), "stun");
	ck_assert_uint_eq(count(t, "sip.request", &e), 1);
	ck_assert_str_eq(sattr(e, "dst_host"), "vcs-expressway.corp.example");
	ck_assert_str_eq(sattr(e, "dst_service"), "sip");
	/* An address outside the plan and a port no service owns: no names at all. */
	ck_assert_uint_eq(count(t, "udp", &e), 1);
	ck_assert_str_eq(sattr(e, "src_host"), "endpoint-inside");
	ck_assert_ptr_null(json_object_get(e, "dst_host"));
	ck_assert_ptr_null(json_object_get(e, "dst_service"));
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_host_names_follow_the_table_loaded_after_the_capture)
{
	struct cap c;
	const json_t *e = NULL;
	struct conform_timeline *t;
	char err[128];

	cap_init(&c);
	tcp(&c, "198.51.100.10", 41000, "203.0.113.99", 443, 77, SYN, NULL, 0);
	t = NULL;
	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	ck_assert_int_eq(conform_timeline_add_pcap_mem(t, c.buf, c.len, "ep", err, sizeof(err)), 0);
	free(c.buf);
	ck_assert_int_eq(conform_hosts_add(t, "portal.example", "203.0.113.99"), 0);
	ck_assert_uint_eq(count(t, "tcp.unanswered", &e), 1);
	ck_assert_str_eq(sattr(e, "dst_host"), "portal.example");
	ck_assert_str_eq(sattr(e, "dst_service"), "https");
	conform_timeline_free(t);
}
END_TEST

/* What "no direct SIP while tunnelled" forbids: a SYN to 5060 the firewall dropped is a
 * tcp.syn to the sip service from the endpoint, not only a tcp.unanswered. */
START_TEST(test_unanswered_syn_to_5060_is_a_syn_to_sip)
{
	struct cap c;
	const json_t *e = NULL;
	struct conform_timeline *t;

	cap_init(&c);
	for (int i = 0; i < 3; i++)
		tcp(&c, "198.51.100.10", 41000, "198.51.100.5", 5060, 77, SYN, NULL, 0);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "tcp.syn", &e), 1);
	ck_assert_str_eq(sattr(e, "dst_service"), "sip");
	ck_assert_str_eq(sattr(e, "src_host"), "endpoint-inside");
	ck_assert_str_eq(sattr(e, "dst_host"), "vcs-control.corp.example");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "retransmits")), 2);
	ck_assert_uint_eq(count(t, "tcp.unanswered", &e), 1);
	ck_assert_str_eq(sattr(e, "dst_service"), "sip");
	conform_timeline_free(t);
}
END_TEST

START_TEST(test_rtp_from_a_low_port_is_media_and_name_services_are_not)
{
	struct cap c;
	uint8_t rtp[172], dns[12] = {0x80, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
	uint8_t stun3489[20] = {0x00, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
	const json_t *e = NULL;
	struct conform_timeline *t;

	memset(rtp, 0, sizeof(rtp));
	rtp[0] = 0x80;
	rtp[1] = 8; /* PCMA */
	rtp[11] = 7;
	cap_init(&c);
	for (int i = 0; i < 4; i++)
		frame(&c, false, false, "198.51.100.10", 800, "203.0.113.21", 20000, 17, 0, 0, rtp,
		      sizeof(rtp));
	rtp[1] = 201; /* RTCP RR */
	frame(&c, false, false, "198.51.100.10", 801, "203.0.113.21", 20001, 17, 0, 0, rtp, 32);
	/* A DNS query the decoder refuses (no question) still reads as RTP version 2, PT 1. */
	frame(&c, false, false, "198.51.100.10", 40003, "198.51.100.53", 53, 17, 0, 0, dns,
	      sizeof(dns));
	frame(&c, false, false, "198.51.100.10", 40004, "224.0.0.251", 5353, 17, 0, 0, dns,
	      sizeof(dns));
	/* RFC 3489 STUN (no magic cookie) and SIP text on their ports: never version 2. */
	frame(&c, false, false, "198.51.100.10", 40005, "203.0.113.20", 3478, 17, 0, 0, stun3489,
	      sizeof(stun3489));
	frame(&c, false, false, "198.51.100.10", 5060, "203.0.113.20", 5060, 17, 0, 0, "\r\n\r\n",
	      4);
	t = decode(&c);
	ck_assert_uint_eq(count(t, "rtp.stream", &e), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "src_port")), 800);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "packets")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "payload_type")), 8);
	ck_assert_uint_eq(count(t, "rtcp", &e), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "src_port")), 801);
	ck_assert_uint_eq(count(t, "udp", NULL), 4);
	conform_timeline_free(t);
}
END_TEST

/* Journal lines name the server the client reached: two mock-sip processes (the private and
 * the public VCS) stay apart, an address outside the plan is kept bare. */
START_TEST(test_journal_local_gives_at_the_server_host)
{
	static const char priv[] =
	        "{\"ts\":\"2026-11-24T03:33:23.100000Z\",\"service\":\"mock-sip\",\"event\":"
	        "\"register\",\"result\":\"ok\",\"local\":\"198.51.100.5:5060\"}\n"
	        "{\"ts\":\"2026-11-24T03:33:23.200000Z\",\"service\":\"mock-sip\",\"event\":"
	        "\"server.start\"}\n";
	static const char pub[] =
	        "{\"ts\":\"2026-11-24T03:33:23.150000Z\",\"service\":\"mock-sip\",\"event\":"
	        "\"register\",\"result\":\"ok\",\"local\":\"203.0.113.60:5061\"}\n"
	        "{\"ts\":\"2026-11-24T03:33:23.160000Z\",\"service\":\"mock-sip\",\"event\":"
	        "\"register\",\"result\":\"ok\",\"local\":\"[2001:db8::9]:5061\"}\n"
	        "{\"ts\":\"2026-11-24T03:33:23.170000Z\",\"service\":\"mock-sip\",\"event\":"
	        "\"options\",\"server\":\"x\",\"local\":\"203.0.113.99:5060\"}\n";
	const char *want[] = {"vcs-control.corp.example", "vcs-expressway.corp.example",
	                      "2001:db8::9", "203.0.113.99", NULL};
	struct conform_timeline *t = NULL;
	char err[128];

	ck_assert_int_eq(conform_timeline_alloc(&t, NULL), 0);
	ck_assert_int_eq(conform_timeline_add_journal_mem(t, priv, strlen(priv), "mock-sip-private",
	                                                  err, sizeof(err)),
	                 0);
	ck_assert_int_eq(conform_timeline_add_journal_mem(t, pub, strlen(pub), "mock-sip-public",
	                                                  err, sizeof(err)),
	                 0);
	ck_assert_uint_eq(conform_timeline_count(t), 5);
	for (size_t i = 0; i < 5; i++) {
		const json_t *e = conform_timeline_event(t, i);

		ck_assert_str_eq(sattr(e, "service"), "mock-sip");
		if (want[i])
			ck_assert_str_eq(sattr(e, "at"), want[i]);
		else
			ck_assert_ptr_null(json_object_get(e, "at"));
	}
	/* `server` keeps the journal's own meaning. */
	ck_assert_str_eq(sattr(conform_timeline_event(t, 3), "server"), "x");
	conform_timeline_free(t);
}
END_TEST

TU_SUITE("analysis_pcap", test_tcp_reordered_and_retransmitted_segments_give_one_sip_message,
         test_tcp_sequence_wrap_and_pipelined_messages_with_keepalives,
         test_unanswered_and_refused_syns_are_told_apart,
         test_connect_tunnel_then_client_hello_inside_it, test_plain_http_websocket_upgrade_is_seen,
         test_udp_stun_dns_sip_and_rtp_streams, test_ipv6_tcp_is_decoded,
         test_gaps_beyond_caps_stop_the_direction_without_harm,
         test_truncated_and_garbage_files_are_reported_not_trusted,
         test_fragmented_udp_sip_is_reassembled_v4_and_v6_in_any_order,
         test_incomplete_odd_and_stale_fragments_are_dropped,
         test_packets_name_their_hosts_and_destination_service,
         test_host_names_follow_the_table_loaded_after_the_capture,
         test_unanswered_syn_to_5060_is_a_syn_to_sip,
         test_rtp_from_a_low_port_is_media_and_name_services_are_not,
         test_journal_local_gives_at_the_server_host)
