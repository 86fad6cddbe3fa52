/* httpc against small peers in threads: a canned HTTP(S) server and a CONNECT proxy. */
#include "onsight/evloop.h"
#include "onsight/httpc.h"
#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"
#include "testutil.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
	int lfd;
	uint16_t port;
	SSL_CTX *tls; /* server context, or NULL for plain */
	const char *reply; /* NULL: never answer (until the client goes away) */
	size_t replylen;
	int proxy_refuse; /* proxy mode: answer 403 */
	uint16_t proxy_target;
	char request[4096];
	pthread_t th;
};

static int listen_lo(uint16_t *port)
{
	struct sock_addr sa;
	int fd;

	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1:0", 0), 0);
	fd = sock_listen_tcp(&sa, 8);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sock_local(fd, &sa), 0);
	*port = sock_addr_port(&sa);
	/* the peers below are blocking */
	ck_assert_int_eq(fcntl(fd, F_SETFL, 0), 0);
	return fd;
}

static size_t read_head_blocking(int fd, SSL *ssl, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		int r = ssl ? SSL_read(ssl, buf + n, 1) : (int)read(fd, buf + n, 1);
		if (r <= 0)
			break;
		n++;
		buf[n] = '\0';
		if (n >= 4 && !memcmp(buf + n - 4, "\r\n\r\n", 4))
			break;
	}
	return n;
}

static void *server_main(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->lfd, NULL, NULL);
	SSL *ssl = NULL;

	if (fd < 0)
		return NULL;
	if (p->tls) {
		ssl = SSL_new(p->tls);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			goto out;
	}
	read_head_blocking(fd, ssl, p->request, sizeof(p->request));
	if (p->reply) {
		if (ssl)
			SSL_write(ssl, p->reply, (int)p->replylen);
		else if (write(fd, p->reply, p->replylen) < 0)
			goto out;
	} else {
		char c;
		while (read(fd, &c, 1) > 0)
			;
	}
out:
	SSL_free(ssl);
	close(fd);
	return NULL;
}

static void *proxy_main(void *arg)
{
	struct peer *p = arg;
	int fd = accept(p->lfd, NULL, NULL), up = -1;
	char buf[4096];

	if (fd < 0)
		return NULL;
	read_head_blocking(fd, NULL, p->request, sizeof(p->request));
	if (p->proxy_refuse) {
		const char *r = "HTTP/1.0 403 Filtered\r\nContent-Length: 0\r\n\r\n";
		if (write(fd, r, strlen(r)) < 0)
			goto out;
		goto out;
	} else {
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_port = htons(p->proxy_target)};
		const char *r = "HTTP/1.0 200 Connection established\r\n\r\n";
		sin.sin_addr.s_addr = htonl(0x7f000001);
		up = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(up, (struct sockaddr *)&sin, sizeof(sin)) ||
		    write(fd, r, strlen(r)) < 0)
			goto out;
	}
	for (int i = 0; i < 10000; i++) {
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
		ssize_t n;
		if (poll(pf, 2, 10000) <= 0)
			break;
		for (int k = 0; k < 2; k++) {
			if (!(pf[k].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(pf[k].fd, buf, sizeof(buf));
			if (n <= 0 || write(pf[1 - k].fd, buf, (size_t)n) != n)
				goto out;
		}
	}
out:
	if (up >= 0)
		close(up);
	close(fd);
	return NULL;
}

static struct peer *peer_start(const char *reply, SSL_CTX *tls)
{
	struct peer *p = calloc(1, sizeof(*p));

	p->lfd = listen_lo(&p->port);
	p->reply = reply;
	p->replylen = reply ? strlen(reply) : 0;
	p->tls = tls;
	ck_assert_int_eq(pthread_create(&p->th, NULL, server_main, p), 0);
	return p;
}

static struct peer *proxy_start(uint16_t target, int refuse)
{
	struct peer *p = calloc(1, sizeof(*p));

	p->lfd = listen_lo(&p->port);
	p->proxy_target = target;
	p->proxy_refuse = refuse;
	ck_assert_int_eq(pthread_create(&p->th, NULL, proxy_main, p), 0);
	return p;
}

static void peer_join(struct peer *p)
{
	pthread_join(p->th, NULL);
	close(p->lfd);
	free(p);
}

static char *certpath(const char *name, const char *ext)
{
	char *s = NULL;
	ck_assert_int_ge(asprintf(&s, "%s/%s.%s", tu_certs_dir(), name, ext), 0);
	return s;
}

static SSL_CTX *server_ctx(const char *name)
{
	SSL_CTX *ctx = NULL;
	char *c = certpath(name, "pem"), *k = certpath(name, "key");
	ck_assert_int_eq(tls_server_ctx(&ctx, c, k, NULL), 0);
	free(c);
	free(k);
	return ctx;
}

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = NULL;
	char *ca = certpath("ca", "pem");
	ck_assert_int_eq(tls_client_ctx(&ctx, ca, NULL), 0);
	free(ca);
	return ctx;
}

