#define LOG_TAG "tls"
#include "onsight/tls.h"
#include "onsight/evloop.h"
#include "onsight/log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The key-log path lives in the context's ex_data so the callback (which gets only the SSL)
 * can find it. */
static int keylog_idx = -1;

static void keylog_path_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                             void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	const char *path = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_idx);
	size_t n = strlen(line);
	char *buf;
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("key log %s", path);
		return;
	}
	/* One write per line keeps lines whole when processes share the file. */
	buf = malloc(n + 1);
	if (buf) {
		memcpy(buf, line, n);
		buf[n] = '\n';
		if (write(fd, buf, n + 1) != (ssize_t)(n + 1))
			log_warn("key log %s: short write", path);
		free(buf);
	}
	close(fd);
}

int tls_keylog_attach(SSL_CTX *ctx, const char *path)
{
	char *copy;

	if (!ctx)
		return EINVAL;
	if (!path)
		path = getenv("SSLKEYLOGFILE");
	if (!path || !*path)
		return 0;
	if (keylog_idx < 0)
		keylog_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, keylog_path_free);
	if (keylog_idx < 0)
		return ENOMEM;
	copy = strdup(path);
	if (!copy)
		return ENOMEM;
	free(SSL_CTX_get_ex_data(ctx, keylog_idx));
	SSL_CTX_set_ex_data(ctx, keylog_idx, copy);
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

const char *tls_errstr(const SSL *ssl, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK)
		snprintf(buf, len, "certificate verify failed: %s",
		         X509_verify_cert_error_string(vr));
	else if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown TLS error");
	ERR_clear_error();
	return buf;
}

static SSL_CTX *ctx_new(const SSL_METHOD *m)
{
	SSL_CTX *ctx = SSL_CTX_new(m);

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	return ctx;
}

/* Attaches the key log and hands ctx to *ctxp; frees it instead when err is set or that
 * fails. Returns the error. */
static int ctx_done(SSL_CTX *ctx, int err, const char *keylog, SSL_CTX **ctxp)
{
	if (!err)
		err = tls_keylog_attach(ctx, keylog);
	if (err) {
		SSL_CTX_free(ctx);
		return err;
	}
	*ctxp = ctx;
	return 0;
}

int tls_server_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file, const char *keylog)
{
	char msg[256];
	SSL_CTX *ctx;

	if (!ctxp || !cert_file || !key_file)
		return EINVAL;
	ctx = ctx_new(TLS_server_method());
	if (!ctx)
		return ENOMEM;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		log_errx("certificate %s: %s", cert_file, tls_errstr(NULL, msg, sizeof(msg)));
		return ctx_done(ctx, EINVAL, keylog, ctxp);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_errx("key %s: %s", key_file, tls_errstr(NULL, msg, sizeof(msg)));
		return ctx_done(ctx, EINVAL, keylog, ctxp);
	}
	return ctx_done(ctx, 0, keylog, ctxp);
}

int tls_client_ctx(SSL_CTX **ctxp, const char *ca_file, const char *keylog)
{
	char msg[256];
	SSL_CTX *ctx;

	if (!ctxp)
		return EINVAL;
	ctx = ctx_new(TLS_client_method());
	if (!ctx)
		return ENOMEM;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
	            : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		log_errx("CA %s: %s", ca_file ? ca_file : "(system)",
		         tls_errstr(NULL, msg, sizeof(msg)));
		return ctx_done(ctx, EINVAL, keylog, ctxp);
	}
	return ctx_done(ctx, 0, keylog, ctxp);
}

SSL *tls_client_ssl(SSL_CTX *ctx, int fd, const char *host)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1 || (host && SSL_set_tlsext_host_name(ssl, host) != 1) ||
	    (host && SSL_set1_host(ssl, host) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

ssize_t tls_sock_io(int fd, SSL *ssl, void *buf, size_t n, int wr)
{
	ssize_t r;

	if (!ssl) {
		r = wr ? send(fd, buf, n, MSG_NOSIGNAL) : recv(fd, buf, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return r <= 0 ? -1 : r;
	}
	r = wr ? SSL_write(ssl, buf, (int)n) : SSL_read(ssl, buf, (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(ssl, (int)r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		return -1;
	}
}

int tls_accept_step(SSL *ssl, struct evloop *loop, int fd)
{
	int r = SSL_accept(ssl), e;

	if (r == 1)
		return 0;
	e = SSL_get_error(ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return -1;
	return evloop_fd_mod(loop, fd, e == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN) ? -1 : 1;
}
