/* probesrv.h - the Firewall Detect test server on the event loop.
 *
 * Answers SIP OPTIONS with 200 on TCP and TLS listeners (RFC 3261 §11, framed per §18.3)
 * and STUN Binding requests (RFC 5389) on UDP ports. Every probe seen is journaled as
 * `detect.probe` {source, proto:"tcp"|"tls"|"udp", port}. Bounded: PROBESRV_MAX_CONNS
 * connections, PROBESRV_IDLE_MS idle timeout, messages capped at PROBESRV_MAX_MSG.
 */
#ifndef ONSIGHT_PROBESRV_H
#define ONSIGHT_PROBESRV_H

#include "onsight/evloop.h"
#include "onsight/journal.h"
#include "onsight/sock.h"

#include <openssl/ssl.h>
#include <stddef.h>

#define PROBESRV_MAX_CONNS 256
#define PROBESRV_IDLE_MS 30000
#define PROBESRV_MAX_MSG 8192

enum probesrv_proto { PROBESRV_TCP, PROBESRV_TLS, PROBESRV_UDP };

struct probesrv;

/* journal and tls (needed for TLS listeners) are borrowed and must outlive the server. */
int probesrv_alloc(struct probesrv **pp, struct evloop *loop, struct journal *j, SSL_CTX *tls)
        __attribute__((warn_unused_result));
/* Closes every listener and connection. NULL is a no-op. */
void probesrv_free(struct probesrv *p);
/* Listens on sa (port 0: ephemeral); the bound address goes to *bound when given. */
int probesrv_listen(struct probesrv *p, enum probesrv_proto proto, const struct sock_addr *sa,
                    struct sock_addr *bound) __attribute__((warn_unused_result));
/* Stateless SIP answer to one framed message: 200 to OPTIONS (Allow, Accept, Supported),
 * 501 to other requests, nothing to ACK or responses. Returns the length written to out,
 * 0 for no answer, or -EBADMSG when mandatory headers are missing, -ENOSPC. */
int probesrv_answer(const char *msg, size_t len, char *out, size_t cap);

#endif
