/* svc.c - service configuration text. Each writer returns 0 or ENOSPC. */
#include "svc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, off;
	int err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->off, o->len - o->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->off)
		o->err = ENOSPC;
	else
		o->off += (size_t)n;
}

static void dnsmasq_common(struct out *o, const char *listen)
{
	put(o,
	    "# written by mock-firewall; dnsmasq -k -C THIS\n"
	    "keep-in-foreground\nno-resolv\nno-hosts\nno-poll\nbind-interfaces\n"
	    "listen-address=%s\npid-file=\nlog-facility=-\nlog-queries\nlocal-ttl=30\n"
	    "domain-needed\n",
	    listen);
}

int svc_dnsmasq_net(char *buf, size_t len, const struct lab_host *h, size_t n, const char *domain)
{
	struct out o = {buf, len, 0, 0};

	if (!domain)
		domain = HOSTS_DOMAIN_DEFAULT;
	dnsmasq_common(&o, LAB_NET_DNS);
	/* local=: names in these zones are answered here or NXDOMAIN, never forwarded. */
	put(&o, "local=/%s/\nlocal=/corp.example/\n", domain);
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].ns, "net") == 0)
			put(&o, "host-record=%s,%s\n", h[i].name, h[i].addr);
	put(&o,
	    "srv-host=_sip._tcp.%s,sip.%s,5060,0,0\n"
	    "srv-host=_sips._tcp.%s,sip.%s,5061,0,0\n"
	    "srv-host=_sip._udp.%s,sip.%s,5060,0,0\n"
	    "srv-host=_sip._tcp.corp.example,vcs-expressway.corp.example,5060,0,0\n"
	    "srv-host=_sips._tcp.corp.example,vcs-expressway.corp.example,5061,0,0\n",
	    domain, domain, domain, domain, domain, domain);
	return o.err;
}

int svc_dnsmasq_lan(char *buf, size_t len, const struct lab_host *h, size_t n)
{
	struct out o = {buf, len, 0, 0};

	dnsmasq_common(&o, LAB_LAN_DNS);
	/* @source: forwarded queries leave from the DNS server's own address, which is what the
	 * firewall's DNS rule allows (the bridge's first address is the proxy's). */
	put(&o, "server=%s@%s\nno-negcache\n", LAB_NET_DNS, LAB_LAN_DNS);
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].ns, "lan") == 0)
			put(&o, "host-record=%s,%s\n", h[i].name, h[i].addr);
	/* Split horizon: inside, the enterprise SIP service is the private server. */
	put(&o,
	    "srv-host=_sip._tcp.corp.example,vcs-control.corp.example,5060,0,0\n"
	    "srv-host=_sips._tcp.corp.example,vcs-control.corp.example,5061,0,0\n");
	return o.err;
}

int svc_tinyproxy(char *buf, size_t len, const struct profile *p, const char *filter_path)
{
	struct out o = {buf, len, 0, 0};

	put(&o,
	    "# written by mock-firewall; tinyproxy -d -c THIS\n"
	    "User nobody\nGroup nogroup\nPort %d\nListen %s\n"
	    /* Outgoing connections from the proxy's own address: the firewall's "proxy" role. */
	    "Bind %s\n"
	    "Timeout 600\nMaxClients 128\nLogLevel Info\n"
	    "ViaProxyName \"proxy.corp.example\"\n"
	    "Filter \"%s\"\nFilterType ere\nFilterDefaultDeny Yes\nFilterURLs Off\n"
	    "FilterCaseSensitive Off\n",
	    LAB_PROXY_PORT, LAB_PROXY, LAB_PROXY, filter_path);
	for (size_t i = 0; i < p->nconnect_ports; i++)
		put(&o, "ConnectPort %u\n", p->connect_ports[i]);
	return o.err;
}

int svc_proxy_filter(char *buf, size_t len, const struct profile *p)
{
	struct out o = {buf, len, 0, 0};

	for (size_t i = 0; i < p->nproxy_allow; i++) {
		put(&o, "^");
		for (const char *s = p->proxy_allow[i]; *s; s++) {
			if (*s == '*')
				put(&o, ".*");
			else if (*s == '?')
				put(&o, ".");
			else if (*s == '.')
				put(&o, "\\.");
			else
				put(&o, "%c", *s);
		}
		put(&o, "$\n");
	}
	if (p->nproxy_allow == 0)
		put(&o, "^$\n"); /* nothing allowed; an empty filter file would match all */
	return o.err;
}
