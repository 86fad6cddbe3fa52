/* rtp.h - a minimal RTP audio stream (RFC 3550): PCMU, 20 ms packets, counters.
 *
 * The stream binds an even RTP port and the RTCP port above it inside [port_min, port_max]
 * (RFC 3550 §11). Packets go out on its own socket to the remote address, or, when a sender
 * is set (TeamLink UDP channel), through that callback; received packets come from the socket
 * or from rtp_input().
 */
#ifndef EP_RTP_H
#define EP_RTP_H

#include <stddef.h>
#include <stdint.h>

struct evloop;
struct rtp;

typedef int(rtp_send_h)(void *arg, const uint8_t *buf, size_t len);

/* Where the port pair is taken from. */
enum rtp_ports {
	RTP_PORTS_IN_RANGE = 0, /* [port_min, port_max] */
	RTP_PORTS_BELOW_RANGE, /* under port_min but >= 1024 (fault media-out-of-range) */
	RTP_PORTS_BELOW_1024, /* a privileged pair in 800..1023 (fault media-below-1024) */
};
#define RTP_LOW_PORT_MIN 800
#define RTP_LOW_PORT_MAX 1023

/* Binds a port pair on the wildcard address, from where (RTP_PORTS_IN_RANGE: within
 * [port_min, port_max]). */
int rtp_alloc(struct rtp **rp, struct evloop *loop, unsigned port_min, unsigned port_max,
              enum rtp_ports where) __attribute__((warn_unused_result));
void rtp_free(struct rtp *r);
unsigned rtp_local_port(const struct rtp *r);
/* Routes outgoing packets through h instead of the socket (NULL: back to the socket). */
void rtp_set_sender(struct rtp *r, rtp_send_h *h, void *arg);
/* Starts sending every 20 ms to host:port (a numeric address for the socket path). */
int rtp_start(struct rtp *r, const char *host, unsigned port) __attribute__((warn_unused_result));
void rtp_stop(struct rtp *r);
/* A packet received on another path (the tunnel). */
void rtp_input(struct rtp *r, const uint8_t *buf, size_t len);
void rtp_counters(const struct rtp *r, unsigned long *tx, unsigned long *rx);
const char *rtp_remote(const struct rtp *r); /* "host:port" or "" */

#endif
