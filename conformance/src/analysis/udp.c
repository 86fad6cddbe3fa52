/* udp.c - UDP datagrams: STUN, DNS and SIP messages become events one by one; RTP, RTCP and
 * other datagrams are summed per flow (RTP per flow and SSRC) and become one event each when
 * the capture ends (or when the flow table is full, which flushes it to bound memory).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "analysis_int.h"

enum ukind { UK_RTP, UK_RTCP, UK_UDP };

struct uflow {
	struct uflow *next;
	uint32_t hash;
	enum ukind kind;
	uint32_t ssrc;
	int pt;
	struct pktinfo first;
	double last;
	unsigned long long packets, bytes;
};

struct udp_table {
	struct uflow **bucket;
	size_t nbucket, n;
};

int udp_table_alloc(struct udp_table **up)
{
	struct udp_table *ut = calloc(1, sizeof(*ut));

	if (!ut)
		return ENOMEM;
	ut->nbucket = 8192;
	ut->bucket = calloc(ut->nbucket, sizeof(*ut->bucket));
	if (!ut->bucket) {
		free(ut);
		return ENOMEM;
	}
	*up = ut;
	return 0;
}

static void clear(struct udp_table *ut)
{
	for (size_t i = 0; i < ut->nbucket; i++) {
		struct uflow *f = ut->bucket[i];

		while (f) {
			struct uflow *n = f->next;

			free(f);
			f = n;
		}
		ut->bucket[i] = NULL;
	}
	ut->n = 0;
}

void udp_table_free(struct udp_table *ut)
{
	if (!ut)
		return;
	clear(ut);
	free(ut->bucket);
	free(ut);
}

static const char *kind_name(enum ukind k)
{
	return k == UK_RTP ? "rtp.stream" : k == UK_RTCP ? "rtcp" : "udp";
}

void udp_flush(struct conform_timeline *t)
{
	struct udp_table *ut = t->udp;

	for (size_t i = 0; i < ut->nbucket; i++) {
		for (struct uflow *f = ut->bucket[i]; f; f = f->next) {
			json_t *ev = tl_add_pcap_event(t, &f->first, kind_name(f->kind));

			if (!ev)
				continue;
			if (f->kind == UK_RTP) {
				ev_set_int(ev, "ssrc", f->ssrc);
				ev_set_int(ev, "payload_type", f->pt);
			}
			ev_set_int(ev, "packets", (long long)f->packets);
			ev_set_int(ev, "bytes", (long long)f->bytes);
			ev_set_real(ev, "first", f->first.t);
			ev_set_real(ev, "last", f->last);
		}
	}
	clear(ut);
}

static uint32_t uhash(const struct pktinfo *pi, enum ukind k, uint32_t ssrc)
{
	uint32_t h = 2166136261u;
	size_t n = pi->af == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		h = (h ^ pi->sa[i]) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ pi->da[i]) * 16777619u;
	h = (h ^ pi->sport) * 16777619u;
	h = (h ^ pi->dport) * 16777619u;
	h = (h ^ (uint32_t)k) * 16777619u;
	return (h ^ ssrc) * 16777619u;
}

static void account(struct conform_timeline *t, const struct pktinfo *pi, enum ukind k,
                    uint32_t ssrc, int pt, size_t len)
{
	struct udp_table *ut = t->udp;
	uint32_t h = uhash(pi, k, ssrc);
	size_t n = pi->af == AF_INET6 ? 16 : 4;
	struct uflow *f;

	for (f = ut->bucket[h & (ut->nbucket - 1)]; f; f = f->next) {
		if (f->hash == h && f->kind == k && f->ssrc == ssrc && f->first.af == pi->af &&
		    f->first.sport == pi->sport && f->first.dport == pi->dport &&
		    !memcmp(f->first.sa, pi->sa, n) && !memcmp(f->first.da, pi->da, n))
			break;
	}
	if (!f) {
		if (ut->n >= AN_MAX_UDP_FLOWS)
			udp_flush(t);
		f = calloc(1, sizeof(*f));
		if (!f)
			return;
		f->hash = h;
		f->kind = k;
		f->ssrc = ssrc;
		f->pt = pt;
		f->first = *pi;
		f->next = ut->bucket[h & (ut->nbucket - 1)];
		ut->bucket[h & (ut->nbucket - 1)] = f;
		ut->n++;
	}
	f->packets++;
	f->bytes += len;
	f->last = pi->t;
}

static bool rtp_pt_ok(int pt)
{
	/* RFC 3551 static types 0-34 and the dynamic range 96-127. */
	return pt <= 34 || (pt >= 96 && pt <= 127);
}

/* Name services put a random 16-bit ID first, which reads as RTP version 2 one time in four:
 * a datagram from or to their ports is never media. SIP (text) and STUN (first two bits 0)
 * cannot look like version 2, on any port. */
static bool name_service_port(uint16_t port)
{
	return port == 53 || port == 137 || port == 5353 || port == 5355;
}

/* Media may come from any port (an endpoint sending RTP from port 800 must be seen so the
 * media range checks can fail); port 0 is not a port. */
static bool media_ports(const struct conform_timeline *t, const struct pktinfo *pi)
{
	unsigned lo = t->lim.rtp_port_min ? t->lim.rtp_port_min : 1, hi = t->lim.rtp_port_max;

	return pi->sport >= lo && pi->sport <= hi && pi->dport >= lo && pi->dport <= hi &&
	        !name_service_port(pi->sport) && !name_service_port(pi->dport);
}

void udp_packet(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len)
{
	if (stun_decode(t, pi, p, len))
		return;
	if ((pi->sport == 53 || pi->dport == 53 || pi->sport == 5353 || pi->dport == 5353) &&
	    dns_decode(t, pi, p, len))
		return;
	if (sip_looks_like(p, len) && sip_decode(t, pi, p, len, false) > 0)
		return;
	if (len >= 8 && (p[0] >> 6) == 2 && p[1] >= 200 && p[1] <= 204 && media_ports(t, pi)) {
		account(t, pi, UK_RTCP, 0, 0, len);
		return;
	}
	if (len >= 12 && (p[0] >> 6) == 2 && rtp_pt_ok(p[1] & 0x7f) && media_ports(t, pi)) {
		uint32_t ssrc =
		        (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];

		account(t, pi, UK_RTP, ssrc, p[1] & 0x7f, len);
		return;
	}
	account(t, pi, UK_UDP, 0, 0, len);
}
