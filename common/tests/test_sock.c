#include "onsight/sock.h"
#include "testutil.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

START_TEST(test_sock_parses_v4_v6_and_default_port)
{
	struct sock_addr sa;
	char buf[SOCK_ADDR_STRLEN];

	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1:5060", 1), 0);
	ck_assert_str_eq(sock_addr_str(&sa, buf, sizeof(buf)), "127.0.0.1:5060");
	ck_assert_int_eq(sock_addr_parse(&sa, "[2001:db8::1]:443", 1), 0);
	ck_assert_str_eq(sock_addr_str(&sa, buf, sizeof(buf)), "[2001:db8::1]:443");
	ck_assert_int_eq(sock_addr_parse(&sa, "203.0.113.5", 3478), 0);
	ck_assert_uint_eq(sock_addr_port(&sa), 3478);
	ck_assert_int_eq(sock_addr_parse(&sa, "::1", 80), 0);
	ck_assert_str_eq(sock_addr_str(&sa, buf, sizeof(buf)), "[::1]:80");
	ck_assert_str_eq(sock_addr_host(&sa, buf, sizeof(buf)), "::1");
}
END_TEST

START_TEST(test_sock_rejects_malformed_addresses)
{
	struct sock_addr sa;
	const char *bad[] = {
	        "",       "1.2.3.4:",     "1.2.3.4:70000", "1.2.3.4:-1", "[::1",
	        "[::1]x", "host.name:80", "1.2.3.4:5x",    "[::1]:+80",  "300.1.1.1:80",
	        ":80"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sock_addr_parse(&sa, bad[i], 1) == EINVAL, "accepted '%s'", bad[i]);
	ck_assert_int_eq(sock_addr_parse(&sa, NULL, 1), EINVAL);
}
END_TEST

/* A listener on addr (port 0: any); *bound gets its address. */
static int listen_on(const char *addr, struct sock_addr *bound)
{
	struct sock_addr sa;
	int lfd;

	ck_assert_int_eq(sock_addr_parse(&sa, addr, 0), 0);
	lfd = sock_listen_tcp(&sa, 4);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(sock_local(lfd, bound), 0);
	ck_assert_uint_ne(sock_addr_port(bound), 0);
	return lfd;
}

/* The next connection on lfd (within 2 s); *peer gets its source. */
static int accept_one(int lfd, struct sock_addr *peer)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int afd;

	peer->len = sizeof(peer->ss);
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	afd = accept(lfd, (struct sockaddr *)&peer->ss, &peer->len);
	ck_assert_int_ge(afd, 0);
	return afd;
}

START_TEST(test_sock_tcp_connects_on_loopback)
{
	struct sock_addr bound, peer;
	struct pollfd p;
	int lfd = listen_on("127.0.0.1:0", &bound), cfd, afd;

	cfd = sock_connect_tcp(&bound);
	ck_assert_int_ge(cfd, 0);
	p.fd = cfd;
	p.events = POLLOUT;
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(sock_connect_result(cfd), 0);
	afd = accept_one(lfd, &peer);
	close(afd);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(test_sock_tcp_connect_leaves_from_the_given_source)
{
	struct sock_addr sa, bound, from, peer;
	struct sockaddr_in *in;
	int lfd = listen_on("0.0.0.0:0", &bound), cfd, afd;

	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1", sock_addr_port(&bound)), 0);
	/* Any 127/8 address is local on Linux: a second loopback address stands for a host
	 * with several addresses. */
	ck_assert_int_eq(sock_addr_parse(&from, "127.0.0.2:0", 0), 0);
	cfd = sock_connect_tcp_from(&sa, &from);
	ck_assert_int_ge(cfd, 0);
	afd = accept_one(lfd, &peer);
	in = (struct sockaddr_in *)&peer.ss;
	ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), 0x7f000002u);
	close(afd);
	close(cfd);
	/* A source of the other family is refused before any socket is made. */
	ck_assert_int_eq(sock_addr_parse(&from, "[::1]:0", 0), 0);
	ck_assert_int_eq(sock_connect_tcp_from(&sa, &from), -EINVAL);
	close(lfd);
}
END_TEST

START_TEST(test_sock_connect_to_closed_port_reports_refused)
{
	struct sock_addr sa, bound;
	struct pollfd p;
	int lfd, cfd;

	/* Take a free port, then close it so nothing listens there. */
	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1:0", 0), 0);
	lfd = sock_listen_tcp(&sa, 1);
	ck_assert_int_eq(sock_local(lfd, &bound), 0);
	close(lfd);
	cfd = sock_connect_tcp(&bound);
	if (cfd >= 0) {
		p.fd = cfd;
		p.events = POLLOUT;
		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		ck_assert_int_eq(sock_connect_result(cfd), ECONNREFUSED);
		close(cfd);
	} else {
		ck_assert_int_eq(cfd, -ECONNREFUSED);
	}
}
END_TEST

START_TEST(test_sock_udp_binds_v6_loopback)
{
	struct sock_addr sa, bound, eq;
	int fd;

	ck_assert_int_eq(sock_addr_parse(&sa, "[::1]:0", 0), 0);
	fd = sock_bind_udp(&sa);
	if (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT)
		return; /* no IPv6 on this machine's loopback */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sock_local(fd, &bound), 0);
	eq = bound;
	ck_assert(sock_addr_eq(&bound, &eq));
	sock_addr_set_port(&eq, (uint16_t)(sock_addr_port(&bound) + 1));
	ck_assert(!sock_addr_eq(&bound, &eq));
	close(fd);
}
END_TEST

START_TEST(test_sock_resolves_localhost)
{
	struct sock_addr sa;

	ck_assert_int_eq(sock_addr_resolve(&sa, "localhost:8080", 0, SOCK_STREAM), 0);
	ck_assert_uint_eq(sock_addr_port(&sa), 8080);
	ck_assert_int_ne(sock_addr_resolve(&sa, "no-such-host.invalid:1", 0, SOCK_STREAM), 0);
}
END_TEST

TU_SUITE("sock", test_sock_parses_v4_v6_and_default_port, test_sock_rejects_malformed_addresses,
         test_sock_tcp_connects_on_loopback, test_sock_tcp_connect_leaves_from_the_given_source,
         test_sock_connect_to_closed_port_reports_refused, test_sock_udp_binds_v6_loopback,
         test_sock_resolves_localhost)
