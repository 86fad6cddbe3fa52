/* txn.h - SIP transactions (RFC 3261 §17) as far as a proxy and a small UA need them.
 *
 * Server side: the last response of each request is kept, keyed by top-Via branch and
 * method (an ACK matches its INVITE), so a retransmitted request gets it again instead of
 * being processed twice; a non-2xx final response to an INVITE over UDP is retransmitted
 * (Timer G) until the ACK (Timer H). Client side: requests sent over UDP are retransmitted
 * (Timer A/E) until a response; no final response within 64*T1 (Timer B/F) reports a
 * timeout. Entries linger 64*T1 after completion to absorb retransmissions, then go.
 * Stream flows need no retransmission: only the client entry is kept (to route responses).
 */
#ifndef TXN_H
#define TXN_H

#include "onsight/journal.h"
#include "sipmsg.h"
#include "transport.h"

#include <stdint.h>

#define TXN_T1_MS 500
#define TXN_T2_MS 4000
#define TXN_TIMEOUT_MS (64 * TXN_T1_MS)

struct txnl;

/* A response for a client transaction, or resp == NULL on timeout. up and up_req are what
 * was given to txn_client_send (the upstream flow and request, for proxies). */
typedef void(txn_client_h)(void *ctx, uint64_t cookie, const struct tp_flow *up, const char *up_req,
                           size_t up_len, struct sipmsg *resp);

/* j (may be NULL) gets a `sip.response` line for every response sent. */
int txnl_alloc(struct txnl **lp, struct evloop *loop, struct tp *tp, struct journal *j,
               size_t max_entries, txn_client_h *h, void *ctx) __attribute__((warn_unused_result));
void txnl_free(struct txnl *l);

/* 1 when req is a retransmission (the stored response was resent) or an ACK absorbed by
 * an INVITE server transaction; 0 when it is new. */
int txn_server_absorb(struct txnl *l, const struct sipmsg *req, const struct tp_flow *from);
/* Sends a response to req over from and remembers it (UDP only). */
int txn_server_send(struct txnl *l, const struct sipmsg *req, const struct tp_flow *from,
                    int status, const char *buf, size_t len);
/* Builds (sipmsg_response), serialises and sends through txn_server_send; extra may add
 * headers to the response before it is printed. */
int txn_reply(struct txnl *l, const struct sipmsg *req, const struct tp_flow *from, int status,
              const char *reason, const char *to_tag,
              void (*extra)(osip_message_t *resp, void *arg), void *arg);

/* Sends a request with top-Via branch and method (CSeq method) over to. up and up_req are
 * copied and handed back with each response. */
int txn_client_send(struct txnl *l, const struct tp_flow *to, const char *branch,
                    const char *method, const char *buf, size_t len, uint64_t cookie,
                    const struct tp_flow *up, const char *up_req, size_t up_len);
/* Routes a response to its client transaction. Returns 1 when matched (handler called). */
int txn_client_match(struct txnl *l, struct sipmsg *resp);
/* Forgets every client transaction with cookie (its owner is gone). */
void txn_client_forget(struct txnl *l, uint64_t cookie);
size_t txnl_count(const struct txnl *l);

#endif
