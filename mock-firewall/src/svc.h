/* svc.h - configuration files of the lab's services: dnsmasq (net and lan) and tinyproxy. */
#ifndef FWLAB_SVC_H
#define FWLAB_SVC_H

#include "hosts.h"
#include "profile.h"

#include <stddef.h>

/* dnsmasq for `net`: authoritative-style (local=) for the cloud zone and corp.example's public
 * names, A records for every host in net, SRV _sip._tcp/_sips._tcp/_sip._udp. */
int svc_dnsmasq_net(char *buf, size_t len, const struct lab_host *h, size_t n, const char *domain);
/* dnsmasq for `lan`: corp names (split horizon SRV to vcs-control), forwards the rest. */
int svc_dnsmasq_lan(char *buf, size_t len, const struct lab_host *h, size_t n);
/* tinyproxy.conf; filter_path is the allow-list file written by svc_proxy_filter. */
int svc_tinyproxy(char *buf, size_t len, const struct profile *p, const char *filter_path);
/* The allow-list as extended regular expressions, one a line (globs translated). */
int svc_proxy_filter(char *buf, size_t len, const struct profile *p);

#endif
