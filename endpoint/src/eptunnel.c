/* eptunnel.c - the endpoint's TeamLink tunnel on the teamlink client library. */
#define LOG_TAG "tunnel"
#include "eptunnel.h"

#include "rtp.h"

#include "onsight/log.h"
#include "onsight/util.h"
#include "teamlink/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPT_MEDIA_MAX 4

struct media_chan {
	struct eptunnel *t;
	struct rtp *r;
	struct tlc_chan *ch;
};

struct eptunnel {
	struct tlc *tlc;
	struct tlc_chan *sip;
	int sip_opened;
	char sip_addr[80]; /* the server side of the SIP connection, as the SIP server sees us */
	struct eptunnel_cbs cbs;
	struct media_chan media[EPT_MEDIA_MAX];
	int gone; /* down reported: no more callbacks */
	int via_proxy;
};

static void report_down(struct eptunnel *t, const char *reason)
{
	if (t->gone)
		return;
	t->gone = 1;
	t->cbs.down(t->cbs.arg, reason);
}

static void on_state(struct tlc *tlc, enum tlc_state st, const char *reason, void *arg)
{
	struct eptunnel *t = arg;
	char why[300];

	(void)tlc;
	if (st == TLC_OPEN) {
		t->cbs.up(t->cbs.arg);
		return;
	}
	if (st == TLC_FAILED)
		snprintf(why, sizeof(why), "%s (HTTP %d, proxy %d)", reason ? reason : "failed",
		         tlc_http_status(t->tlc), tlc_proxy_status(t->tlc));
	else
		snprintf(why, sizeof(why), "%s", reason ? reason : "closed");
	t->sip = NULL; /* channels are gone with the tunnel */
	for (int i = 0; i < EPT_MEDIA_MAX; i++)
		t->media[i].ch = NULL;
	report_down(t, why);
}

static void sip_opened(struct tlc_chan *c, const char *server_addr, void *arg)
{
	struct eptunnel *t = arg;

	(void)c;
	str_copy(t->sip_addr, server_addr ? server_addr : "", sizeof(t->sip_addr));
	t->sip_opened = 1;
	t->cbs.sip_open(t->cbs.arg, 1, "opened");
}

static void sip_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	struct eptunnel *t = arg;

	(void)c;
	if (!t->gone)
		t->cbs.sip_data(t->cbs.arg, p, n);
}

static void sip_closed(struct tlc_chan *c, int code, const char *text, void *arg)
{
	struct eptunnel *t = arg;
	char why[300];

	(void)c;
	t->sip = NULL;
	snprintf(why, sizeof(why), "SIP channel %s: %d %s", t->sip_opened ? "closed" : "refused",
	         code, text ? text : "");
	if (!t->sip_opened)
		t->cbs.sip_open(t->cbs.arg, 0, why);
	else
		report_down(t, why);
}

int eptunnel_open(struct eptunnel **tp, struct evloop *loop, const struct eptunnel_opts *o,
                  const struct eptunnel_cbs *cbs)
{
	struct eptunnel *t = NULL;
	struct tlc_opts to;
	char url[400];
	int err;

	if (!tp || !loop || !o || !o->server || !o->scheme || !cbs || !cbs->up || !cbs->down ||
	    !cbs->sip_open || !cbs->sip_data)
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->cbs = *cbs;
	t->via_proxy = o->proxy && o->proxy[0];
	snprintf(url, sizeof(url), "%s://%s:%u/teamlink/v1/tunnel", o->scheme, o->server, o->port);
	memset(&to, 0, sizeof(to));
	to.url = url;
	to.token = o->token;
	to.tls = o->tls;
	to.proxy = o->proxy;
	to.timeout_ms = o->timeout_ms;
	err = tlc_open(&t->tlc, loop, &to, on_state, t);
	if (err) {
		free(t);
		return err;
	}
	*tp = t;
	return 0;
}

