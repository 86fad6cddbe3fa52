/* sock.h - address parsing and non-blocking sockets, IPv4 and IPv6. */
#ifndef ONSIGHT_SOCK_H
#define ONSIGHT_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sock_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Longest string sock_addr_str writes: "[v6%scope]:port" and NUL. */
#define SOCK_ADDR_STRLEN 72

/* Parses a numeric "ADDR:PORT", "[V6]:PORT", "ADDR" or "[V6]" (then default_port is used).
 * No name lookup. Returns 0 or EINVAL. */
int sock_addr_parse(struct sock_addr *sa, const char *text, uint16_t default_port)
        __attribute__((warn_unused_result));
/* Resolves HOST:PORT (or [V6]:PORT) with getaddrinfo; first result wins. */
int sock_addr_resolve(struct sock_addr *sa, const char *text, uint16_t default_port, int socktype)
        __attribute__((warn_unused_result));
/* Writes "1.2.3.4:5" or "[2001:db8::1]:5" into buf; returns buf. */
const char *sock_addr_str(const struct sock_addr *sa, char *buf, size_t len);
/* Address only, no port, no brackets. */
const char *sock_addr_host(const struct sock_addr *sa, char *buf, size_t len);
uint16_t sock_addr_port(const struct sock_addr *sa);
void sock_addr_set_port(struct sock_addr *sa, uint16_t port);
int sock_addr_eq(const struct sock_addr *a, const struct sock_addr *b);

int sock_set_nonblock(int fd);
/* Each returns a non-blocking, close-on-exec descriptor, or -errno. */
int sock_listen_tcp(const struct sock_addr *sa, int backlog);
int sock_bind_udp(const struct sock_addr *sa);
/* Starts a non-blocking connect; EINPROGRESS is success (wait for EPOLLOUT, then
 * sock_connect_result). */
int sock_connect_tcp(const struct sock_addr *sa);
/* The same from a given source address (port 0 = any port): a relay that answers on one of
 * several addresses of a host leaves from that address too. from NULL = sock_connect_tcp. */
int sock_connect_tcp_from(const struct sock_addr *sa, const struct sock_addr *from);
/* 0 when the pending connect succeeded, else the errno it failed with. */
int sock_connect_result(int fd);
/* The bound local address of fd. */
int sock_local(int fd, struct sock_addr *sa);

#endif
