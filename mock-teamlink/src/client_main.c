/* teamlink-client - open a teamlink.v1 tunnel and use it from the command line: probe a SIP
 * server with OPTIONS and REGISTER, exchange datagrams, or bridge local TCP/UDP ports. */
#define LOG_TAG "main"
#include "teamlink/client.h"
#include "teamlink/msg.h"

#include "onsight/digest.h"
#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/sipframe.h"
#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include <errno.h>
#include <stdarg.h>
#include "onsight/journal.h"
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BRIDGES 64

struct bridge {
	struct app *a;
	int fd;
	struct tlc_chan *ch;
	struct bridge *next;
};

struct app {
	struct evloop *loop;
	struct tlc *t;
	SSL_CTX *tls;
	const char *url, *proxy, *connect_to, *ca, *keylog;
	char *token;
	char sip_host[256];
	uint16_t sip_port;
	int sip_tls;
	char udp_host[256];
	uint16_t udp_port;
	const char *bridge_tcp, *bridge_udp;
	int send_options;
	const char *reg_aor, *sip_user, *sip_password;
	long udp_count, udp_rate, udp_size;
	long duration_s, timeout_ms;
	int rc;
	/* probe state */
	struct tlc_chan *sip;
	struct sipframe *sf;
	int step; /* 0 options, 1 register, 2 register with auth, 3 done */
	unsigned cseq;
	char callid[64], tag[32], branch[40];
	int sip_done;
	/* udp test */
	struct tlc_chan *udp;
	long udp_sent, udp_rcvd;
	uint64_t udp_timer;
	uint64_t *sent_ns;
	double rtt_sum_ms;
	/* bridges */
	int tcp_lfd, udp_fd;
	struct sock_addr udp_peer;
	int udp_peer_known;
	struct bridge *bridges;
	unsigned nbridges;
	int tasks;
};

static void emit(const char *event, const char *fmt, ...)
{
	va_list ap;
	json_t *o;
	char ts[40], *s;

	va_start(ap, fmt);
	o = fmt ? json_vpack_ex(NULL, 0, fmt, ap) : json_object();
	va_end(ap);
	if (!o)
		return;
	journal_timestamp(ts, sizeof(ts));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "event", json_string(event));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		printf("%s\n", s);
		fflush(stdout);
	}
	free(s);
	json_decref(o);
}

static void task_done(struct app *a)
{
	if (--a->tasks <= 0)
		evloop_stop(a->loop);
}

/* ---- SIP probe: OPTIONS, then REGISTER (answering a digest challenge once) ---- */

static void sip_send(struct app *a, const char *method, const char *auth)
{
	char msg[2048], ruri[300], aor[300];
	const char *local = "127.0.0.1:5060";
	int n;

	snprintf(ruri, sizeof(ruri), "sip:%s", a->sip_host);
	snprintf(aor, sizeof(aor), "%s", a->reg_aor ? a->reg_aor : "sip:teamlink-client@invalid");
	if (!strcmp(method, "REGISTER")) {
		const char *at = strchr(aor, '@');
		if (at)
			snprintf(ruri, sizeof(ruri), "sip:%s", at + 1);
	}
	snprintf(a->branch, sizeof(a->branch), "z9hG4bK%08x%04x", (unsigned)evloop_now_ns(),
	         a->cseq);
	a->cseq++;
	n = snprintf(msg, sizeof(msg),
	             "%s %s SIP/2.0\r\n"
	             "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
	             "Max-Forwards: 70\r\n"
	             "From: <%s>;tag=%s\r\n"
	             "To: <%s>\r\n"
	             "Call-ID: %s\r\n"
	             "CSeq: %u %s\r\n"
	             "Contact: <sip:%s;transport=%s>\r\n"
	             "%s%s%s"
	             "%s"
	             "User-Agent: teamlink-client/" ONSIGHT_VERSION "\r\n"
	             "Content-Length: 0\r\n\r\n",
	             method, ruri, a->sip_tls ? "TLS" : "TCP", local, a->branch, aor, a->tag, aor,
	             a->callid, a->cseq, method, local, a->sip_tls ? "tls" : "tcp",
	             auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "",
	             !strcmp(method, "REGISTER") ? "Expires: 300\r\n" : "");
	if (n > 0 && (size_t)n < sizeof(msg) && tlc_send(a->sip, msg, (size_t)n) == 0)
		emit("sip.request", "{s:s, s:s, s:i}", "method", method, "uri", ruri, "cseq",
		     (int)a->cseq);
}

