/* sdp.h - the SDP (RFC 4566) a media relay and an endpoint need: where each stream wants
 * media, and a rewrite that points every stream at relay ports.
 *
 * The rewrite replaces c= addresses, m= ports (port 0, a declined stream, stays 0) and
 * a=rtcp ports (RFC 3605), and removes ICE candidates (RFC 8839) so media takes the relay.
 * Everything else passes through. Input is capped at SDP_MAX_LEN.
 */
#ifndef ONSIGHT_SDP_H
#define ONSIGHT_SDP_H

#include "onsight/sock.h"

#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_STREAMS 4
#define SDP_MAX_LEN 16384

struct sdp_stream {
	uint16_t port; /* 0: declined */
	struct sock_addr addr; /* connection address with port; len 0 when unknown */
};

struct sdp_info {
	unsigned n; /* m= lines, at most SDP_MAX_STREAMS */
	struct sdp_stream s[SDP_MAX_STREAMS];
};

/* Reads the streams. Returns 0, EINVAL (no m= line, more than SDP_MAX_STREAMS, bad port),
 * EMSGSIZE. */
int sdp_parse(const char *sdp, size_t len, struct sdp_info *info)
        __attribute__((warn_unused_result));
/* The first stream whose m= line names media type `media` ("audio"): its port (0 when
 * declined) and connection address (the stream's c=, else the session's; len 0 when there is
 * none). Any number of streams. Returns 0, EINVAL (no such stream, bad port), EMSGSIZE. */
int sdp_find(const char *sdp, size_t len, const char *media, struct sdp_stream *out)
        __attribute__((warn_unused_result));
/* Writes sdp with address relay (its port is ignored) and ports[i] for stream i. Returns
 * 0, ENOSPC, or the sdp_parse errors. */
int sdp_rewrite(const char *sdp, size_t len, const struct sock_addr *relay, const uint16_t *ports,
                unsigned nports, char *out, size_t cap, size_t *outlen)
        __attribute__((warn_unused_result));

#endif
