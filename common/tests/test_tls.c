#include "onsight/evloop.h"
#include "onsight/tls.h"
#include "onsight/util.h"
#include "testutil.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void no_event(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
}

/* Runs both ends of a handshake over a socketpair in one thread, the server side as the
 * servers do (tls_accept_step on an event loop). Returns 1 on success. */
static int handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *host, char *why, size_t whylen)
{
	int sv[2], ok = 0, cdone = 0, sdone = 0, waits = 0;
	struct evloop *loop = NULL;
	SSL *s, *c;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(evloop_alloc(&loop), 0);
	ck_assert_int_eq(evloop_fd_add(loop, sv[0], EPOLLIN, no_event, NULL), 0);
	s = SSL_new(sctx);
	SSL_set_fd(s, sv[0]);
	c = tls_client_ssl(cctx, sv[1], host);
	ck_assert_ptr_nonnull(c);
	for (int i = 0; i < 200 && !(cdone && sdone); i++) {
		int rc;
		if (!cdone) {
			rc = SSL_do_handshake(c);
			if (rc == 1)
				cdone = 1;
			else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) {
				tls_errstr(c, why, whylen);
				goto out;
			}
		}
		if (!sdone) {
			rc = tls_accept_step(s, loop, sv[0]);
			if (rc == 0)
				sdone = 1;
			else if (rc == 1)
				waits++;
			else {
				tls_errstr(s, why, whylen);
				goto out;
			}
		}
	}
	/* The server side had to wait for the client at least once. */
	ok = cdone && sdone && waits > 0;
out:
	evloop_free(loop);
	SSL_free(s);
	SSL_free(c);
	close(sv[0]);
	close(sv[1]);
	return ok;
}

static char *cert(const char *name, const char *ext)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/%s.%s", tu_certs_dir(), name, ext), 0);
	return p;
}

static SSL_CTX *server(const char *name, const char *keylog)
{
	SSL_CTX *ctx = NULL;
	char *c = cert(name, "pem"), *k = cert(name, "key");

	ck_assert_int_eq(tls_server_ctx(&ctx, c, k, keylog), 0);
	free(c);
	free(k);
	return ctx;
}

static SSL_CTX *client(const char *keylog)
{
	SSL_CTX *ctx = NULL;
	char *ca = cert("ca", "pem");

	ck_assert_int_eq(tls_client_ctx(&ctx, ca, keylog), 0);
	free(ca);
	return ctx;
}

START_TEST(test_tls_handshake_verifies_chain_and_name_and_writes_keylog)
{
	char *dir = tu_mkdtemp(), *keylog = NULL, *text = NULL, why[256] = "";
	SSL_CTX *s, *c;

	ck_assert_ptr_nonnull(tu_certs_dir());
	ck_assert_int_ge(asprintf(&keylog, "%s/keys.log", dir), 0);
	s = server("localhost", NULL);
	c = client(keylog);
	ck_assert_msg(handshake(s, c, "localhost", why, sizeof(why)), "handshake: %s", why);
	ck_assert_int_eq(file_read(keylog, 1 << 20, &text, NULL), 0);
	/* TLS 1.3 NSS key-log labels, one line per secret. */
	ck_assert_ptr_nonnull(strstr(text, "CLIENT_HANDSHAKE_TRAFFIC_SECRET "));
	ck_assert_ptr_nonnull(strstr(text, "CLIENT_TRAFFIC_SECRET_0 "));
	free(text);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	free(keylog);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_tls_client_refuses_wrong_name)
{
	char why[256] = "";
	SSL_CTX *s = server("localhost", NULL), *c = client(NULL);

	ck_assert(!handshake(s, c, "onsight.librestream.com", why, sizeof(why)));
	ck_assert_msg(strstr(why, "hostname mismatch") != NULL, "got: %s", why);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}
END_TEST

START_TEST(test_tls_client_refuses_untrusted_and_expired)
{
	char why[256] = "";
	SSL_CTX *c = client(NULL), *s;

	s = server("untrusted", NULL);
	ck_assert(!handshake(s, c, "localhost", why, sizeof(why)));
	ck_assert_msg(strstr(why, "unable to get local issuer") != NULL, "got: %s", why);
	SSL_CTX_free(s);
	s = server("expired", NULL);
	ck_assert(!handshake(s, c, "localhost", why, sizeof(why)));
	ck_assert_msg(strstr(why, "expired") != NULL, "got: %s", why);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}
END_TEST

START_TEST(test_tls_server_refuses_tls11_client)
{
	char why[256] = "";
	SSL_CTX *s = server("localhost", NULL), *c = client(NULL);

	SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(c, TLS1_1_VERSION);
	SSL_CTX_set_security_level(c, 0);
	ck_assert(!handshake(s, c, "localhost", why, sizeof(why)));
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}
END_TEST

START_TEST(test_tls_reports_missing_files)
{
	SSL_CTX *ctx = NULL;

	ck_assert_int_eq(tls_server_ctx(&ctx, "/nonexistent.pem", "/nonexistent.key", NULL),
	                 EINVAL);
	ck_assert_ptr_null(ctx);
	ck_assert_int_eq(tls_client_ctx(&ctx, "/nonexistent-ca.pem", NULL), EINVAL);
	ck_assert_int_eq(tls_server_ctx(NULL, "a", "b", NULL), EINVAL);
}
END_TEST

TU_SUITE("tls", test_tls_handshake_verifies_chain_and_name_and_writes_keylog,
         test_tls_client_refuses_wrong_name, test_tls_client_refuses_untrusted_and_expired,
         test_tls_server_refuses_tls11_client, test_tls_reports_missing_files)
