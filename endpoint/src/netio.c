/* netio.c - bounded blocking network helpers. */
#include "netio.h"

#include "onsight/evloop.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned netio_left(uint64_t deadline)
{
	uint64_t now = evloop_now_ms();

	return now >= deadline ? 0 : (unsigned)(deadline - now);
}

int netio_resolve(const char *host, unsigned port, int socktype, struct sock_addr *sa)
{
	struct addrinfo hints, *res = NULL;
	char ps[8];
	int rc;

	if (!host || !*host || !sa || port == 0 || port > 65535)
		return EINVAL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(ps, sizeof(ps), "%u", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc != 0 || !res) {
		/* AI_ADDRCONFIG hides everything on a host whose only address is loopback. */
		hints.ai_flags = 0;
		rc = getaddrinfo(host, ps, &hints, &res);
	}
	if (rc != 0 || !res)
		return EHOSTUNREACH;
	memcpy(&sa->ss, res->ai_addr, res->ai_addrlen);
	sa->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int wait_fd(int fd, short ev, unsigned ms)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int rc;

	do
		rc = poll(&p, 1, (int)ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno;
	return rc == 0 ? ETIMEDOUT : 0;
}

int netio_connect(const struct sock_addr *sa, unsigned timeout_ms)
{
	int fd = sock_connect_tcp(sa), err;

	if (fd < 0)
		return fd;
	err = wait_fd(fd, POLLOUT, timeout_ms);
	if (!err)
		err = sock_connect_result(fd);
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

int netio_connect_via_proxy(const char *proxy_host, unsigned proxy_port, const char *host,
                            unsigned port, unsigned timeout_ms, int *status)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;
	struct sock_addr sa;
	char req[600], resp[2048];
	size_t have = 0;
	int fd, n, err;

	*status = 0;
	err = netio_resolve(proxy_host, proxy_port, SOCK_STREAM, &sa);
	if (err)
		return -err;
	fd = netio_connect(&sa, timeout_ms);
	if (fd < 0)
		return fd;
	n = snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", host, port,
	             host, port);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		err = E2BIG;
		goto fail;
	}
	err = netio_write_all(fd, NULL, req, (size_t)n, netio_left(deadline));
	if (err)
		goto fail;
	/* Read the response head byte-wise-bounded: nothing after it may be consumed. */
	while (have < sizeof(resp) - 1) {
		long r = netio_read(fd, NULL, resp + have, 1, netio_left(deadline));

		if (r <= 0) {
			err = r == 0 ? ECONNRESET : (int)-r;
			goto fail;
		}
		have++;
		resp[have] = '\0';
		if (have >= 4 && memcmp(resp + have - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (sscanf(resp, "HTTP/1.%*d %d", status) != 1) {
		err = EPROTO;
		goto fail;
	}
	if (*status != 200) {
		err = ECONNREFUSED;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -err;
}

int netio_tls(SSL_CTX *ctx, int fd, const char *host, unsigned timeout_ms, SSL **sslp, char *reason,
              size_t rlen)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;
	SSL *ssl = tls_client_ssl(ctx, fd, host);
	int err = 0;

	if (!ssl) {
		str_copy(reason, "cannot create TLS session", rlen);
		return ENOMEM;
	}
	for (int i = 0; i < 1000; i++) {
		int rc = SSL_connect(ssl), e;

		if (rc == 1) {
			*sslp = ssl;
			return 0;
		}
		e = SSL_get_error(ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			err = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			              netio_left(deadline));
			if (err) {
				str_copy(reason, "TLS handshake timed out", rlen);
				break;
			}
			continue;
		}
		tls_errstr(ssl, reason, rlen);
		err = SSL_get_verify_result(ssl) != X509_V_OK ? EACCES : EPROTO;
		break;
	}
	if (!err)
		err = ETIMEDOUT;
	SSL_free(ssl);
	return err;
}

int netio_write_all(int fd, SSL *ssl, const void *buf, size_t len, unsigned timeout_ms)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;
	const char *p = buf;
	int err;

	while (len > 0) {
		ssize_t n;

		if (ssl) {
			int rc = SSL_write(ssl, p, (int)(len > 16384 ? 16384 : len));

			if (rc <= 0) {
				int e = SSL_get_error(ssl, rc);

				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
					return EPIPE;
				err = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
				              netio_left(deadline));
				if (err)
					return err;
				continue;
			}
			n = rc;
		} else {
			n = send(fd, p, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno != EAGAIN && errno != EINTR)
					return errno;
				err = wait_fd(fd, POLLOUT, netio_left(deadline));
				if (err)
					return err;
				continue;
			}
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

long netio_read(int fd, SSL *ssl, void *buf, size_t cap, unsigned timeout_ms)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;

	for (int i = 0; i < 1000; i++) {
		int err;

		if (ssl) {
			int rc = SSL_read(ssl, buf, (int)(cap > 16384 ? 16384 : cap));
			int e;

			if (rc > 0)
				return rc;
			e = SSL_get_error(ssl, rc);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				return -ECONNRESET;
			err = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			              netio_left(deadline));
		} else {
			ssize_t n = recv(fd, buf, cap, 0);

			if (n >= 0)
				return n;
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
			err = wait_fd(fd, POLLIN, netio_left(deadline));
		}
		if (err)
			return -err;
	}
	return -ETIMEDOUT;
}