void eptunnel_free(struct eptunnel *t)
{
	if (!t)
		return;
	for (int i = 0; i < EPT_MEDIA_MAX; i++)
		if (t->media[i].r)
			rtp_set_sender(t->media[i].r, NULL, NULL);
	/* tlc_free frees the channels without calling their handlers. */
	tlc_free(t->tlc);
	free(t);
}

int eptunnel_sip(struct eptunnel *t, const char *host, unsigned port, const char *transport)
{
	static const struct tlc_chan_handlers h = {sip_opened, sip_data, sip_closed};

	if (!t || t->sip || !host || port == 0 || port > 65535)
		return EINVAL;
	return tlc_open_sip(t->tlc, &t->sip, host, (uint16_t)port,
	                    transport && strcmp(transport, "tls") == 0, &h, t);
}

void eptunnel_sip_close(struct eptunnel *t)
{
	if (!t || !t->sip)
		return;
	tlc_chan_close(t->sip);
	t->sip = NULL;
	t->sip_opened = 0;
	t->sip_addr[0] = '\0';
}

int eptunnel_sip_send(struct eptunnel *t, const char *buf, size_t len)
{
	if (!t || !t->sip)
		return ENOTCONN;
	return tlc_send(t->sip, buf, len);
}

static int media_send(void *arg, const uint8_t *buf, size_t len)
{
	struct media_chan *m = arg;

	return m->ch ? tlc_send(m->ch, buf, len) : ENOTCONN;
}

static void media_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	struct media_chan *m = arg;

	(void)c;
	if (m->r)
		rtp_input(m->r, p, n);
}

static void media_closed(struct tlc_chan *c, int code, const char *text, void *arg)
{
	struct media_chan *m = arg;

	(void)c;
	log_warnx("media channel closed: %d %s", code, text ? text : "");
	m->ch = NULL;
}

int eptunnel_media(struct eptunnel *t, struct rtp *r, const char *host, unsigned port)
{
	static const struct tlc_chan_handlers h = {NULL, media_data, media_closed};
	struct media_chan *m = NULL;
	int err;

	if (!t || !r || !host || port == 0 || port > 65535)
		return EINVAL;
	for (int i = 0; i < EPT_MEDIA_MAX && !m; i++)
		if (!t->media[i].r)
			m = &t->media[i];
	if (!m)
		return EMFILE;
	m->t = t;
	m->r = r;
	err = tlc_open_udp(t->tlc, &m->ch, host, (uint16_t)port, &h, m);
	if (err) {
		m->r = NULL;
		return err;
	}
	rtp_set_sender(r, media_send, m);
	return rtp_start(r, host, port);
}

void eptunnel_media_close(struct eptunnel *t, struct rtp *r)
{
	if (!t || !r)
		return;
	for (int i = 0; i < EPT_MEDIA_MAX; i++) {
		struct media_chan *m = &t->media[i];

		if (m->r != r)
			continue;
		rtp_set_sender(r, NULL, NULL);
		if (m->ch)
			tlc_chan_close(m->ch);
		memset(m, 0, sizeof(*m));
	}
}

int eptunnel_proxy_unreachable(const struct eptunnel *t)
{
	return t && t->via_proxy && tlc_proxy_status(t->tlc) == 0 && tlc_http_status(t->tlc) == 0;
}

void eptunnel_local(const struct eptunnel *t, char *host, size_t len, unsigned *port)
{
	const char *colon = t ? strrchr(t->sip_addr, ':') : NULL;
	size_t n;

	*port = 0;
	host[0] = '\0';
	if (!colon)
		return;
	n = (size_t)(colon - t->sip_addr);
	if (t->sip_addr[0] == '[' && n >= 2) {
		n -= 2;
		if (n < len) {
			memcpy(host, t->sip_addr + 1, n);
			host[n] = '\0';
		}
	} else if (n < len) {
		memcpy(host, t->sip_addr, n);
		host[n] = '\0';
	}
	*port = (unsigned)atoi(colon + 1);
}