static void sip_response(struct app *a, const char *msg, size_t len)
{
	int status;
	char cseq[64] = "", www[1024];
	const char *method;

	if (len < 12 || strncmp(msg, "SIP/2.0 ", 8))
		return; /* a request from the server: not expected in a probe */
	/* The framed message is not NUL-terminated: read the three status digits by hand. */
	status = 0;
	for (size_t i = 8; i < 11; i++)
		status = status * 10 + (msg[i] >= '0' && msg[i] <= '9' ? msg[i] - '0' : 0);
	sipframe_header(msg, len, "CSeq", cseq, sizeof(cseq));
	method = strchr(cseq, ' ') ? strchr(cseq, ' ') + 1 : cseq;
	{
		char line[128];
		const char *eol = memchr(msg, '\r', len);
		snprintf(line, sizeof(line), "%.*s", (int)(eol ? (size_t)(eol - msg) : len), msg);
		emit("sip.response", "{s:i, s:s, s:s}", "status", status, "method", method, "line",
		     line);
	}
	if (status < 200)
		return;
	if (!strcmp(method, "OPTIONS") && a->step == 0) {
		if (a->reg_aor) {
			a->step = 1;
			sip_send(a, "REGISTER", NULL);
			return;
		}
	} else if (!strcmp(method, "REGISTER") && (status == 401 || status == 407) &&
	           a->step == 1 && a->sip_user && a->sip_password) {
		struct digest_params ch;
		char auth[1024], ruri[300];
		const char *at = strchr(a->reg_aor, '@');
		if (sipframe_header(msg, len,
		                    status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate", www,
		                    sizeof(www)) &&
		    digest_parse(www, &ch) == 0) {
			snprintf(ruri, sizeof(ruri), "sip:%s", at ? at + 1 : a->sip_host);
			if (digest_authorization(auth, sizeof(auth), &ch, a->sip_user,
			                         a->sip_password, "REGISTER", ruri, 1,
			                         "0a4f113b") == 0) {
				a->step = 2;
				sip_send(a, "REGISTER", auth);
				return;
			}
		}
	}
	if (status >= 300 && !(status == 401 && !a->sip_user))
		a->rc = 1;
	a->step = 3;
	if (!a->sip_done) {
		a->sip_done = 1;
		task_done(a);
	}
}

static void sip_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	struct app *a = arg;
	const char *msg;
	size_t len;
	int rc;

	(void)c;
	if (sipframe_feed(a->sf, p, n)) {
		emit("error", "{s:s}", "what", "SIP message over the cap");
		a->rc = 1;
		evloop_stop(a->loop);
		return;
	}
	while ((rc = sipframe_next(a->sf, &msg, &len)) == SIPFRAME_MSG || rc == SIPFRAME_PING)
		if (rc == SIPFRAME_MSG)
			sip_response(a, msg, len);
}

static void sip_opened(struct tlc_chan *c, const char *addr, void *arg)
{
	struct app *a = arg;

	emit("channel", "{s:s, s:i, s:s, s:s}", "state", "open", "channel", tlc_chan_id(c), "kind",
	     "sip", "server_addr", addr);
	if (a->send_options)
		sip_send(a, "OPTIONS", NULL);
	else if (a->reg_aor) {
		a->step = 1;
		sip_send(a, "REGISTER", NULL);
	}
}

