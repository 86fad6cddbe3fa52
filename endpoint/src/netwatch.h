/* netwatch.h - notices when the host's addresses or routes change (rtnetlink, rtnetlink(7))
 * and reports the new state once things settle. */
#ifndef EP_NETWATCH_H
#define EP_NETWATCH_H

#include <stddef.h>

struct evloop;
struct netwatch;

/* address: first global IPv4 (else IPv6) address, route: IPv4 default gateway, "" if none. */
typedef void(netwatch_h)(void *arg, const char *address, const char *route);

/* settle_ms: quiet time after the last change before h runs (a migration is several
 * messages: link down, address removed, address added, route added). */
int netwatch_alloc(struct netwatch **wp, struct evloop *loop, unsigned settle_ms, netwatch_h *h,
                   void *arg) __attribute__((warn_unused_result));
void netwatch_free(struct netwatch *w);
/* The current state, as passed to the handler. */
void netwatch_state(char *address, size_t alen, char *route, size_t rlen);

#endif
