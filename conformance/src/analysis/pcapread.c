/* pcapread.c - libpcap offline reading and the network layer.
 *
 * Every header field is read with memcpy-style byte access (no casts onto packet bytes: the
 * record buffer has no alignment guarantee). Truncated or unknown frames are counted, never
 * trusted.
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
	if (frag & 0x1fff)
		return; /* not the first fragment: no transport header here */
	pi->af = AF_INET;
	memcpy(pi->sa, p + 12, 4);
	memcpy(pi->da, p + 16, 4);
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
			if (off + 8 > len)
				return;
			if (rd16(p + off + 2) & 0xfff8)
				return; /* not the first fragment */
			nh = p[off];
			off += 8;
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