static void chan_closed(struct tlc_chan *c, int code, const char *text, void *arg)
{
	struct app *a = arg;

	emit("channel", "{s:s, s:i, s:i, s:s, s:s}", "state", code ? "error" : "closed", "channel",
	     tlc_chan_id(c), "code", code, "name", code ? tl_code_name(code) : "CLOSE", "text",
	     text);
	if (c == a->sip) {
		a->sip = NULL;
		if (!a->sip_done && (a->send_options || a->reg_aor)) {
			a->rc = 1;
			a->sip_done = 1;
			task_done(a);
		}
	}
	if (c == a->udp) {
		a->udp = NULL;
		if (a->udp_count)
			a->rc = 1;
	}
	for (struct bridge *b = a->bridges; b; b = b->next)
		if (b->ch == c) {
			b->ch = NULL;
			shutdown(b->fd, SHUT_RDWR);
		}
}

/* ---- UDP test: N datagrams at a rate, each carrying its sequence number; count echoes ---- */

static void udp_finish(void *arg)
{
	struct app *a = arg;

	a->udp_timer = 0;
	emit("udp.result", "{s:i, s:i, s:f}", "sent", (int)a->udp_sent, "received",
	     (int)a->udp_rcvd, "rtt_avg_ms",
	     a->udp_rcvd ? a->rtt_sum_ms / (double)a->udp_rcvd : 0.0);
	if (a->udp_rcvd == 0)
		a->rc = 1;
	task_done(a);
}

static void udp_tick(void *arg)
{
	struct app *a = arg;
	uint8_t buf[TL_MAX_PAYLOAD];
	uint32_t seq = (uint32_t)a->udp_sent;

	a->udp_timer = 0;
	if (!a->udp)
		return;
	memset(buf, 0x5a, (size_t)a->udp_size);
	memcpy(buf, &seq, sizeof(seq));
	a->sent_ns[a->udp_sent] = evloop_now_ns();
	if (tlc_send(a->udp, buf, (size_t)a->udp_size) == 0)
		a->udp_sent++;
	else
		a->sent_ns[a->udp_sent++] = 0;
	if (a->udp_sent < a->udp_count)
		a->udp_timer =
		        evloop_timer_add(a->loop, (uint64_t)(1000 / a->udp_rate), udp_tick, a);
	else
		a->udp_timer = evloop_timer_add(a->loop, 1000, udp_finish, a);
}

static void udp_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	struct app *a = arg;
	uint32_t seq;

	(void)c;
	if (a->udp_peer_known) {
		(void)sendto(a->udp_fd, p, n, MSG_DONTWAIT, (struct sockaddr *)&a->udp_peer.ss,
		             a->udp_peer.len);
		return;
	}
	if (n < sizeof(seq) || !a->udp_count)
		return;
	memcpy(&seq, p, sizeof(seq));
	if (seq < a->udp_sent && a->sent_ns[seq]) {
		a->rtt_sum_ms += (double)(evloop_now_ns() - a->sent_ns[seq]) / 1e6;
		a->sent_ns[seq] = 0;
		a->udp_rcvd++;
	}
}

static void udp_opened(struct tlc_chan *c, const char *addr, void *arg)
{
	struct app *a = arg;

	emit("channel", "{s:s, s:i, s:s, s:s}", "state", "open", "channel", tlc_chan_id(c), "kind",
	     "udp", "server_addr", addr);
	if (a->udp_count)
		udp_tick(a);
}

/* ---- bridges ---- */

static void bridge_free(struct bridge *b)
{
	struct app *a = b->a;

	for (struct bridge **pp = &a->bridges; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			a->nbridges--;
			break;
		}
	evloop_fd_del(a->loop, b->fd);
	close(b->fd);
	tlc_chan_close_reason(b->ch, "local connection closed");
	free(b);
}

static void bridge_tcp_readable(int fd, uint32_t events, void *arg)
{
	struct bridge *b = arg;
	uint8_t buf[16384];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || !b->ch || tlc_send(b->ch, buf, (size_t)n)) {
		bridge_free(b);
		return;
	}
}

