/* probe.c - SIP OPTIONS and STUN Binding probes. */
#include "probe.h"

#include "netio.h"
#include "sipmsg.h"

#include "onsight/evloop.h"
#include "onsight/sipframe.h"
#include "onsight/stun.h"
#include "onsight/util.h"

#include <errno.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int probe_build_options(char *buf, size_t cap, const char *host, unsigned port,
                        const char *transport, const char *local_host, unsigned local_port)
{
	char branch[17], tag[17], cid[25];
	const char *tp = strcmp(transport, "tls") == 0 ? "TLS"
	        : strcmp(transport, "udp") == 0        ? "UDP"
	                                               : "TCP";
	int v6 = strchr(local_host, ':') != NULL, n;

	sip_random_token(branch, 16);
	sip_random_token(tag, 16);
	sip_random_token(cid, 24);
	n = snprintf(buf, cap,
	             "OPTIONS sip:%s:%u SIP/2.0\r\n"
	             "Via: SIP/2.0/%s %s%s%s:%u;branch=z9hG4bK%s;rport\r\n"
	             "Max-Forwards: 70\r\n"
	             "From: <sip:probe@onsight-ref.invalid>;tag=%s\r\n"
	             "To: <sip:%s:%u>\r\n"
	             "Call-ID: %s@onsight-ref\r\n"
	             "CSeq: 1 OPTIONS\r\n"
	             "Accept: application/sdp\r\n"
	             "User-Agent: onsight-ref/" ONSIGHT_VERSION "\r\n"
	             "Content-Length: 0\r\n\r\n",
	             host, port, tp, v6 ? "[" : "", local_host, v6 ? "]" : "", local_port, branch,
	             tag, host, port, cid);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

static int build_options(char *buf, size_t cap, const char *host, unsigned port,
                         const char *transport, const struct sock_addr *local)
{
	char lh[SOCK_ADDR_STRLEN];

	sock_addr_host(local, lh, sizeof(lh));
	return probe_build_options(buf, cap, host, port, transport, lh, sock_addr_port(local));
}

static int read_response(int fd, SSL *ssl, int stream, uint64_t deadline, int *status, char *reason,
                         size_t rlen)
{
	char buf[8192];
	size_t have = 0;
	struct sipmsg *m = NULL;
	int err = ETIMEDOUT;

	while (have < sizeof(buf)) {
		struct sipframe_info fi;
		long n = netio_read(fd, ssl, buf + have, sizeof(buf) - have, netio_left(deadline));
		int rc;

		if (n <= 0) {
			err = n == 0 ? ECONNRESET : (int)-n;
			snprintf(reason, rlen, "%s",
			         n == 0 ? "closed without an answer" : strerror((int)-n));
			return err;
		}
		have += (size_t)n;
		rc = sipframe_scan(buf, have, sizeof(buf), stream, &fi);
		if (rc == SIPFRAME_MORE && stream)
			continue;
		if (rc != SIPFRAME_MSG) {
			str_copy(reason, "not a SIP response", rlen);
			return EPROTO;
		}
		m = malloc(sizeof(*m));
		if (!m)
			return ENOMEM;
		err = sipmsg_parse(m, buf + fi.skip, fi.hdr_len + fi.body_len);
		if (err || m->is_request) {
			str_copy(reason, "not a SIP response", rlen);
			err = EPROTO;
		} else {
			*status = m->status;
		}
		free(m);
		return err;
	}
	str_copy(reason, "response too large", rlen);
	return EMSGSIZE;
}

int probe_sip_options(const char *host, unsigned port, const char *transport, SSL_CTX *ctx,
                      unsigned timeout_ms, int *status, char *reason, size_t rlen)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;
	int udp = strcmp(transport, "udp") == 0, tls = strcmp(transport, "tls") == 0;
	struct sock_addr sa, local;
	char req[1024];
	SSL *ssl = NULL;
	int fd = -1, err, n;

	*status = 0;
	reason[0] = '\0';
	err = netio_resolve(host, port, udp ? SOCK_DGRAM : SOCK_STREAM, &sa);
	if (err) {
		str_copy(reason, "name does not resolve", rlen);
		return err;
	}
	if (udp) {
		fd = socket(sa.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa.ss, sa.len) != 0) {
			err = errno;
			goto out;
		}
	} else {
		fd = netio_connect(&sa, timeout_ms);
		if (fd < 0) {
			err = -fd;
			snprintf(reason, rlen, "connect: %s", strerror(err));
			fd = -1;
			goto out;
		}
		if (tls) {
			char why[256];

			err = ctx ? netio_tls(ctx, fd, host, netio_left(deadline), &ssl, why,
			                      sizeof(why))
			          : EINVAL;
			if (err) {
				snprintf(reason, rlen, "TLS: %s", ctx ? why : "no context");
				goto out;
			}
		}
	}
	if (sock_local(fd, &local)) {
		err = EIO;
		goto out;
	}
	n = build_options(req, sizeof(req), host, port, transport, &local);
	if (n < 0) {
		err = E2BIG;
		goto out;
	}
	err = netio_write_all(fd, ssl, req, (size_t)n, netio_left(deadline));
	if (err) {
		snprintf(reason, rlen, "send: %s", strerror(err));
		goto out;
	}
	err = read_response(fd, ssl, !udp, deadline, status, reason, rlen);
