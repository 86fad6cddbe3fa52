/* proxy.h - the SIP request router: takes every message from the transports, answers
 * OPTIONS, hands REGISTER to the registrar, and proxies INVITE/ACK/BYE/CANCEL/re-INVITE
 * (and other in-dialog requests) between registered users through the media relay.
 *
 * A record-routing, transaction-stateful proxy (RFC 3261 §16) without forking: a request for
 * a user goes to the binding refreshed last, over the flow it registered on. In-dialog
 * requests are routed by Call-ID and From tag to the other party's flow. SDP in both
 * directions is rewritten to relay ports. Calls are journaled (`call`), with one
 * `media.stream` line per relay leg when they end.
 */
#ifndef PROXY_H
#define PROXY_H

#include "onsight/journal.h"
#include "registrar.h"
#include "relay.h"
#include "transport.h"
#include "txn.h"

struct proxy;

struct proxy_cfg {
	size_t max_calls;
	uint64_t media_timeout_ms; /* an answered call with no media this long ends */
	uint64_t call_max_ms;
};

int proxy_alloc(struct proxy **pp, struct evloop *loop, struct journal *j,
                const struct proxy_cfg *cfg) __attribute__((warn_unused_result));
void proxy_free(struct proxy *p);
/* The parts the proxy uses (created after it, because they call back into it). */
void proxy_attach(struct proxy *p, struct tp *tp, struct txnl *txn, struct registrar *reg,
                  struct relay *relay);
/* The built-in peer: requests for user go to contact over flow. */
int proxy_set_peer(struct proxy *p, const char *user, const char *contact,
                   const struct tp_flow *flow);
/* tp_recv_h for the server transports. */
void proxy_receive(void *arg, const struct tp_flow *from, const char *msg, size_t len,
                   int framing_err);
/* txn_client_h for the server's transaction layer. */
void proxy_client_response(void *ctx, uint64_t cookie, const struct tp_flow *up, const char *up_req,
                           size_t up_len, struct sipmsg *resp);
size_t proxy_call_count(const struct proxy *p);
/* Appends {"calls":[...]} style status to o (control socket). */
void proxy_status(const struct proxy *p, void *json_obj);

#endif
