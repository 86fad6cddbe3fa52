/* sippeer - a small SIP server and media echo for the tunnel tests (tests/mock/).
 *
 * TCP SIP: OPTIONS -> 200 (the probesrv answer), REGISTER -> 401 digest challenge, then 200
 * when the Authorization verifies for --user/--password (403 otherwise). UDP: echoes every
 * datagram (a media relay stand-in). Prints {"sip":ADDR,"udp":ADDR} on stdout when ready;
 * one line per SIP request on stdout afterwards ({"method":..,"source":..}).
 */
#include "onsight/digest.h"
#include "onsight/evloop.h"
#include "onsight/probesrv.h"
#include "onsight/sipframe.h"
#include "onsight/sock.h"
#include "onsight/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
	struct evloop *loop;
	const char *user, *password;
	int lfd, ufd, efd;
	struct conn *conns;
};

struct conn {
	struct conn *next;
	struct peer *p;
	int fd;
	struct sipframe *sf;
	char src[SOCK_ADDR_STRLEN];
	char pend[16384]; /* echo: bytes not yet written back */
	size_t poff, plen;
};

static void reply(struct conn *c, const char *msg, size_t len, int status, const char *reason,
                  const char *extra)
{
	char via[512] = "", from[512] = "", to[512] = "", cid[256] = "", cseq[64] = "", out[4096];
	int n;

	sipframe_header(msg, len, "Via", via, sizeof(via));
	sipframe_header(msg, len, "From", from, sizeof(from));
	sipframe_header(msg, len, "To", to, sizeof(to));
	sipframe_header(msg, len, "Call-ID", cid, sizeof(cid));
	sipframe_header(msg, len, "CSeq", cseq, sizeof(cseq));
	n = snprintf(out, sizeof(out),
	             "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s\r\nCall-ID: %s\r\n"
	             "CSeq: %s\r\n%sContent-Length: 0\r\n\r\n",
	             status, reason, via, from, to, strstr(to, "tag=") ? "" : ";tag=sp1", cid, cseq,
	             extra ? extra : "");
	if (n > 0 && (size_t)n < sizeof(out) && write(c->fd, out, (size_t)n) < 0)
		return;
}

static void do_register(struct conn *c, const char *msg, size_t len)
{
	static const char nonce[] = "5f1c0c9a2d6b4e8f";
	char auth[1024], contact[512] = "", extra[800], ha1[33], resp[33];
	struct digest_params d;

	if (!sipframe_header(msg, len, "Authorization", auth, sizeof(auth))) {
		snprintf(extra, sizeof(extra),
		         "WWW-Authenticate: Digest realm=\"librestream.com\", nonce=\"%s\", "
		         "qop=\"auth\", algorithm=MD5\r\n",
		         nonce);
		reply(c, msg, len, 401, "Unauthorized", extra);
		return;
	}
	if (digest_parse(auth, &d) || strcmp(d.username, c->p->user) || strcmp(d.nonce, nonce)) {
		reply(c, msg, len, 403, "Forbidden", NULL);
		return;
	}
	digest_ha1(d.username, d.realm, c->p->password, ha1);
	digest_response(ha1, d.nonce, d.nc, d.cnonce, d.qop, "REGISTER", d.uri, resp);
	if (strcmp(resp, d.response)) {
		reply(c, msg, len, 403, "Forbidden", NULL);
		return;
	}
	sipframe_header(msg, len, "Contact", contact, sizeof(contact));
	snprintf(extra, sizeof(extra), "Contact: %s;expires=300\r\n", contact);
	reply(c, msg, len, 200, "OK", extra);
}