static void bridge_chan_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	struct bridge *b = arg;

	(void)c;
	/* a local client that does not read is cut off rather than buffered without bound */
	if (send(b->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
		shutdown(b->fd, SHUT_RDWR);
}

static void bridge_chan_closed(struct tlc_chan *c, int code, const char *text, void *arg)
{
	struct bridge *b = arg;

	emit("channel", "{s:s, s:i, s:i, s:s}", "state", code ? "error" : "closed", "channel",
	     tlc_chan_id(c), "code", code, "text", text);
	b->ch = NULL;
	shutdown(b->fd, SHUT_RDWR);
}

static void bridge_accept(int lfd, uint32_t events, void *arg)
{
	struct app *a = arg;
	static const struct tlc_chan_handlers h = {NULL, bridge_chan_data, bridge_chan_closed};
	struct bridge *b;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (fd < 0)
		return;
	b = calloc(1, sizeof(*b));
	if (!b || a->nbridges >= MAX_BRIDGES || !a->t) {
		free(b);
		close(fd);
		return;
	}
	b->a = a;
	b->fd = fd;
	if (tlc_open_sip(a->t, &b->ch, a->sip_host, a->sip_port, a->sip_tls, &h, b) ||
	    evloop_fd_add(a->loop, fd, EPOLLIN, bridge_tcp_readable, b)) {
		tlc_chan_close_reason(b->ch, "local connection closed");
		close(fd);
		free(b);
		return;
	}
	b->next = a->bridges;
	a->bridges = b;
	a->nbridges++;
}

static void bridge_udp_readable(int fd, uint32_t events, void *arg)
{
	struct app *a = arg;
	uint8_t buf[TL_MAX_PAYLOAD];

	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sock_addr from = {.len = sizeof(from.ss)};
		ssize_t n =
		        recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from.ss, &from.len);
		if (n < 0)
			return;
		a->udp_peer = from;
		a->udp_peer_known = 1;
		if (a->udp)
			(void)tlc_send(a->udp, buf, (size_t)n);
	}
}

static int bridges_start(struct app *a)
{
	struct sock_addr sa, bound;
	char buf[SOCK_ADDR_STRLEN];

	if (a->bridge_tcp) {
		const char *spec = a->bridge_tcp;
		char tmp[300];
		if (!strchr(spec, ':')) {
			snprintf(tmp, sizeof(tmp), "127.0.0.1:%s", spec);
			spec = tmp;
		}
		if (sock_addr_parse(&sa, spec, 0) || (a->tcp_lfd = sock_listen_tcp(&sa, 16)) < 0 ||
		    evloop_fd_add(a->loop, a->tcp_lfd, EPOLLIN, bridge_accept, a))
			return -1;
		(void)sock_local(a->tcp_lfd, &bound);
		emit("bridge", "{s:s, s:s}", "kind", "tcp", "listen",
		     sock_addr_str(&bound, buf, sizeof(buf)));
	}
	if (a->bridge_udp) {
		const char *spec = a->bridge_udp;
		char tmp[300];
		if (!strchr(spec, ':')) {
			snprintf(tmp, sizeof(tmp), "127.0.0.1:%s", spec);
			spec = tmp;
		}
		if (sock_addr_parse(&sa, spec, 0) || (a->udp_fd = sock_bind_udp(&sa)) < 0 ||
		    evloop_fd_add(a->loop, a->udp_fd, EPOLLIN, bridge_udp_readable, a))
			return -1;
		(void)sock_local(a->udp_fd, &bound);
		emit("bridge", "{s:s, s:s}", "kind", "udp", "listen",
		     sock_addr_str(&bound, buf, sizeof(buf)));
	}
	return 0;
}

/* ---- tunnel ---- */

