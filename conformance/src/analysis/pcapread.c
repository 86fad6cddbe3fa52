/* pcapread.c - libpcap offline reading and the network layer.
 *
 * Every header field is read with memcpy-style byte access (no casts onto packet bytes: the
 * record buffer has no alignment guarantee). Truncated or unknown frames are counted, never
 * trusted. Fragmented IPv4 and IPv6 datagrams are reassembled (a SIP INVITE over UDP with a
 * large SDP is the usual case), a bounded number at a time.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"
#include "pcapread.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void transport(struct conform_timeline *t, struct pktinfo *pi, int proto, const uint8_t *p,
                      size_t len)
{
	if (proto == 6) {
		if (len < 20) {
			t->st.undecoded++;
			return;
		}
		pi->sport = rd16(p);
		pi->dport = rd16(p + 2);
		pi->proto = "tcp";
		tcp_packet(t, pi, p, len);
	} else if (proto == 17) {
		if (len < 8) {
			t->st.undecoded++;
			return;
		}
		size_t ulen = rd16(p + 4);

		pi->sport = rd16(p);
		pi->dport = rd16(p + 2);
		pi->proto = "udp";
		/* The UDP length bounds the payload; a snap-truncated datagram keeps what we have. */
		if (ulen >= 8 && ulen < len)
			len = ulen;
		udp_packet(t, pi, p + 8, len - 8);
	}
}

/* ---- IP fragments (RFC 791 §3.2, RFC 8200 §4.5) ----------------------------------------- */

#define FRAG_SLOTS 16 /* datagrams being reassembled at once, per capture */
#define FRAG_TIMEOUT_S 30.0 /* capture seconds from the first fragment to the last */
#define FRAG_MAXLEN 65535 /* payload octets of one datagram */
#define FRAG_BLOCKS ((FRAG_MAXLEN + 7) / 8) /* fragment offsets count 8-octet blocks */

struct frag {
	bool used;
	int af, proto;
	uint8_t sa[16], da[16];
	uint32_t id;
	double t0;
	size_t total; /* payload length, known once the last fragment is in; 0 before */
	uint8_t *buf; /* FRAG_MAXLEN octets */
	uint8_t have[(FRAG_BLOCKS + 7) / 8]; /* one bit per 8-octet block received */
};

struct frag_table {
	struct frag f[FRAG_SLOTS];
};

static void frag_drop(struct conform_timeline *t, struct frag *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
	t->st.ip_frag_dropped++;
}

static bool frag_complete(const struct frag *f)
{
	size_t blocks = (f->total + 7) / 8;

	if (!f->total)
		return false;
	for (size_t b = 0; b < blocks; b++)
		if (!(f->have[b / 8] & (1u << (b % 8))))
			return false;
	return true;
}

/* The datagram's slot: found, or a free one, or the oldest one evicted. NULL without memory. */
static struct frag *frag_slot(struct conform_timeline *t, const struct pktinfo *pi, int proto,
                              uint32_t id)
{
	struct frag_table *ft = t->frag;
	struct frag *f, *free_slot = NULL, *oldest = NULL;
	size_t alen = pi->af == AF_INET ? 4 : 16;

	for (size_t i = 0; i < FRAG_SLOTS; i++) {
		f = &ft->f[i];
		if (f->used && pi->t - f->t0 > FRAG_TIMEOUT_S)
			frag_drop(t, f);
		if (!f->used) {
			free_slot = free_slot ? free_slot : f;
			continue;
		}
		if (f->af == pi->af && f->proto == proto && f->id == id &&
		    !memcmp(f->sa, pi->sa, alen) && !memcmp(f->da, pi->da, alen))
			return f;
		if (!oldest || f->t0 < oldest->t0)
			oldest = f;
	}
	f = free_slot;
	if (!f) {
		frag_drop(t, oldest);
		f = oldest;
	}
	if (!(f->buf = malloc(FRAG_MAXLEN)))
		return NULL;
	f->used = true;
	f->af = pi->af;
	f->proto = proto;
	f->id = id;
	memcpy(f->sa, pi->sa, alen);
	memcpy(f->da, pi->da, alen);
	f->t0 = pi->t;
	return f;
}

