/* libFuzzer harness: a whole server-side session over a socketpair: the upgrade (with a valid
 * token), then the input as client frames. Input byte 0 chooses how the rest is sent: even,
 * raw bytes after the upgrade (the fuzzer must build frames itself); odd, records of
 * len(1) + payload, each sent as one masked binary frame (so tunnel messages, channels, flow
 * control and close paths are reached). Every destination resolves to 127.0.0.1 port 1, where
 * nothing listens: no packet leaves the machine and no other program receives fuzz bytes. */
#include "server.h"

#include "onsight/evloop.h"
#include "onsight/journal.h"
#include "onsight/jwt.h"
#include "onsight/log.h"
#include "onsight/tls.h"
#include "onsight/util.h"
#include "onsight/ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[] = "fuzz-key";
static struct evloop *loop;
static struct tlsrv *srv;
static char req[4096];

static int loopback_only(const char *host, uint16_t port, int socktype, struct sock_addr *out)
{
	(void)socktype;
	if (!strcmp(host, "unresolvable"))
		return ENOENT;
	/* port 1 on loopback: nothing listens there, so no other program on this machine ever
	 * sees fuzz bytes (port 0 stays 0 to reach the FORBIDDEN check) */
	if (sock_addr_parse(out, "127.0.0.1", port ? 1 : 0))
		return EINVAL;
	return 0;
}

static void init(void)
{
	struct journal *j = NULL;
	SSL_CTX *up = NULL;
	struct tlsrv_limits lim;
	json_t *c;
	char *tok = NULL;

	log_init("fuzz", LOG_LVL_ERR);
	util_ignore_sigpipe();
	tlsrv_limits_default(&lim);
	lim.max_channels = 8;
	lim.max_inflight = 65536;
	if (evloop_alloc(&loop) || journal_open(&j, NULL, "fuzz") ||
	    tls_client_ctx(&up, NULL, NULL) || tlsrv_alloc(&srv, loop, j, NULL, up, &lim) ||
	    tlsrv_set_secret(srv, key, sizeof(key) - 1))
		abort();
	tlsrv_set_resolver(srv, loopback_only);
	c = json_pack("{s:s, s:I, s:I}", "sub", "fuzz", "iat", (json_int_t)time(NULL), "exp",
	              (json_int_t)time(NULL) + 365 * 86400);
	if (jwt_sign(key, sizeof(key) - 1, c, &tok))
		abort();
	json_decref(c);
	snprintf(req, sizeof(req),
	         "GET /teamlink/v1/tunnel HTTP/1.1\r\nHost: f\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: teamlink.v1\r\n"
	         "Authorization: Bearer %s\r\n\r\n",
	         tok);
	free(tok);
}

static void pump(int fd, int rounds)
{
	uint8_t sink[65536];

	for (int i = 0; i < rounds; i++) {
		evloop_run_once(loop, 0);
		while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	uint8_t frame[WS_MAX_HEADER + 256];
	static const uint8_t zero[4] = {0, 0, 0, 0};

	if (!loop)
		init();
	if (size < 1 || size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return 0;
	if (tlsrv_adopt(srv, sv[0], 0, TLSRV_ROLE_TUNNEL | TLSRV_ROLE_TCM, "fuzz")) {
		close(sv[1]);
		return 0;
	}
	if (write(sv[1], req, strlen(req)) < 0)
		goto out;
	pump(sv[1], 3);
	if (data[0] & 1) {
		size_t off = 1;
		while (off < size) {
			size_t n = data[off++], hl;
			if (n > size - off)
				n = size - off;
			hl = ws_frame_header(frame, WS_OP_BINARY, 1, n, zero);
			memcpy(frame + hl, data + off, n);
			off += n;
			if (write(sv[1], frame, hl + n) < 0)
				break;
			pump(sv[1], 2);
		}
	} else if (size > 1 && write(sv[1], data + 1, size - 1) < 0)
		goto out;
	pump(sv[1], 4);
out:
	close(sv[1]);
	pump(-1, 2);
	/* nothing may outlive the session: every tunnel and connection is closed here */
	tlsrv_shutdown(srv);
	pump(-1, 1);
	return 0;
}
