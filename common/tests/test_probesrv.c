#include "onsight/probesrv.h"
#include "onsight/stun.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include "testutil.h"
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char options_req[] = "OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n"
                                  "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKp1\r\n"
                                  "From: <sip:t@x>;tag=1\r\nTo: <sip:probe@x>\r\n"
                                  "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                                  "Content-Length: 0\r\n\r\n";

struct fixture {
	struct evloop *loop;
	struct journal *j;
	struct probesrv *p;
	char *dir, *events;
	SSL_CTX *sctx;
};

static void setup(struct fixture *f)
{
	char *cert = NULL, *key = NULL;

	memset(f, 0, sizeof(*f));
	f->dir = tu_mkdtemp();
	ck_assert_int_ge(asprintf(&f->events, "%s/events.jsonl", f->dir), 0);
	ck_assert_int_eq(evloop_alloc(&f->loop), 0);
	ck_assert_int_eq(journal_open(&f->j, f->events, "test"), 0);
	ck_assert_int_ge(asprintf(&cert, "%s/localhost.pem", tu_certs_dir()), 0);
	ck_assert_int_ge(asprintf(&key, "%s/localhost.key", tu_certs_dir()), 0);
	ck_assert_int_eq(tls_server_ctx(&f->sctx, cert, key, NULL), 0);
	ck_assert_int_eq(probesrv_alloc(&f->p, f->loop, f->j, f->sctx), 0);
	free(cert);
	free(key);
}

static void teardown(struct fixture *f)
{
	probesrv_free(f->p);
	journal_close(f->j);
	SSL_CTX_free(f->sctx);
	evloop_free(f->loop);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->events);
}

static int connect_to(const struct sock_addr *sa, int type)
{
	int fd = socket(sa->ss.ss_family, type | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert(connect(fd, (const struct sockaddr *)&sa->ss, sa->len) == 0 ||
	          errno == EINPROGRESS);
	return fd;
}

/* Runs the loop until fd has data (bounded), then reads it. */
static ssize_t pump_read(struct fixture *f, int fd, char *buf, size_t cap)
{
	for (int i = 0; i < 300; i++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		evloop_run_once(f->loop, 10);
		if (poll(&pfd, 1, 0) == 1)
			return recv(fd, buf, cap, 0);
	}
	return -1;
}

START_TEST(test_probesrv_answers_options_over_tcp_and_journals)
{
	struct fixture f;
	struct sock_addr sa, b;
	char buf[2048], *ev = NULL;
	size_t n;
	ssize_t r;
	int fd;

	setup(&f);
	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1:0", 0), 0);
	ck_assert_int_eq(probesrv_listen(f.p, PROBESRV_TCP, &sa, &b), 0);
	fd = connect_to(&b, SOCK_STREAM);
	evloop_run_once(f.loop, 10);
	ck_assert_int_eq(send(fd, options_req, strlen(options_req), 0),
	                 (ssize_t)strlen(options_req));
	r = pump_read(&f, fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(r, 0);
	buf[r] = '\0';
	ck_assert(strncmp(buf, "SIP/2.0 200 OK\r\n", 16) == 0);
	ck_assert(strstr(buf, "To: <sip:probe@x>;tag=probe\r\n") != NULL);
	ck_assert(strstr(buf, "CSeq: 1 OPTIONS\r\n") != NULL);
	ck_assert(strstr(buf, "Allow: ") != NULL);
	ck_assert_int_eq(file_read(f.events, 65536, &ev, &n), 0);
	ck_assert(strstr(ev, "\"event\":\"detect.probe\"") != NULL);
	ck_assert(strstr(ev, "\"proto\":\"tcp\"") != NULL);
	free(ev);
	close(fd);
	teardown(&f);
}
END_TEST

START_TEST(test_probesrv_answers_stun_binding_over_udp)
{
	struct fixture f;
	struct sock_addr sa, b, local;
	struct stun_builder sb;
	struct stun_msg m;
	uint8_t req[64], buf[512];
	const uint8_t tid[12] = {9, 9, 9};
	size_t n;
	ssize_t r;
	int fd;

	setup(&f);
	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1:0", 0), 0);
	ck_assert_int_eq(probesrv_listen(f.p, PROBESRV_UDP, &sa, &b), 0);
	fd = connect_to(&b, SOCK_DGRAM);
	ck_assert_int_eq(sock_local(fd, &local), 0);
	stun_build_begin(&sb, req, sizeof(req), STUN_BINDING_REQUEST, tid);
	ck_assert_int_eq(stun_build_finish(&sb, NULL, 0, 1, &n), 0);
	ck_assert_int_eq(send(fd, req, n, 0), (ssize_t)n);
	r = pump_read(&f, fd, (char *)buf, sizeof(buf));
	ck_assert_int_gt(r, 0);
	ck_assert_int_eq(stun_decode(&m, buf, (size_t)r), 0);
	ck_assert_uint_eq(m.type, STUN_BINDING_SUCCESS);
	ck_assert(sock_addr_eq(&m.mapped, &local));
	close(fd);
	teardown(&f);
}
END_TEST

START_TEST(test_probesrv_answers_options_over_tls)
{
	struct fixture f;
	struct sock_addr sa, b;
	SSL_CTX *cctx = NULL;
	SSL *ssl;
	char buf[2048], *ca = NULL;
	int fd, done = 0, sent = 0, r = 0;

	setup(&f);
	ck_assert_int_ge(asprintf(&ca, "%s/ca.pem", tu_certs_dir()), 0);
	ck_assert_int_eq(tls_client_ctx(&cctx, ca, NULL), 0);
	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1:0", 0), 0);
	ck_assert_int_eq(probesrv_listen(f.p, PROBESRV_TLS, &sa, &b), 0);
	fd = connect_to(&b, SOCK_STREAM);
	ssl = tls_client_ssl(cctx, fd, "localhost");
	ck_assert_ptr_nonnull(ssl);
	for (int i = 0; i < 500 && !done; i++) {
		evloop_run_once(f.loop, 5);
		if (!sent && SSL_connect(ssl) == 1)
			sent = SSL_write(ssl, options_req, (int)strlen(options_req)) > 0;
		if (sent && (r = SSL_read(ssl, buf, sizeof(buf) - 1)) > 0)
			done = 1;
	}
	ck_assert(done);
	buf[r] = '\0';
	ck_assert(strncmp(buf, "SIP/2.0 200 OK\r\n", 16) == 0);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	free(ca);
	close(fd);
	teardown(&f);
}
END_TEST

START_TEST(test_probesrv_refuses_request_without_via)
{
	char out[1024];
	const char *req = "OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

	ck_assert_int_eq(probesrv_answer(req, strlen(req), out, sizeof(out)), -EBADMSG);
	ck_assert_int_eq(probesrv_answer("SIP/2.0 200 OK\r\n\r\n", 18, out, sizeof(out)), 0);
}
END_TEST

TU_SUITE("probesrv", test_probesrv_answers_options_over_tcp_and_journals,
         test_probesrv_answers_stun_binding_over_udp, test_probesrv_answers_options_over_tls,
         test_probesrv_refuses_request_without_via)
