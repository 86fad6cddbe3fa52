#include "onsight/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Splits "host:port", "[v6]:port", "host", "[v6]" into host and port text. */
static int split_hostport(const char *text, char *host, size_t hostlen, uint16_t *port,
                          uint16_t default_port)
{
	const char *p, *end;
	size_t n;

	if (!text || !*text)
		return EINVAL;
	*port = default_port;
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end)
			return EINVAL;
		n = (size_t)(end - text - 1);
		p = end[1] == ':' ? end + 2 : (end[1] == '\0' ? NULL : end);
		if (p == end)
			return EINVAL;
		text++;
	} else {
		end = strrchr(text, ':');
		/* A bare IPv6 address has several colons: take it whole. */
		if (end && strchr(text, ':') != end)
			end = NULL;
		n = end ? (size_t)(end - text) : strlen(text);
		p = end ? end + 1 : NULL;
	}
	if (n == 0 || n >= hostlen)
		return EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	if (p) {
		char *ep;
		unsigned long v;
		if (!*p)
			return EINVAL;
		errno = 0;
		v = strtoul(p, &ep, 10);
		if (errno || *ep || v > 65535 || *p == '-' || *p == '+')
			return EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

int sock_addr_parse(struct sock_addr *sa, const char *text, uint16_t default_port)
{
	char host[INET6_ADDRSTRLEN + 1];
	uint16_t port;
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;

	if (!sa || split_hostport(text, host, sizeof(host), &port, default_port))
		return EINVAL;
	memset(sa, 0, sizeof(*sa));
	s4 = (struct sockaddr_in *)&sa->ss;
	s6 = (struct sockaddr_in6 *)&sa->ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sa->len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sa->len = sizeof(*s6);
		return 0;
	}
	return EINVAL;
}

int sock_addr_resolve(struct sock_addr *sa, const char *text, uint16_t default_port, int socktype)
{
	char host[256], portstr[8];
	uint16_t port;
	struct addrinfo hints, *res = NULL;
	int rc;

	if (!sa || split_hostport(text, host, sizeof(host), &port, default_port))
		return EINVAL;
	if (sock_addr_parse(sa, text, default_port) == 0)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0)
		return rc == EAI_SYSTEM ? errno : ENOENT;
	memset(sa, 0, sizeof(*sa));
	memcpy(&sa->ss, res->ai_addr, res->ai_addrlen);
	sa->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *sock_addr_host(const struct sock_addr *sa, char *buf, size_t len)
{
	const void *a = NULL;

	if (sa->ss.ss_family == AF_INET)
		a = &((const struct sockaddr_in *)&sa->ss)->sin_addr;
	else if (sa->ss.ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)&sa->ss)->sin6_addr;
	if (!a || !inet_ntop(sa->ss.ss_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *sock_addr_str(const struct sock_addr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	sock_addr_host(sa, host, sizeof(host));
	if (sa->ss.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, sock_addr_port(sa));
	else
		snprintf(buf, len, "%s:%u", host, sock_addr_port(sa));
	return buf;
}

uint16_t sock_addr_port(const struct sock_addr *sa)
{
	if (sa->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&sa->ss)->sin_port);
	if (sa->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&sa->ss)->sin6_port);
	return 0;
}

void sock_addr_set_port(struct sock_addr *sa, uint16_t port)
{
	if (sa->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&sa->ss)->sin_port = htons(port);
	else if (sa->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sa->ss)->sin6_port = htons(port);
}

int sock_addr_eq(const struct sock_addr *a, const struct sock_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family || sock_addr_port(a) != sock_addr_port(b))
		return 0;
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
		        ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
	if (a->ss.ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		              &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, 16) == 0;
	return 0;
}

int sock_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return errno;
	return 0;
}

static int sock_new(const struct sock_addr *sa, int type)
{
	int fd = socket(sa->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int sock_listen_tcp(const struct sock_addr *sa, int backlog)
{
	int one = 1, fd, err;

	if (!sa)
		return -EINVAL;
	fd = sock_new(sa, SOCK_STREAM);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&sa->ss, sa->len) < 0 ||
	    listen(fd, backlog > 0 ? backlog : 128) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int sock_bind_udp(const struct sock_addr *sa)
{
	int one = 1, fd, err;

	if (!sa)
		return -EINVAL;
	fd = sock_new(sa, SOCK_DGRAM);
	if (fd < 0)
		return fd;
	if (sa->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&sa->ss, sa->len) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int sock_connect_tcp(const struct sock_addr *sa)
{
	return sock_connect_tcp_from(sa, NULL);
}

int sock_connect_tcp_from(const struct sock_addr *sa, const struct sock_addr *from)
{
	int fd, err, one = 1;

	if (!sa || (from && from->ss.ss_family != sa->ss.ss_family))
		return -EINVAL;
	fd = sock_new(sa, SOCK_STREAM);
	if (fd < 0)
		return fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The port is chosen at connect(), with the 4-tuple known, not reserved at bind(). */
	if (from)
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (from && bind(fd, (const struct sockaddr *)&from->ss, from->len) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	if (connect(fd, (const struct sockaddr *)&sa->ss, sa->len) < 0 && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int sock_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

int sock_local(int fd, struct sock_addr *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->len = sizeof(sa->ss);
	return getsockname(fd, (struct sockaddr *)&sa->ss, &sa->len) < 0 ? errno : 0;
}