static void on_state(struct tlc *t, enum tlc_state st, const char *reason, void *arg)
{
	struct app *a = arg;
	static const struct tlc_chan_handlers sh = {sip_opened, sip_data, chan_closed};
	static const struct tlc_chan_handlers uh = {udp_opened, udp_data, chan_closed};

	if (st == TLC_FAILED) {
		emit("tunnel", "{s:s, s:s, s:i, s:i, s:s, s:b}", "state", "failed", "reason",
		     reason, "http_status", tlc_http_status(t), "proxy_status", tlc_proxy_status(t),
		     "url", a->url, "via_proxy", a->proxy != NULL);
		a->rc = 3;
		evloop_stop(a->loop);
		return;
	}
	if (st == TLC_CLOSED) {
		emit("tunnel", "{s:s, s:s}", "state", "closed", "reason", reason);
		if (a->rc == 0)
			a->rc = 4;
		evloop_stop(a->loop);
		return;
	}
	emit("tunnel", "{s:s, s:s, s:b}", "state", "open", "url", a->url, "via_proxy",
	     a->proxy != NULL);
	if (a->sip_host[0] && (a->send_options || a->reg_aor)) {
		if (tlc_open_sip(t, &a->sip, a->sip_host, a->sip_port, a->sip_tls, &sh, a)) {
			a->rc = 1;
			evloop_stop(a->loop);
			return;
		}
	}
	if (a->udp_host[0]) {
		if (tlc_open_udp(t, &a->udp, a->udp_host, a->udp_port, &uh, a)) {
			a->rc = 1;
			evloop_stop(a->loop);
			return;
		}
	}
	if (bridges_start(a)) {
		emit("error", "{s:s}", "what", "cannot listen for the bridge");
		a->rc = 2;
		evloop_stop(a->loop);
	}
	if (!a->tasks && !a->bridge_tcp && !a->bridge_udp && !a->duration_s)
		evloop_stop(a->loop); /* only asked to open the tunnel */
}

static void on_deadline(void *arg)
{
	struct app *a = arg;

	if (a->tasks > 0 && a->rc == 0) {
		emit("error", "{s:s}", "what", "timed out");
		a->rc = 5;
	}
	evloop_stop(a->loop);
}

static void on_signal(int signo, void *arg)
{
	(void)signo;
	evloop_stop(((struct app *)arg)->loop);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: teamlink-client --url URL (--token T | --token-file F) [--ca F]\n"
	        "         [--proxy HOST:PORT] [--connect-to ADDR:PORT] [--keylog F]\n"
	        "         [--sip HOST:PORT:tcp|tls [--send-options] [--register AOR\n"
	        "               [--sip-user U --sip-password P]] [--bridge-tcp [ADDR:]PORT]]\n"
	        "         [--udp HOST:PORT [--udp-send N [--udp-rate PPS] [--udp-size B]]\n"
	        "               [--bridge-udp [ADDR:]PORT]]\n"
	        "         [--duration S] [--timeout MS] [--log-level L]\n"
	        "\n"
	        "Opens a teamlink.v1 tunnel (docs/protocol/teamlink.md), directly or through a "
	        "web\n"
	        "proxy (CONNECT), and uses it: --send-options/--register probe a SIP server over "
	        "a\n"
	        "SIP channel; --udp-send sends N datagrams (each carrying its sequence number) "
	        "and\n"
	        "counts what comes back; --bridge-tcp relays each local TCP connection over a new\n"
	        "SIP channel; --bridge-udp relays a local UDP port over the UDP channel (replies "
	        "go\n"
	        "to the last local sender). Status: JSON lines on stdout.\n"
	        "Exit: 0 ok, 1 a probe failed, 2 usage, 3 tunnel not opened, 4 tunnel lost,\n"
	        "5 timed out.\n");
}

static int parse_hostport(const char *spec, char *host, size_t hl, uint16_t *port, char **rest)
{
	char tmp[320], *p, *c;
	unsigned long v;

	str_copy(tmp, spec, sizeof(tmp));
	p = tmp;
	if (*p == '[') {
		c = strchr(p, ']');
		if (!c || c[1] != ':')
			return -1;
		*c = '\0';
		p++;
		c++;
	} else {
		c = strchr(p, ':');
		if (!c)
			return -1;
		*c = '\0';
	}
	str_copy(host, p, hl);
	v = strtoul(c + 1, &p, 10);
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	if (rest)
		*rest = strdup(*p == ':' ? p + 1 : "");
	else if (*p)
		return -1;
	return 0;
}

