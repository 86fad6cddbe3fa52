/* eptunnel.c - placeholder until the teamlink client library is linked: every open fails
 * with ENOSYS, so the endpoint reports "tunnel failed" and retries. */
#include "eptunnel.h"

#include <errno.h>

int eptunnel_open(struct eptunnel **tp, struct evloop *loop, const struct eptunnel_opts *o,
                  const struct eptunnel_cbs *cbs)
{
	(void)tp;
	(void)loop;
	(void)o;
	(void)cbs;
	return ENOSYS;
}

void eptunnel_free(struct eptunnel *t)
{
	(void)t;
}

int eptunnel_sip(struct eptunnel *t, const char *host, unsigned port, const char *transport)
{
	(void)t;
	(void)host;
	(void)port;
	(void)transport;
	return ENOSYS;
}

int eptunnel_sip_send(struct eptunnel *t, const char *buf, size_t len)
{
	(void)t;
	(void)buf;
	(void)len;
	return ENOSYS;
}

int eptunnel_media(struct eptunnel *t, struct rtp *r, const char *host, unsigned port)
{
	(void)t;
	(void)r;
	(void)host;
	(void)port;
	return ENOSYS;
}

void eptunnel_media_close(struct eptunnel *t, struct rtp *r)
{
	(void)t;
	(void)r;
}

void eptunnel_local(const struct eptunnel *t, char *host, size_t len, unsigned *port)
{
	(void)t;
	if (len)
		host[0] = '\0';
	*port = 0;
}
