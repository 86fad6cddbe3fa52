/* peer.h - the built-in far-end user agent (`peer@domain`).
 *
 * It has its own UDP SIP socket and sends through the proxy like any user: it answers
 * calls to itself at once (200 with an SDP answer, retransmitted until the ACK), calls a
 * registered user on command, hangs up (BYE, or CANCEL before the answer) on command or
 * after a given time, and on each call runs one RTP stream: it sends 20 ms packets of
 * silence until the far end's own packets arrive, then echoes those back to their source
 * (packets carrying the peer's own SSRC, echoed by the far end, are counted, not reflected).
 * RTCP is not generated. Calls are journaled as `peer.call`, media as `peer.media`.
 */
#ifndef PEER_H
#define PEER_H

#include "onsight/evloop.h"
#include "onsight/journal.h"
#include "transport.h"

#include <stddef.h>

#define PEER_MAX_CALLS 16

struct peer;

struct peer_cfg {
	const char *user; /* "peer" */
	const char *domain;
	struct sock_addr bind; /* SIP and RTP address of the peer (ports chosen by the kernel) */
	struct sock_addr proxy; /* our UDP SIP listener: every request goes there */
};

int peer_alloc(struct peer **pp, struct evloop *loop, struct journal *j, const struct peer_cfg *cfg)
        __attribute__((warn_unused_result));
void peer_free(struct peer *p);
/* The peer's contact URI and the flow the proxy reaches it on. */
int peer_contact(const struct peer *p, char *buf, size_t cap, struct tp_flow *flow);
/* Calls user@domain; ends the call after seconds (0: never). The Call-ID goes to out. */
int peer_call(struct peer *p, const char *user, unsigned seconds, char *out, size_t cap)
        __attribute__((warn_unused_result));
/* Hangs up call_id (NULL: every call). Returns the number of calls hung up. */
int peer_hangup(struct peer *p, const char *call_id);
/* Adds "peer_calls": [...] to the JSON object. */
void peer_status(const struct peer *p, void *json_obj);

#endif