static int parse(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"url", 1, NULL, 'u'},          {"token", 1, NULL, 't'},
	        {"token-file", 1, NULL, 'T'},   {"ca", 1, NULL, 'c'},
	        {"proxy", 1, NULL, 'p'},        {"connect-to", 1, NULL, 'C'},
	        {"keylog", 1, NULL, 'k'},       {"sip", 1, NULL, 's'},
	        {"udp", 1, NULL, 'U'},          {"bridge-tcp", 1, NULL, 'b'},
	        {"bridge-udp", 1, NULL, 'B'},   {"send-options", 0, NULL, 'o'},
	        {"register", 1, NULL, 'r'},     {"sip-user", 1, NULL, 'n'},
	        {"sip-password", 1, NULL, 'P'}, {"udp-send", 1, NULL, 'N'},
	        {"udp-rate", 1, NULL, 'R'},     {"udp-size", 1, NULL, 'S'},
	        {"duration", 1, NULL, 'd'},     {"timeout", 1, NULL, 'w'},
	        {"log-level", 1, NULL, 'l'},    {"help", 0, NULL, 'h'},
	        {"version", 0, NULL, 'v'},      {NULL, 0, NULL, 0},
	};
	int c;
	char *rest = NULL;

	a->udp_rate = 50;
	a->udp_size = 200;
	a->timeout_ms = 10000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			a->url = optarg;
			break;
		case 't':
			free(a->token);
			a->token = strdup(optarg);
			break;
		case 'T': {
			size_t n;
			free(a->token);
			a->token = NULL;
			if (file_read_secret(optarg, &a->token, &n)) {
				fprintf(stderr, "teamlink-client: cannot read %s\n", optarg);
				return -1;
			}
			break;
		}
		case 'c':
			a->ca = optarg;
			break;
		case 'p':
			a->proxy = optarg;
			break;
		case 'C':
			a->connect_to = optarg;
			break;
		case 'k':
			a->keylog = optarg;
			break;
		case 's':
			if (parse_hostport(optarg, a->sip_host, sizeof(a->sip_host), &a->sip_port,
			                   &rest) ||
			    (strcmp(rest, "tcp") && strcmp(rest, "tls"))) {
				free(rest);
				fprintf(stderr, "teamlink-client: --sip wants HOST:PORT:tcp|tls\n");
				return -1;
			}
			a->sip_tls = !strcmp(rest, "tls");
			free(rest);
			rest = NULL;
			break;
		case 'U':
			if (parse_hostport(optarg, a->udp_host, sizeof(a->udp_host), &a->udp_port,
			                   NULL)) {
				fprintf(stderr, "teamlink-client: --udp wants HOST:PORT\n");
				return -1;
			}
			break;
		case 'b':
			a->bridge_tcp = optarg;
			break;
		case 'B':
			a->bridge_udp = optarg;
			break;
		case 'o':
			a->send_options = 1;
			break;
		case 'r':
			a->reg_aor = optarg;
			break;
		case 'n':
			a->sip_user = optarg;
			break;
		case 'P':
			a->sip_password = optarg;
			break;
		case 'N':
			a->udp_count = strtol(optarg, NULL, 10);
			break;
		case 'R':
			a->udp_rate = strtol(optarg, NULL, 10);
			break;
		case 'S':
			a->udp_size = strtol(optarg, NULL, 10);
			break;
		case 'd':
			a->duration_s = strtol(optarg, NULL, 10);
			break;
		case 'w':
			a->timeout_ms = strtol(optarg, NULL, 10);
			break;
		case 'l':
			log_init("teamlink-client", (enum log_level)log_level_parse(optarg));
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'v':
			printf("teamlink-client %s\n", ONSIGHT_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!a->url || !a->token || optind < argc) {
		usage(stderr);
		return -1;
	}
	if ((a->send_options || a->reg_aor || a->bridge_tcp) && !a->sip_host[0]) {
		fprintf(stderr, "teamlink-client: SIP actions need --sip\n");
		return -1;
	}
	if ((a->udp_count || a->bridge_udp) && !a->udp_host[0]) {
		fprintf(stderr, "teamlink-client: UDP actions need --udp\n");
		return -1;
	}
	if (a->udp_count < 0 || a->udp_count > 1000000 || a->udp_rate < 1 || a->udp_rate > 1000 ||
	    a->udp_size < 4 || a->udp_size > TL_MAX_PAYLOAD || a->timeout_ms < 1) {
		fprintf(stderr, "teamlink-client: --udp-send/--udp-rate/--udp-size out of range\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct app a;
	struct tlc_opts o = {0};
	int err;

	memset(&a, 0, sizeof(a));
	a.tcp_lfd = a.udp_fd = -1;
	log_init("teamlink-client", LOG_LVL_WARN);
	util_ignore_sigpipe();
	if (parse(&a, argc, argv)) {
		free(a.token);
		return 2;
	}
	if (!strncasecmp(a.url, "https:", 6) && tls_client_ctx(&a.tls, a.ca, a.keylog)) {
		free(a.token);
		return 2;
	}
	snprintf(a.callid, sizeof(a.callid), "%llx@teamlink-client",
	         (unsigned long long)evloop_now_ns());
	snprintf(a.tag, sizeof(a.tag), "%x", (unsigned)(evloop_now_ns() >> 10));
	if (a.udp_count)
		a.sent_ns = calloc((size_t)a.udp_count, sizeof(uint64_t));
	if (evloop_alloc(&a.loop) || sipframe_alloc(&a.sf, SIPFRAME_MAX_MSG) ||
	    (a.udp_count && !a.sent_ns) || evloop_signal_add(a.loop, SIGTERM, on_signal, &a) ||
	    evloop_signal_add(a.loop, SIGINT, on_signal, &a)) {
		a.rc = 1;
		goto out;
	}
	a.tasks = (a.send_options || a.reg_aor ? 1 : 0) + (a.udp_count ? 1 : 0);
	o.url = a.url;
	o.token = a.token;
	o.tls = a.tls;
	o.proxy = a.proxy;
	o.connect_to = a.connect_to;
	o.timeout_ms = (unsigned)a.timeout_ms;
	err = tlc_open(&a.t, a.loop, &o, on_state, &a);
	if (err) {
		emit("tunnel", "{s:s, s:s}", "state", "failed", "reason", strerror(err));
		a.rc = 3;
		goto out;
	}
	/* One-shot actions are bounded by --timeout; bridges run for --duration or until a
	 * signal. */
	if (a.tasks)
		evloop_timer_add(a.loop,
		                 (uint64_t)a.timeout_ms +
		                         (uint64_t)a.udp_count * 1000 / (uint64_t)a.udp_rate,
		                 on_deadline, &a);
	else if (a.duration_s > 0)
		evloop_timer_add(a.loop, (uint64_t)a.duration_s * 1000, on_deadline, &a);
	else if (!a.bridge_tcp && !a.bridge_udp)
		evloop_timer_add(a.loop, (uint64_t)a.timeout_ms, on_deadline, &a);
	evloop_run(a.loop);
out:
	while (a.bridges)
		bridge_free(a.bridges);
	tlc_close(a.t, "teamlink-client done");
	if (a.tcp_lfd >= 0)
		close(a.tcp_lfd);
	if (a.udp_fd >= 0)
		close(a.udp_fd);
	sipframe_free(a.sf);
	evloop_free(a.loop);
	SSL_CTX_free(a.tls);
	free(a.sent_ns);
	free(a.token);
	return a.rc;
}