out:
	if (err && !reason[0])
		str_copy(reason, strerror(err), rlen);
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	return err;
}

int probe_stun(const char *host, unsigned port, unsigned timeout_ms, char *mapped, size_t mlen,
               char *reason, size_t rlen)
{
	uint64_t deadline = evloop_now_ms() + timeout_ms;
	struct stun_builder b;
	struct stun_msg m;
	struct sock_addr sa;
	uint8_t req[64], tid[12], resp[STUN_MAX_MSG];
	size_t len = 0;
	int fd = -1, err, tries;

	reason[0] = mapped[0] = '\0';
	err = netio_resolve(host, port, SOCK_DGRAM, &sa);
	if (err) {
		str_copy(reason, "name does not resolve", rlen);
		return err;
	}
	if (RAND_bytes(tid, sizeof(tid)) != 1)
		return EIO;
	stun_build_begin(&b, req, sizeof(req), STUN_BINDING_REQUEST, tid);
	err = stun_build_finish(&b, NULL, 0, 1, &len);
	if (err)
		return err;
	fd = socket(sa.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa.ss, sa.len) != 0) {
		err = errno;
		goto out;
	}
	/* RFC 5389 §7.2.1 retransmits; within our short budget: three sends, spread out. */
	err = ETIMEDOUT;
	for (tries = 0; tries < 3 && netio_left(deadline) > 0; tries++) {
		uint64_t step = evloop_now_ms() + netio_left(deadline) / (unsigned)(3 - tries);

		if (send(fd, req, len, 0) < 0) {
			err = errno;
			continue;
		}
		while (netio_left(step) > 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			ssize_t n;

			if (poll(&p, 1, (int)netio_left(step)) <= 0)
				break;
			n = recv(fd, resp, sizeof(resp), 0);
			if (n < 0) {
				err = errno; /* ICMP unreachable shows here */
				break;
			}
			if (stun_decode(&m, resp, (size_t)n) != 0 || memcmp(m.tid, tid, 12) != 0)
				continue;
			if (m.type != STUN_BINDING_SUCCESS) {
				err = EPROTO;
				snprintf(reason, rlen, "STUN error %d", m.error_code);
				goto out;
			}
			if (m.has_mapped)
				sock_addr_str(&m.mapped, mapped, mlen);
			err = 0;
			goto out;
		}
	}
out:
	if (err && !reason[0])
		str_copy(reason, err == ETIMEDOUT ? "no answer" : strerror(err), rlen);
	if (fd >= 0)
		close(fd);
	return err;
}
