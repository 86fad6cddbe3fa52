/* relay.h - the media relay: UDP port pairs (RTP even, RTCP odd) in a configured range,
 * symmetric latching, per-leg counters, and the STUN Binding server on the range's first
 * port (RFC 5389; the range's first pair is reserved for it).
 *
 * A session belongs to one call and holds up to SDP_MAX_STREAMS streams; each stream has
 * two legs: leg 0 faces the caller, leg 1 the callee. A leg's peer is first the address
 * its side's SDP names, then the source of the first packet that arrives on the leg
 * (latching, for endpoints behind NAT); later packets from other sources are dropped.
 */
#ifndef RELAY_H
#define RELAY_H

#include "onsight/evloop.h"
#include "onsight/journal.h"
#include "onsight/sock.h"
#include "onsight/sdp.h"

#include <stdint.h>

struct relay;
struct relay_sess;

struct relay_cfg {
	struct sock_addr addr; /* media address (port ignored) */
	uint16_t port_min, port_max;
	size_t max_sessions;
	int stun_on_first_port;
};

int relay_alloc(struct relay **rp, struct evloop *loop, struct journal *j,
                const struct relay_cfg *cfg) __attribute__((warn_unused_result));
void relay_free(struct relay *r);
/* Address the SDP should name. */
const struct sock_addr *relay_addr(const struct relay *r);

int relay_sess_alloc(struct relay_sess **sp, struct relay *r, const char *call_id)
        __attribute__((warn_unused_result));
/* Journals a media.stream line per leg and frees the ports. NULL is a no-op. */
void relay_sess_free(struct relay_sess *s);
/* SDP from side leg (0 caller, 1 callee) describes where that side wants media; returns in
 * ports[] the relay ports the other side must send to (pairs allocated on first use). */
int relay_sess_offer(struct relay_sess *s, int leg, const struct sdp_info *info,
                     uint16_t ports[SDP_MAX_STREAMS]) __attribute__((warn_unused_result));
/* Monotonic ms of the last packet relayed in this session (its creation before any). */
uint64_t relay_sess_last_ms(const struct relay_sess *s);
/* Packets relayed so far in the session, both directions. */
uint64_t relay_sess_packets(const struct relay_sess *s);
size_t relay_ports_in_use(const struct relay *r);
/* Port of the STUN socket on the first media port, 0 when off. */
uint16_t relay_stun_port(const struct relay *r);

#endif