static int get(const char *scheme, uint16_t port, SSL_CTX *tls, const char *proxy, unsigned timeout,
               size_t max_body, struct httpc_resp **r, char *err, size_t el)
{
	char url[128];
	const char *hdrs[] = {"Accept: application/json", NULL};
	struct httpc_opts o = {.url = url,
	                       .tls = tls,
	                       .proxy = proxy,
	                       .headers = hdrs,
	                       .timeout_ms = timeout,
	                       .max_body = max_body};

	snprintf(url, sizeof(url), "%s://localhost:%u/api/v1/config?x=1", scheme, port);
	return httpc_request(&o, r, err, el);
}

START_TEST(test_httpc_get_reads_content_length_body)
{
	struct peer *p =
	        peer_start("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b \r\n\r\nhello", NULL);
	struct httpc_resp *r = NULL;
	char err[256];

	ck_assert_int_eq(get("http", p->port, NULL, NULL, 5000, 0, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->reason, "OK");
	ck_assert_uint_eq(r->body_len, 5);
	ck_assert_str_eq(r->body, "hello");
	ck_assert_str_eq(httpc_resp_header(r, "x-a"), "b");
	peer_join(p);
	httpc_resp_free(r);
}
END_TEST

START_TEST(test_httpc_sends_request_line_host_and_headers)
{
	struct peer *p = peer_start("HTTP/1.1 204 No Content\r\n\r\n", NULL);
	struct httpc_resp *r = NULL;
	char err[256], host[64];

	ck_assert_int_eq(get("http", p->port, NULL, NULL, 5000, 0, &r, err, sizeof(err)), 0);
	pthread_join(p->th, NULL);
	snprintf(host, sizeof(host), "Host: localhost:%u\r\n", p->port);
	ck_assert_msg(!strncmp(p->request, "GET /api/v1/config?x=1 HTTP/1.1\r\n", 33), "%s",
	              p->request);
	ck_assert_ptr_nonnull(strstr(p->request, host));
	ck_assert_ptr_nonnull(strstr(p->request, "Accept: application/json\r\n"));
	ck_assert_int_eq(r->status, 204);
	close(p->lfd);
	free(p);
	httpc_resp_free(r);
}
END_TEST

START_TEST(test_httpc_decodes_chunked_body)
{
	struct peer *p = peer_start("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                            "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-T: 1\r\n\r\n",
	                            NULL);
	struct httpc_resp *r = NULL;
	char err[256];

	ck_assert_int_eq(get("http", p->port, NULL, NULL, 5000, 0, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r->body, "hello, world");
	peer_join(p);
	httpc_resp_free(r);
}
END_TEST

START_TEST(test_httpc_refuses_body_over_cap)
{
	struct peer *p = peer_start("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", NULL);
	struct httpc_resp *r = NULL;
	char err[256];

	ck_assert_int_eq(get("http", p->port, NULL, NULL, 5000, 10, &r, err, sizeof(err)), EFBIG);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(err, "cap"));
	peer_join(p);
}
END_TEST

START_TEST(test_httpc_https_verifies_ca_and_host_name)
{
	SSL_CTX *s = server_ctx("localhost"), *c = client_ctx();
	struct peer *p = peer_start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", s);
	struct httpc_resp *r = NULL;
	char err[256];

	ck_assert_int_eq(get("https", p->port, c, NULL, 5000, 0, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r->body, "ok");
	peer_join(p);
	httpc_resp_free(r);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}
END_TEST

START_TEST(test_httpc_https_rejects_untrusted_certificate)
{
	SSL_CTX *s = server_ctx("untrusted"), *c = client_ctx();
	struct peer *p = peer_start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", s);
	struct httpc_resp *r = NULL;
	char err[256];

	ck_assert_int_eq(get("https", p->port, c, NULL, 5000, 0, &r, err, sizeof(err)), EPROTO);
	ck_assert_msg(strstr(err, "TLS handshake") && strstr(err, "verify"), "%s", err);
	peer_join(p);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}
END_TEST

START_TEST(test_httpc_times_out_on_silent_server)
{
	struct peer *p = peer_start(NULL, NULL);
	struct httpc_resp *r = NULL;
	char err[256];

	ck_assert_int_eq(get("http", p->port, NULL, NULL, 200, 0, &r, err, sizeof(err)), ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(err, "reading the response"));
	peer_join(p);
}
END_TEST

START_TEST(test_httpc_connects_through_proxy_with_connect)
{
	SSL_CTX *s = server_ctx("localhost"), *c = client_ctx();
	struct peer *p = peer_start("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nvia", s);
	struct peer *x = proxy_start(p->port, 0);
	struct httpc_resp *r = NULL;
	char err[256], proxy[32], line[64];

	snprintf(proxy, sizeof(proxy), "127.0.0.1:%u", x->port);
	ck_assert_int_eq(get("https", p->port, c, proxy, 5000, 0, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r->body, "via");
	pthread_join(x->th, NULL);
	snprintf(line, sizeof(line), "CONNECT localhost:%u HTTP/1.1\r\n", p->port);
	ck_assert_msg(!strncmp(x->request, line, strlen(line)), "%s", x->request);
	close(x->lfd);
	free(x);
	peer_join(p);
	httpc_resp_free(r);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}
END_TEST

static void done_cb(struct httpc *c, int err, const struct httpc_resp *resp, void *arg)
{
	int *out = arg;
	(void)resp;
	out[0] = 1;
	out[1] = err;
	out[2] = httpc_proxy_status(c);
	out[3] = httpc_stage(c);
}

START_TEST(test_httpc_reports_proxy_refusal)
{
	struct peer *x = proxy_start(1, 1);
	struct evloop *l = NULL;
	struct httpc *c = NULL;
	char proxy[32];
	int res[4] = {0};
	struct httpc_opts o = {
	        .url = "http://blocked.example:80/", .proxy = proxy, .timeout_ms = 5000};

	snprintf(proxy, sizeof(proxy), "127.0.0.1:%u", x->port);
	ck_assert_int_eq(evloop_alloc(&l), 0);
	ck_assert_int_eq(httpc_start(&c, l, &o, done_cb, res), 0);
	for (int i = 0; i < 1000 && !res[0]; i++)
		evloop_run_once(l, 100);
	ck_assert_int_eq(res[0], 1);
	ck_assert_int_eq(res[1], EACCES);
	ck_assert_int_eq(res[2], 403);
	ck_assert_int_eq(res[3], HTTPC_ST_PROXY);
	ck_assert_msg(strstr(httpc_error(c), "refused CONNECT blocked.example:80: 403 Filtered"),
	              "%s", httpc_error(c));
	httpc_free(c);
	evloop_free(l);
	peer_join(x);
}
END_TEST

START_TEST(test_httpc_upgrade_hands_over_connection_and_extra_bytes)
{
	struct peer *p = peer_start("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                            "Connection: Upgrade\r\n\r\n\x82\x01X",
	                            NULL);
	struct evloop *l = NULL;
	struct httpc *c = NULL;
	char url[64];
	int res[4] = {0}, fd = -1;
	SSL *ssl = (SSL *)1;
	uint8_t *extra = NULL;
	size_t elen = 0;
	struct httpc_opts o = {.url = url, .timeout_ms = 5000};

	snprintf(url, sizeof(url), "http://localhost:%u/teamlink/v1/tunnel", p->port);
	ck_assert_int_eq(evloop_alloc(&l), 0);
	ck_assert_int_eq(httpc_start(&c, l, &o, done_cb, res), 0);
	for (int i = 0; i < 1000 && !res[0]; i++)
		evloop_run_once(l, 100);
	ck_assert_int_eq(res[1], 0);
	ck_assert_int_eq(httpc_take_conn(c, &fd, &ssl, &extra, &elen), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(ssl);
	ck_assert_uint_eq(elen, 3);
	ck_assert_int_eq(memcmp(extra, "\x82\x01X", 3), 0);
	free(extra);
	close(fd);
	httpc_free(c);
	evloop_free(l);
	peer_join(p);
}
END_TEST

START_TEST(test_httpc_parse_head_refuses_folding_and_bad_status)
{
	struct httpc_resp r;
	const char *fold = "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n";
	const char *bad = "HTTP/1.1 2x0 OK\r\n\r\n";
	const char *nocr = "HTTP/1.1 200 OK\nA: b\n\n";
	const char *ok = "HTTP/1.0 404\r\nA:b\r\n\r\n";

	ck_assert_int_eq(httpc_parse_head(fold, strlen(fold), &r), EINVAL);
	ck_assert_int_eq(httpc_parse_head(bad, strlen(bad), &r), EINVAL);
	ck_assert_int_eq(httpc_parse_head(nocr, strlen(nocr), &r), EINVAL);
	ck_assert_int_eq(httpc_parse_head(ok, strlen(ok), &r), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(httpc_resp_header(&r, "A"), "b");
	httpc_resp_clear(&r);
}
END_TEST

START_TEST(test_httpc_chunked_fed_byte_by_byte_and_capped)
{
	const char *in = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
	struct httpc_chunked st = {0};
	uint8_t out[32];
	size_t ol = 0, used;
	int rc = 0;

	for (size_t i = 0; i < strlen(in); i++) {
		rc = httpc_chunked_feed(&st, (const uint8_t *)in + i, 1, &used, out, sizeof(out),
		                        &ol);
		ck_assert_int_ge(rc, 0);
		ck_assert_int_le(rc, 1);
		ck_assert_uint_eq(used, 1);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(ol, 9);
	ck_assert_int_eq(memcmp(out, "Wikipedia", 9), 0);
	memset(&st, 0, sizeof(st));
	ol = 0;
	ck_assert_int_eq(
	        httpc_chunked_feed(&st, (const uint8_t *)in, strlen(in), &used, out, 5, &ol),
	        EFBIG);
	memset(&st, 0, sizeof(st));
	ol = 0;
	ck_assert_int_eq(httpc_chunked_feed(&st, (const uint8_t *)"zz\r\n", 4, &used, out, 5, &ol),
	                 EINVAL);
}
END_TEST

START_TEST(test_httpc_url_parse_forms)
{
	char host[64], path[64];
	uint16_t port;
	int tls;

	ck_assert_int_eq(httpc_url_parse("https://a.example/x/y?q", &tls, host, sizeof(host), &port,
	                                 path, sizeof(path)),
	                 0);
	ck_assert_int_eq(tls, 1);
	ck_assert_uint_eq(port, 443);
	ck_assert_str_eq(path, "/x/y?q");
	ck_assert_int_eq(httpc_url_parse("http://[::1]:8080", &tls, host, sizeof(host), &port, path,
	                                 sizeof(path)),
	                 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_uint_eq(port, 8080);
	ck_assert_str_eq(path, "/");
	ck_assert_int_eq(
	        httpc_url_parse("ftp://a/", &tls, host, sizeof(host), &port, path, sizeof(path)),
	        EINVAL);
	ck_assert_int_eq(httpc_url_parse("http://a:99999/", &tls, host, sizeof(host), &port, path,
	                                 sizeof(path)),
	                 EINVAL);
	ck_assert_int_eq(
	        httpc_url_parse("http://u@a/", &tls, host, sizeof(host), &port, path, sizeof(path)),
	        EINVAL);
}
END_TEST

TU_SUITE("httpc", test_httpc_get_reads_content_length_body,
         test_httpc_sends_request_line_host_and_headers, test_httpc_decodes_chunked_body,
         test_httpc_refuses_body_over_cap, test_httpc_https_verifies_ca_and_host_name,
         test_httpc_https_rejects_untrusted_certificate, test_httpc_times_out_on_silent_server,
         test_httpc_connects_through_proxy_with_connect, test_httpc_reports_proxy_refusal,
         test_httpc_upgrade_hands_over_connection_and_extra_bytes,
         test_httpc_parse_head_refuses_folding_and_bad_status,
         test_httpc_chunked_fed_byte_by_byte_and_capped, test_httpc_url_parse_forms)