static void conn_free(struct conn *c)
{
	for (struct conn **pp = &c->p->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	evloop_fd_del(c->p->loop, c->fd);
	close(c->fd);
	sipframe_free(c->sf);
	free(c);
}

static void on_conn(int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	char buf[8192], out[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	const char *msg;
	size_t len;
	int rc;

	(void)events;
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0 || sipframe_feed(c->sf, buf, (size_t)n)) {
		conn_free(c);
		return;
	}
	while ((rc = sipframe_next(c->sf, &msg, &len)) == SIPFRAME_MSG || rc == SIPFRAME_PING) {
		char method[16];
		if (rc == SIPFRAME_PING) {
			if (write(fd, "\r\n", 2) < 0)
				break;
			continue;
		}
		const char *sp = memchr(msg, ' ', len); /* msg is not NUL-terminated */
		snprintf(method, sizeof(method), "%.*s", (int)(sp ? (size_t)(sp - msg) : len), msg);
		printf("{\"method\":\"%s\",\"source\":\"%s\"}\n", method, c->src);
		fflush(stdout);
		if (!strcmp(method, "REGISTER")) {
			do_register(c, msg, len);
			continue;
		}
		rc = probesrv_answer(msg, len, out, sizeof(out));
		if (rc > 0 && write(fd, out, (size_t)rc) < 0)
			break;
	}
	if (rc < 0)
		conn_free(c);
}

static void on_accept(int lfd, uint32_t events, void *arg)
{
	struct peer *p = arg;
	struct sock_addr sa = {.len = sizeof(sa.ss)};
	int fd = accept4(lfd, (struct sockaddr *)&sa.ss, &sa.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

	(void)events;
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || sipframe_alloc(&c->sf, SIPFRAME_MAX_MSG) ||
	    evloop_fd_add(p->loop, fd, EPOLLIN, on_conn, c)) {
		if (c)
			sipframe_free(c->sf);
		free(c);
		close(fd);
		return;
	}
	c->p = p;
	c->fd = fd;
	c->next = p->conns;
	p->conns = c;
	sock_addr_str(&sa, c->src, sizeof(c->src));
}

/* TCP echo (for flow-control tests through SIP channels): what cannot be written now waits,
 * and reading stops until it is written, so backpressure reaches the sender. */
static void on_echo(int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)events;
	while (c->plen) {
		ssize_t w = send(fd, c->pend + c->poff, c->plen, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			conn_free(c);
			return;
		}
		c->poff += (size_t)w;
		c->plen -= (size_t)w;
	}
	evloop_fd_mod(c->p->loop, fd, EPOLLIN);
	n = recv(fd, c->pend, sizeof(c->pend), 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->poff = 0;
	c->plen = (size_t)n;
	evloop_fd_mod(c->p->loop, fd, EPOLLOUT);
}

static void on_echo_accept(int lfd, uint32_t events, void *arg)
{
	struct peer *p = arg;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

	(void)events;
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || evloop_fd_add(p->loop, fd, EPOLLIN, on_echo, c)) {
		free(c);
		close(fd);
		return;
	}
	c->p = p;
	c->fd = fd;
	c->next = p->conns;
	p->conns = c;
}

static void on_udp(int fd, uint32_t events, void *arg)
{
	uint8_t buf[65536];

	(void)events;
	(void)arg;
	for (int i = 0; i < 64; i++) {
		struct sock_addr sa = {.len = sizeof(sa.ss)};
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa.ss, &sa.len);
		if (n < 0)
			return;
		(void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&sa.ss, sa.len);
	}
}

static void on_term(int signo, void *arg)
{
	(void)signo;
	evloop_stop(arg);
}

int main(int argc, char **argv)
{
	struct peer p = {
	        .user = "alice", .password = "alice-pass", .lfd = -1, .ufd = -1, .efd = -1};
	struct sock_addr sa, sb, se;
	char a1[SOCK_ADDR_STRLEN], a2[SOCK_ADDR_STRLEN], a3[SOCK_ADDR_STRLEN];
	const char *listen = "127.0.0.1:0", *udp = "127.0.0.1:0";

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--listen"))
			listen = argv[i + 1];
		else if (!strcmp(argv[i], "--udp"))
			udp = argv[i + 1];
		else if (!strcmp(argv[i], "--user"))
			p.user = argv[i + 1];
		else if (!strcmp(argv[i], "--password"))
			p.password = argv[i + 1];
	}
	util_ignore_sigpipe();
	if (evloop_alloc(&p.loop) || sock_addr_parse(&sa, listen, 0) ||
	    (p.lfd = sock_listen_tcp(&sa, 16)) < 0 || sock_addr_parse(&sb, udp, 0) ||
	    (p.ufd = sock_bind_udp(&sb)) < 0 ||
	    evloop_fd_add(p.loop, p.lfd, EPOLLIN, on_accept, &p) ||
	    evloop_fd_add(p.loop, p.ufd, EPOLLIN, on_udp, &p) ||
	    evloop_signal_add(p.loop, SIGTERM, on_term, p.loop) || sock_local(p.lfd, &sa) ||
	    sock_local(p.ufd, &sb) || sock_addr_parse(&se, "127.0.0.1:0", 0) ||
	    (p.efd = sock_listen_tcp(&se, 16)) < 0 ||
	    evloop_fd_add(p.loop, p.efd, EPOLLIN, on_echo_accept, &p) || sock_local(p.efd, &se)) {
		fprintf(stderr, "sippeer: cannot start\n");
		return 1;
	}
	printf("{\"sip\":\"%s\",\"udp\":\"%s\",\"echo\":\"%s\"}\n",
	       sock_addr_str(&sa, a1, sizeof(a1)), sock_addr_str(&sb, a2, sizeof(a2)),
	       sock_addr_str(&se, a3, sizeof(a3)));
	fflush(stdout);
	evloop_run(p.loop);
	while (p.conns)
		conn_free(p.conns);
	close(p.lfd);
	close(p.ufd);
	close(p.efd);
	evloop_free(p.loop);
	return 0;
}
