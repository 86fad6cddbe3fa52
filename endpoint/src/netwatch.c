/* netwatch.c - rtnetlink address and route watcher. */
#define LOG_TAG "netwatch"
#include "netwatch.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct netwatch {
	struct evloop *loop;
	int fd;
	unsigned settle_ms;
	uint64_t timer;
	netwatch_h *h;
	void *arg;
	char last_addr[64], last_route[64];
};

static void default_route(char *out, size_t len)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[256];

	out[0] = '\0';
	if (!f)
		return;
	/* Iface Destination Gateway Flags ...: hex, host byte order of the kernel. */
	for (int i = 0; i < 256 && fgets(line, sizeof(line), f); i++) {
		char ifn[32];
		unsigned dst, gw, flags;

		if (sscanf(line, "%31s %x %x %x", ifn, &dst, &gw, &flags) != 4)
			continue;
		if (dst == 0 && (flags & 0x1)) {
			struct in_addr a = {.s_addr = gw};

			inet_ntop(AF_INET, &a, out, (socklen_t)len);
			break;
		}
	}
	fclose(f);
}

void netwatch_state(char *address, size_t alen, char *route, size_t rlen)
{
	struct ifaddrs *ifa = NULL, *i;
	char v6[64] = "";

	address[0] = '\0';
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) ||
			    !(i->ifa_flags & IFF_UP))
				continue;
			if (i->ifa_addr->sa_family == AF_INET && !address[0]) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
				          address, (socklen_t)alen);
			} else if (i->ifa_addr->sa_family == AF_INET6 && !v6[0]) {
				const struct in6_addr *a =
				        &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

				if (!IN6_IS_ADDR_LINKLOCAL(a))
					inet_ntop(AF_INET6, a, v6, sizeof(v6));
			}
		}
		freeifaddrs(ifa);
	}
	if (!address[0])
		str_copy(address, v6, alen);
	default_route(route, rlen);
}

static void settled(void *arg)
{
	struct netwatch *w = arg;
	char a[64], r[64];

	w->timer = 0;
	netwatch_state(a, sizeof(a), r, sizeof(r));
	if (strcmp(a, w->last_addr) == 0 && strcmp(r, w->last_route) == 0)
		return; /* e.g. a route flapped back: nothing to redo */
	str_copy(w->last_addr, a, sizeof(w->last_addr));
	str_copy(w->last_route, r, sizeof(w->last_route));
	w->h(w->arg, a, r);
}

static void on_netlink(int fd, uint32_t events, void *arg)
{
	struct netwatch *w = arg;
	char buf[8192];
	int relevant = 0;

	(void)events;
	for (int i = 0; i < 32; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;
		size_t len;

		if (n <= 0)
			break;
		len = (size_t)n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			switch (nh->nlmsg_type) {
			case RTM_NEWADDR:
			case RTM_DELADDR:
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
			case RTM_NEWLINK:
			case RTM_DELLINK:
				relevant = 1;
				break;
			default:
				break;
			}
		}
	}
	if (!relevant)
		return;
	if (w->timer)
		evloop_timer_cancel(w->loop, w->timer);
	w->timer = evloop_timer_add(w->loop, w->settle_ms, settled, w);
}

int netwatch_alloc(struct netwatch **wp, struct evloop *loop, unsigned settle_ms, netwatch_h *h,
                   void *arg)
{
	struct sockaddr_nl sa;
	struct netwatch *w = NULL;
	int err = 0;

	if (!wp || !loop || !h)
		return EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->loop = loop;
	w->settle_ms = settle_ms;
	w->h = h;
	w->arg = arg;
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (w->fd < 0) {
		err = errno;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR |
	        RTMGRP_IPV6_ROUTE;
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err = errno;
		goto out;
	}
	err = evloop_fd_add(loop, w->fd, EPOLLIN, on_netlink, w);
	if (err)
		goto out;
	netwatch_state(w->last_addr, sizeof(w->last_addr), w->last_route, sizeof(w->last_route));
	*wp = w;
	w = NULL;
out:
	netwatch_free(w);
	return err;
}

void netwatch_free(struct netwatch *w)
{
	if (!w)
		return;
	if (w->timer)
		evloop_timer_cancel(w->loop, w->timer);
	if (w->fd >= 0) {
		evloop_fd_del(w->loop, w->fd);
		close(w->fd);
	}
	free(w);
}
