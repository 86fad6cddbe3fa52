/* uaconf.h - the user agent configuration the sipua test and fuzzer share: alice of the lab
 * registering to sip.librestream.com over TCP, direct path. Callers set the password, local
 * address and media ports. */
#ifndef ENDPOINT_TESTS_UACONF_H
#define ENDPOINT_TESTS_UACONF_H

#include "sipua.h"

#include <string.h>

static inline void uaconf_alice(struct sipua_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->aor = "sip:alice@librestream.com";
	c->display = "Alice";
	c->auth_user = "alice";
	c->expires = 300;
	c->transport = "tcp";
	c->server_host = "sip.librestream.com";
	c->server_port = 5060;
	c->path = "direct";
}

#endif
