/* httpd.h - libmicrohttpd on the common event loop, in front of the API.
 *
 * One MHD daemon per listening address, each in external-epoll mode: its epoll descriptor
 * is watched by our loop and MHD_run() is called when it is readable or when MHD's own
 * timeout is due, so the whole server is one thread. Limits: total connections, connections
 * per client address, memory per connection (which also caps header size), an inactivity
 * timeout, and an absolute deadline per connection so a client trickling bytes cannot hold
 * a slot (the socket is shut down when the deadline passes).
 */
#ifndef MOCK_OAM_HTTPD_H
#define MOCK_OAM_HTTPD_H

#include "api.h"
#include "onsight/evloop.h"
#include "onsight/sock.h"

struct httpd;

struct httpd_conf {
	const char *cert_pem; /* certificate chain, PEM text (NULL for plain HTTP) */
	const char *key_pem;
	unsigned max_connections;
	unsigned max_per_ip;
	unsigned idle_timeout_s;
	unsigned deadline_s;
	size_t memory_limit; /* bytes per connection */
};

int httpd_alloc(struct httpd **hp, struct evloop *loop, struct api *api, struct journal *j)
        __attribute__((warn_unused_result));
/* Starts serving on sa (HTTPS when conf->cert_pem is set). The bound address (with the real
 * port when sa had port 0) goes to *bound when not NULL. */
int httpd_listen(struct httpd *h, const struct sock_addr *sa, const struct httpd_conf *conf,
                 struct sock_addr *bound) __attribute__((warn_unused_result));
void httpd_free(struct httpd *h);

#endif
