/* control.h - the control socket (unix stream): one command a line, one JSON line back.
 *   call USER [SECONDS]   the built-in peer calls USER -> {"ok":true,"call_id":"..."}
 *   hangup [CALL-ID]      -> {"ok":true,"hung_up":N}
 *   status                -> {"ok":true,"bindings":N,"calls":[...],"peer_calls":[...],...}
 * Unknown commands get {"ok":false,"error":"..."}. Lines are capped at CONTROL_MAX_LINE;
 * at most CONTROL_MAX_CLIENTS clients at once.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include "onsight/evloop.h"
#include "peer.h"
#include "proxy.h"
#include "registrar.h"

#define CONTROL_MAX_LINE 1024
#define CONTROL_MAX_CLIENTS 16

struct control;

int control_open(struct control **cp, struct evloop *loop, const char *path, struct peer *peer,
                 struct proxy *proxy, struct registrar *reg) __attribute__((warn_unused_result));
/* Closes the socket and removes its path. NULL is a no-op. */
void control_close(struct control *c);

#endif