/* One fragment: octets [off, off + len) of the payload of datagram id. The fragment that
 * completes the datagram decodes it, with its own time and frame number (as Wireshark
 * shows a reassembled datagram at its last fragment). */
static void fragment(struct conform_timeline *t, struct pktinfo *pi, int proto, uint32_t id,
                     size_t off, bool more, const uint8_t *p, size_t len)
{
	struct frag *f;

	if (!t->frag)
		return;
	if (off + len > FRAG_MAXLEN || (more && (len == 0 || len % 8))) {
		t->st.ip_frag_dropped++; /* RFC 791: all but the last carry multiples of 8 */
		return;
	}
	f = frag_slot(t, pi, proto, id);
	if (!f)
		return;
	if (!more) {
		if (f->total && f->total != off + len) {
			frag_drop(t, f); /* two different ends: not one datagram */
			return;
		}
		f->total = off + len;
	}
	if (f->total && off + len > f->total) {
		frag_drop(t, f);
		return;
	}
	memcpy(f->buf + off, p, len);
	for (size_t b = off / 8; b < (off + len + 7) / 8; b++)
		f->have[b / 8] |= (uint8_t)(1u << (b % 8));
	if (frag_complete(f)) {
		uint8_t *buf = f->buf;
		size_t total = f->total;

		memset(f, 0, sizeof(*f));
		t->st.ip_reassembled++;
		transport(t, pi, proto, buf, total);
		free(buf);
	}
}

/* Called when a capture ends: what is still incomplete is dropped. */
static void frag_flush(struct conform_timeline *t)
{
	for (size_t i = 0; t->frag && i < FRAG_SLOTS; i++)
		if (t->frag->f[i].used)
			frag_drop(t, &t->frag->f[i]);
}

static void ipv4(struct conform_timeline *t, struct pktinfo *pi, const uint8_t *p, size_t len)
{
	size_t ihl, tot;
	uint16_t frag;

	if (len < 20 || (p[0] >> 4) != 4) {
		t->st.undecoded++;
		return;
	}
	ihl = (size_t)(p[0] & 0x0f) * 4;
	tot = rd16(p + 2);
	if (ihl < 20 || ihl > len || tot < ihl) {
		t->st.undecoded++;
		return;
	}
	if (tot < len)
		len = tot; /* Ethernet padding */
	frag = rd16(p + 6);
	pi->af = AF_INET;
	memcpy(pi->sa, p + 12, 4);
	memcpy(pi->da, p + 16, 4);
	if (frag & 0x3fff) /* MF set or an offset: a fragment */
		fragment(t, pi, p[9], rd16(p + 4), (size_t)(frag & 0x1fff) * 8, frag & 0x2000,
		         p + ihl, len - ihl);
	else
		transport(t, pi, p[9], p + ihl, len - ihl);
}

static void ipv6(struct conform_timeline *t, struct pktinfo *pi, const uint8_t *p, size_t len)
{
	size_t off = 40, plen;
	int nh;

	if (len < 40 || (p[0] >> 4) != 6) {
		t->st.undecoded++;
		return;
	}
	plen = rd16(p + 4);
	if (40 + plen < len)
		len = 40 + plen;
	nh = p[6];
	pi->af = AF_INET6;
	memcpy(pi->sa, p + 8, 16);
	memcpy(pi->da, p + 24, 16);
	/* RFC 8200 §4: walk at most a few extension headers. */
	for (int i = 0; i < 8; i++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			if (off + 8 > len)
				return;
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
		} else if (nh == 44) {
			uint16_t fo;
			uint32_t id;

			if (off + 8 > len)
				return;
			fo = rd16(p + off + 2);
			id = (uint32_t)rd16(p + off + 4) << 16 | rd16(p + off + 6);
			fragment(t, pi, p[off], id, fo & 0xfff8, fo & 1, p + off + 8,
			         len - off - 8);
			return;
		} else {
			break;
		}
	}
	if (off > len)
		return;
	transport(t, pi, nh, p + off, len - off);
}

