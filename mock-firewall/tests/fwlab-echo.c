/* fwlab-echo - listeners for the lab tests: `fwlab-echo tcp:PORT... udp:PORT...` binds each
 * port on every address of its namespace, prints "ready" once all are bound, then serves:
 * TCP connections are read until EOF (then closed, so a sender can time a bulk transfer);
 * UDP datagrams are echoed back. Runs until SIGTERM. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 256

static int bind_port(int type, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (type == SOCK_DGRAM)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Answers from the address the datagram was sent to (IP_PKTINFO): every cloud host shares
 * one socket here, and a reply from another address would not match the NAT's flow. */
static void echo_udp(int fd, char *buf, size_t len)
{
	struct sockaddr_in from;
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct iovec iov = {buf, len};
	struct msghdr m = {&from, sizeof(from), &iov, 1, cbuf, sizeof(cbuf), 0};
	ssize_t k = recvmsg(fd, &m, 0);
	struct in_pktinfo *pi = NULL;

	if (k < 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			pi = (struct in_pktinfo *)CMSG_DATA(c);
	iov.iov_len = (size_t)k;
	m.msg_namelen = sizeof(from);
	if (pi) {
		pi->ipi_ifindex = 0;
		pi->ipi_spec_dst = pi->ipi_addr;
		m.msg_controllen = sizeof(cbuf);
	} else {
		m.msg_control = NULL;
		m.msg_controllen = 0;
	}
	sendmsg(fd, &m, 0);
}

int main(int argc, char **argv)
{
	/* kind per fd: 1 TCP listener, 2 UDP, 3 TCP connection */
	static int fdkind[4096];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		int udp = strncmp(argv[i], "udp:", 4) == 0, fd;
		int port = atoi(argv[i] + 4);

		if ((!udp && strncmp(argv[i], "tcp:", 4) != 0) || port <= 0 || port > 65535) {
			fprintf(stderr, "usage: fwlab-echo tcp:PORT|udp:PORT ...\n");
			return 2;
		}
		fd = bind_port(udp ? SOCK_DGRAM : SOCK_STREAM, port);
		if (fd < 0 || fd >= 4096) {
			fprintf(stderr, "fwlab-echo: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		fdkind[fd] = udp ? 2 : 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd,
		          &(struct epoll_event){.events = EPOLLIN, .data.fd = fd});
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct epoll_event ev[32];
		int n = epoll_wait(ep, ev, 32, -1);

		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			char buf[65536];

			if (fdkind[fd] == 1) {
				int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (c >= 0 && c < 4096) {
					fdkind[c] = 3;
					epoll_ctl(ep, EPOLL_CTL_ADD, c,
					          &(struct epoll_event){.events = EPOLLIN,
					                                .data.fd = c});
				} else if (c >= 0) {
					close(c);
				}
			} else if (fdkind[fd] == 2) {
				echo_udp(fd, buf, sizeof(buf));
			} else if (fdkind[fd] == 3) {
				ssize_t k = read(fd, buf, sizeof(buf));

				if (k == 0 || (k < 0 && errno != EAGAIN)) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					fdkind[fd] = 0;
					close(fd);
				}
			}
		}
	}
}