static void network(struct conform_timeline *t, struct pktinfo *pi, unsigned ethertype,
                    const uint8_t *p, size_t len)
{
	if (ethertype == ETH_IPV4)
		ipv4(t, pi, p, len);
	else if (ethertype == ETH_IPV6)
		ipv6(t, pi, p, len);
	else
		t->st.undecoded++;
}

static void raw_ip(struct conform_timeline *t, struct pktinfo *pi, const uint8_t *p, size_t len)
{
	if (len < 1) {
		t->st.undecoded++;
		return;
	}
	network(t, pi, (p[0] >> 4) == 6 ? ETH_IPV6 : ETH_IPV4, p, len);
}

static void frame(struct conform_timeline *t, int dlt, struct pktinfo *pi, const uint8_t *p,
                  size_t len)
{
	switch (dlt) {
	case DLT_EN10MB: {
		size_t off = 12;
		unsigned et;

		if (len < 14)
			break;
		et = rd16(p + off);
		for (int i = 0; i < 2 && (et == ETH_VLAN || et == ETH_QINQ); i++) {
			off += 4;
			if (len < off + 2)
				goto bad;
			et = rd16(p + off);
		}
		network(t, pi, et, p + off + 2, len - off - 2);
		return;
	}
	case DLT_LINUX_SLL:
		if (len < 16)
			break;
		network(t, pi, rd16(p + 14), p + 16, len - 16);
		return;
	case DLT_LINUX_SLL2:
		if (len < 20)
			break;
		network(t, pi, rd16(p), p + 20, len - 20);
		return;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		raw_ip(t, pi, p, len);
		return;
	case DLT_NULL:
	case DLT_LOOP:
		/* 4-byte address family (host order for NULL, network order for LOOP) */
		if (len < 4)
			break;
		raw_ip(t, pi, p + 4, len - 4);
		return;
	default:
		break;
	}
bad:
	t->st.undecoded++;
}

static int ingest(struct conform_timeline *t, pcap_t *pc, const char *capture, char *err,
                  size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int dlt = pcap_datalink(pc), rc;
	long frameno = 0;

	t->capture = capture;
	t->frag = calloc(1, sizeof(*t->frag)); /* without it fragments are skipped */
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct pktinfo pi;

		frameno++;
		t->st.frames++;
		t->st.bytes += h->caplen;
		memset(&pi, 0, sizeof(pi));
		pi.t = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
		pi.frame = frameno;
		frame(t, dlt, &pi, data, h->caplen);
	}
	/* Decoders hold flow state per capture: a capture's flows end with the capture. */
	frag_flush(t);
	free(t->frag);
	t->frag = NULL;
	tcp_flush(t);
	udp_flush(t);
	t->capture = NULL;
	t->sorted = false;
	if (rc == -1) {
		/* A truncated last record is what a killed capture leaves: keep what was read. */
		snprintf(err, errlen, "%s: %s (after frame %ld)", capture, pcap_geterr(pc),
		         frameno);
		return frameno > 0 ? 0 : EINVAL;
	}
	return 0;
}

int pcap_ingest_file(struct conform_timeline *t, const char *path, const char *capture, char *err,
                     size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc = pcap_open_offline(path, ebuf);
	int rc;

	if (!pc) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return EINVAL;
	}
	rc = ingest(t, pc, capture, err, errlen);
	pcap_close(pc);
	return rc;
}

int pcap_ingest_mem(struct conform_timeline *t, const void *data, size_t len, const char *capture,
                    char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	FILE *f;
	pcap_t *pc;
	int rc;

	if (len == 0) {
		snprintf(err, errlen, "%s: empty capture", capture);
		return EINVAL;
	}
	f = fmemopen((void *)(uintptr_t)data, len, "rb");
	if (!f)
		return errno ? errno : ENOMEM;
	pc = pcap_fopen_offline(f, ebuf);
	if (!pc) {
		fclose(f);
		snprintf(err, errlen, "%s: %s", capture, ebuf);
		return EINVAL;
	}
	rc = ingest(t, pc, capture, err, errlen);
	pcap_close(pc); /* closes f */
	return rc;
}
