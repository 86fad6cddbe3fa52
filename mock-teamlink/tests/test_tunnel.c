/* The Done-means of mock-teamlink with real processes on loopback: mock-teamlink, a SIP peer
 * with media echo (tests/mock/sippeer.c), a real tinyproxy with an allow-list, and the
 * teamlink-client tool or the client library in this process. */
#include "onsight/evloop.h"
#include "onsight/httpc.h"
#include "onsight/jwt.h"
#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"
#include "teamlink/client.h"
#include "teamlink/msg.h"
#include "testutil.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char secret[] = "tunnel-test-secret";

struct env {
	char *dir, *events, *secretf;
	pid_t srv, peer, proxy;
	char https[64], http[64], tcm[64];
	char sip[64], udp[64], echo[64];
	uint16_t proxy_port;
	const char *lo; /* listen address of the tunnel listeners */
};

static char *slurp(const char *path)
{
	char *t = NULL;

	if (file_read(path, 1 << 22, &t, NULL))
		return strdup("");
	return t;
}

static int wait_text(const char *path, const char *needle, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		char *t = slurp(path);
		int found = strstr(t, needle) != NULL;
		free(t);
		if (found)
			return 1;
		poll(NULL, 0, 20);
	}
	return 0;
}

static size_t journal_count(const char *path, const char *event, const char *local)
{
	char *t = slurp(path);
	size_t n = tu_journal_count(t, event, local);

	free(t);
	return n;
}

static void assert_local(const char *path, const char *event, const char *addr)
{
	char *t = slurp(path);

	tu_assert_journal_local(t, event, addr);
	free(t);
}

static void find_listen(struct env *e, const char *role, const char *scheme, char *out, size_t n)
{
	char needle[128], *t = slurp(e->events), *p;

	snprintf(needle, sizeof(needle), "\"role\":\"%s\",\"scheme\":\"%s\",\"address\":\"", role,
	         scheme);
	p = strstr(t, needle);
	ck_assert_msg(p != NULL, "no %s %s listener in %s", role, scheme, t);
	p += strlen(needle);
	snprintf(out, n, "%.*s", (int)strcspn(p, "\""), p);
	free(t);
}

static uint16_t port_of(const char *addr)
{
	return (uint16_t)atoi(strrchr(addr, ':') + 1);
}

static pid_t spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits for pid's exit (bounded); returns its exit status, or -1 (then it is killed). */
static int reap(pid_t pid, int ms)
{
	int st;

	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		if (reap(*pid, 5000) < 0)
			ck_abort_msg("process %d did not stop on SIGTERM", (int)*pid);
	}
	*pid = 0;
}

static char *token(long exp_in)
{
	json_t *c = json_pack("{s:s, s:I, s:I}", "sub", "alice", "iat", (json_int_t)time(NULL),
	                      "exp", (json_int_t)(time(NULL) + exp_in));
	char *t = NULL;

	ck_assert_int_eq(jwt_sign((const uint8_t *)secret, strlen(secret), c, &t), 0);
	json_decref(c);
	return t;
}

static void start_peer(struct env *e)
{
	char *bin = tu_build_path("mock-teamlink/teamlink-sippeer"), *out, *err, *t;
	char *argv[] = {bin, NULL};

	ck_assert_int_ge(asprintf(&out, "%s/peer.out", e->dir), 0);
	ck_assert_int_ge(asprintf(&err, "%s/peer.err", e->dir), 0);
	e->peer = spawn(argv, out, err);
	ck_assert_msg(wait_text(out, "\"udp\"", 5000), "SIP peer did not start");
	t = slurp(out);
	ck_assert_int_eq(sscanf(t,
	                        "{\"sip\":\"%63[^\"]\",\"udp\":\"%63[^\"]\",\"echo\":\"%63[^\"]\"}",
	                        e->sip, e->udp, e->echo),
	                 3);
	free(t);
	free(out);
	free(err);
	free(bin);
}

static void start_server(struct env *e, const char *extra)
{
	char *bin = tu_build_path("mock-teamlink/mock-teamlink"), *cfg, *errf, text[2048];
	const char *certs = tu_certs_dir();
	char *argv[] = {bin, "--config", NULL, "--log-level", "debug", NULL};

	snprintf(text, sizeof(text),
	         "{\"tunnel_https\":[\"%s\"],\"tunnel_http\":[\"%s\"],"
	         "\"cert\":\"%s/localhost.pem\",\"key\":\"%s/localhost.key\","
	         "\"jwt_secret_file\":\"%s\",\"events\":\"%s\"%s%s}",
	         e->lo, e->lo, certs, certs, e->secretf, e->events, extra ? "," : "",
	         extra ? extra : "");
	cfg = tu_write(e->dir, "teamlink.json", text);
	argv[2] = cfg;
	ck_assert_int_ge(asprintf(&errf, "%s/teamlink.err", e->dir), 0);
	e->srv = spawn(argv, NULL, errf);
	ck_assert_msg(wait_text(e->events, "\"event\":\"server.start\"", 5000),
	              "mock-teamlink did not start");
	find_listen(e, "tunnel", "https", e->https, sizeof(e->https));
	find_listen(e, "tunnel", "http", e->http, sizeof(e->http));
	free(errf);
	free(cfg);
	free(bin);
}

static uint16_t free_port(void)
{
	struct sock_addr sa;
	int fd;
	uint16_t p;

	ck_assert_int_eq(sock_addr_parse(&sa, "127.0.0.1:0", 0), 0);
	fd = sock_listen_tcp(&sa, 1);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sock_local(fd, &sa), 0);
	p = sock_addr_port(&sa);
	close(fd);
	return p;
}

/* tinyproxy from Debian, foreground, allow-list filter, CONNECT only to our two ports. */
static void start_proxy(struct env *e, const char *allow)
{
	char text[1024], *cfg, *filter, *errf;
	char *argv[] = {"/usr/sbin/tinyproxy", "-d", "-c", NULL, NULL};

	if (access(argv[0], X_OK))
		argv[0] = "/usr/bin/tinyproxy";
	filter = tu_write(e->dir, "filter", allow);
	for (int attempt = 0; attempt < 5; attempt++) {
		e->proxy_port = free_port();
		snprintf(text, sizeof(text),
		         "User root\nGroup root\nPort %u\nListen 127.0.0.1\nTimeout 600\n"
		         "MaxClients 20\nLogLevel Info\nFilter \"%s\"\nFilterType ere\n"
		         "FilterDefaultDeny Yes\nConnectPort %u\nConnectPort %u\n",
		         e->proxy_port, filter, port_of(e->https), port_of(e->http));
		cfg = tu_write(e->dir, "tinyproxy.conf", text);
		argv[3] = cfg;
		ck_assert_int_ge(asprintf(&errf, "%s/tinyproxy.log", e->dir), 0);
		e->proxy = spawn(argv, errf, errf);
		free(errf);
		free(cfg);
		for (int i = 0; i < 250; i++) {
			struct sock_addr sa;
			char a[32];
			int fd, ok;
			struct pollfd p;
			snprintf(a, sizeof(a), "127.0.0.1:%u", e->proxy_port);
			ck_assert_int_eq(sock_addr_parse(&sa, a, 0), 0);
			fd = sock_connect_tcp(&sa);
			p.fd = fd;
			p.events = POLLOUT;
			ok = fd >= 0 && poll(&p, 1, 100) == 1 && sock_connect_result(fd) == 0;
			if (fd >= 0)
				close(fd);
			if (ok) {
				free(filter);
				return;
			}
			if (waitpid(e->proxy, NULL, WNOHANG) == e->proxy)
				break; /* port taken meanwhile: try another */
			poll(NULL, 0, 20);
		}
		stop(&e->proxy);
	}
	free(filter);
	ck_abort_msg("tinyproxy did not start");
}

static void env_up_at(struct env *e, const char *extra, const char *lo)
{
	memset(e, 0, sizeof(*e));
	e->lo = lo;
	e->dir = tu_mkdtemp();
	ck_assert_int_ge(asprintf(&e->events, "%s/events.jsonl", e->dir), 0);
	e->secretf = tu_write(e->dir, "secret", secret);
	start_peer(e);
	start_server(e, extra);
}

static void env_up(struct env *e, const char *extra)
{
	env_up_at(e, extra, "127.0.0.1:0");
}

/* The SIP peer is a test tool: a sanitizer report on its stderr fails the test, with the report. */
static void check_peer_stderr(const struct env *e)
{
	char *path, *t;

	ck_assert_int_ge(asprintf(&path, "%s/peer.err", e->dir), 0);
	t = slurp(path);
	free(path);
	if (strstr(t, "Sanitizer"))
		ck_abort_msg("teamlink-sippeer: %.3000s", t);
	free(t);
}

static void env_down(struct env *e)
{
	stop(&e->proxy);
	stop(&e->peer);
	check_peer_stderr(e);
	if (e->srv > 0) {
		kill(e->srv, SIGTERM);
		/* a clean exit: under ASan a leak makes this non-zero */
		ck_assert_int_eq(reap(e->srv, 10000), 0);
	}
	tu_rmtree(e->dir);
	free(e->dir);
	free(e->events);
	free(e->secretf);
}

/* Runs teamlink-client with args; returns its exit status, *outp its stdout. */
static int run_client(struct env *e, const char *scheme, const char *host, int via_proxy,
                      const char *tok, const char *const *args, char **outp)
{
	char *bin = tu_build_path("mock-teamlink/teamlink-client"), *out, *errf, *tokf;
	char url[128], ca[512], proxy[32];
	char *argv[40];
	int n = 0, rc;

	snprintf(url, sizeof(url), "%s://%s:%u/teamlink/v1/tunnel", scheme, host,
	         port_of(!strcmp(scheme, "https") ? e->https : e->http));
	snprintf(ca, sizeof(ca), "%s/ca.pem", tu_certs_dir());
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%u", e->proxy_port);
	tokf = tu_write(e->dir, "token", tok);
	argv[n++] = bin;
	argv[n++] = "--url";
	argv[n++] = url;
	argv[n++] = "--token-file";
	argv[n++] = tokf;
	argv[n++] = "--ca";
	argv[n++] = ca;
	if (via_proxy) {
		argv[n++] = "--proxy";
		argv[n++] = proxy;
	}
	for (int i = 0; args && args[i] && n < 38; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	ck_assert_int_ge(asprintf(&out, "%s/client.out", e->dir), 0);
	ck_assert_int_ge(asprintf(&errf, "%s/client.err", e->dir), 0);
	rc = reap(spawn(argv, out, errf), 30000);
	if (rc != 0)
		check_peer_stderr(e);
	*outp = slurp(out);
	free(out);
	free(errf);
	free(tokf);
	free(bin);
	return rc;
}

static void register_and_relay(const char *scheme, int via_proxy)
{
	struct env e;
	char *out = NULL, *tok = token(600), sipspec[80], *ev;
	const char *args[] = {"--sip",
	                      sipspec,
	                      "--send-options",
	                      "--register",
	                      "sip:alice@librestream.com",
	                      "--sip-user",
	                      "alice",
	                      "--sip-password",
	                      "alice-pass",
	                      "--udp",
	                      NULL,
	                      "--udp-send",
	                      "25",
	                      "--udp-rate",
	                      "100",
	                      NULL};
	int rc;

	env_up(&e, NULL);
	if (via_proxy)
		start_proxy(&e, "^localhost$\n");
	snprintf(sipspec, sizeof(sipspec), "%s:tcp", e.sip);
	args[10] = e.udp;
	rc = run_client(&e, scheme, "localhost", via_proxy, tok, args, &out);
	ck_assert_msg(rc == 0, "client exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "\"status\":200,\"method\":\"OPTIONS\""), "%s", out);
	ck_assert_msg(strstr(out, "\"status\":401,\"method\":\"REGISTER\""), "%s", out);
	ck_assert_msg(strstr(out, "\"status\":200,\"method\":\"REGISTER\""), "%s", out);
	ck_assert_msg(strstr(out, "\"sent\":25,\"received\":25"), "%s", out);
	ck_assert_msg(wait_text(e.events, "\"event\":\"tunnel.close\"", 5000), "no tunnel.close");
	ev = slurp(e.events);
	ck_assert_msg(strstr(ev, via_proxy ? "\"via_proxy\":true" : "\"via_proxy\":false"), "%s",
	              ev);
	ck_assert_msg(strstr(ev,
	                     strcmp(scheme, "https") ? "\"scheme\":\"http\",\"via_proxy\""
	                                             : "\"scheme\":\"https\",\"via_proxy\""),
	              "%s", ev);
	ck_assert_msg(strstr(ev, "\"datagrams_in\":25,\"datagrams_out\":25"), "%s", ev);
	free(ev);
	{
		const char *lst = strcmp(scheme, "https") ? e.http : e.https;
		const char *evs[] = {"tunnel.open", "channel.open", "channel.close",
		                     "tunnel.close"};

		for (size_t i = 0; i < 4; i++)
			assert_local(e.events, evs[i], lst);
	}
	if (via_proxy) {
		char *log = NULL, *lp;
		ck_assert_int_ge(asprintf(&lp, "%s/tinyproxy.log", e.dir), 0);
		log = slurp(lp);
		ck_assert_msg(strstr(log, "CONNECT"), "tinyproxy saw no CONNECT: %s", log);
		free(log);
		free(lp);
	}
	free(out);
	free(tok);
	env_down(&e);
}

START_TEST(test_tunnel_https_direct_registers_and_relays_media)
{
	register_and_relay("https", 0);
}
END_TEST

START_TEST(test_tunnel_https_through_tinyproxy_registers_and_relays_media)
{
	register_and_relay("https", 1);
}
END_TEST

START_TEST(test_tunnel_http_through_tinyproxy_registers_and_relays_media)
{
	register_and_relay("http", 1);
}
END_TEST

START_TEST(test_upgrade_with_bad_or_expired_token_gets_401)
{
	struct env e;
	char *out = NULL, *old = token(-120), *ev;
	json_t *c = json_pack("{s:s, s:I}", "sub", "mallory", "exp", (json_int_t)time(NULL) + 600);
	char *forged = NULL;
	int rc;

	ck_assert_int_eq(jwt_sign((const uint8_t *)"wrong", 5, c, &forged), 0);
	json_decref(c);
	env_up(&e, NULL);
	rc = run_client(&e, "https", "localhost", 0, old, NULL, &out);
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(strstr(out, "\"http_status\":401") && strstr(out, "expired_token"), "%s",
	              out);
	free(out);
	rc = run_client(&e, "https", "localhost", 0, forged, NULL, &out);
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(strstr(out, "\"http_status\":401") && strstr(out, "invalid_token"), "%s",
	              out);
	ev = slurp(e.events);
	ck_assert_msg(strstr(ev, "\"event\":\"upgrade.reject\"") && !strstr(ev, "tunnel.open"),
	              "%s", ev);
	free(ev);
	assert_local(e.events, "upgrade.reject", e.https);
	free(out);
	free(old);
	free(forged);
	env_down(&e);
}
END_TEST

START_TEST(test_proxy_forbidding_the_host_gives_a_clear_error)
{
	struct env e;
	char *out = NULL, *tok = token(600);
	int rc;

	env_up(&e, NULL);
	start_proxy(&e, "^localhost$\n");
	/* 127.0.0.1 is not on the allow-list */
	rc = run_client(&e, "https", "127.0.0.1", 1, tok, NULL, &out);
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(strstr(out, "\"proxy_status\":403") && strstr(out, "refused CONNECT") &&
	                      strstr(out, "Filtered"),
	              "%s", out);
	free(out);
	free(tok);
	env_down(&e);
}
END_TEST

/* ---- the library in this process ---- */

struct lib {
	struct evloop *loop;
	struct tlc *t;
	int state; /* -1 pending */
	char reason[320];
	int opened, closed, code;
	char data[4096];
	size_t datalen;
	int udp_rx;
};

static void lib_state(struct tlc *t, enum tlc_state st, const char *reason, void *arg)
{
	struct lib *l = arg;

	(void)t;
	l->state = (int)st;
	str_copy(l->reason, reason, sizeof(l->reason));
}

static void lib_opened(struct tlc_chan *c, const char *addr, void *arg)
{
	(void)c;
	(void)addr;
	((struct lib *)arg)->opened++;
}

static void lib_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	struct lib *l = arg;

	(void)c;
	/* SIP answers in these tests are small and arrive whole; anything else is a datagram */
	if (n < 7 || memcmp(p, "SIP/2.0", 7))
		l->udp_rx++;
	if (l->datalen + n < sizeof(l->data)) {
		memcpy(l->data + l->datalen, p, n);
		l->datalen += n;
	}
}

static void lib_closed(struct tlc_chan *c, int code, const char *text, void *arg)
{
	struct lib *l = arg;

	(void)c;
	(void)text;
	l->closed++;
	l->code = code;
}

static const struct tlc_chan_handlers lib_h = {lib_opened, lib_data, lib_closed};

#define RUN_UNTIL(l, cond, ms) \
	for (int i_ = 0; i_ < (ms) / 10 && !(cond); i_++) \
	evloop_run_once((l)->loop, 10)

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = NULL;
	char ca[512];

	snprintf(ca, sizeof(ca), "%s/ca.pem", tu_certs_dir());
	ck_assert_int_eq(tls_client_ctx(&ctx, ca, NULL), 0);
	return ctx;
}

static void lib_open(struct lib *l, struct env *e, SSL_CTX *ctx, int via_proxy)
{
	char url[128], proxy[32], *tok = token(600);
	struct tlc_opts o = {.url = url, .token = tok, .tls = ctx, .timeout_ms = 5000};

	memset(l, 0, sizeof(*l));
	l->state = -1;
	snprintf(url, sizeof(url), "https://localhost:%u/teamlink/v1/tunnel", port_of(e->https));
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%u", e->proxy_port);
	if (via_proxy)
		o.proxy = proxy;
	ck_assert_int_eq(evloop_alloc(&l->loop), 0);
	ck_assert_int_eq(tlc_open(&l->t, l->loop, &o, lib_state, l), 0);
	RUN_UNTIL(l, l->state != -1, 5000);
	ck_assert_msg(l->state == TLC_OPEN, "tunnel: %s", l->reason);
	free(tok);
}

static void lib_close(struct lib *l)
{
	tlc_free(l->t);
	evloop_free(l->loop);
}

static void open_sip(struct lib *l, struct env *e, struct tlc_chan **cp)
{
	char host[64];
	uint16_t port = port_of(e->sip);
	const char *opt =
	        "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
	        "Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:x>\r\n"
	        "Call-ID: c1@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

	snprintf(host, sizeof(host), "%.*s", (int)(strrchr(e->sip, ':') - e->sip), e->sip);
	ck_assert_int_eq(tlc_open_sip(l->t, cp, host, port, 0, &lib_h, l), 0);
	RUN_UNTIL(l, l->opened, 5000);
	ck_assert_int_eq(l->opened, 1);
	ck_assert_int_eq(tlc_send(*cp, opt, strlen(opt)), 0);
	RUN_UNTIL(l, strstr(l->data, "SIP/2.0 200"), 5000);
	if (!strstr(l->data, "SIP/2.0 200"))
		check_peer_stderr(e);
	ck_assert_msg(strstr(l->data, "SIP/2.0 200"), "no answer to OPTIONS: %s", l->data);
}

START_TEST(test_killing_sip_server_ends_channel_with_error)
{
	struct env e;
	struct lib l;
	struct tlc_chan *c = NULL;
	SSL_CTX *ctx = client_ctx();
	char *ev;

	env_up(&e, NULL);
	lib_open(&l, &e, ctx, 0);
	open_sip(&l, &e, &c);
	kill(e.peer, SIGKILL);
	ck_assert_int_ge(reap(e.peer, 5000), 0);
	e.peer = 0;
	RUN_UNTIL(&l, l.closed, 5000);
	ck_assert_int_eq(l.closed, 1);
	ck_assert_int_eq(l.code, TL_E_REMOTE_RESET);
	ck_assert_int_eq(l.state, TLC_OPEN); /* the tunnel itself stays up */
	ck_assert_msg(wait_text(e.events, "SIP server closed the connection", 3000), "journal");
	ev = slurp(e.events);
	ck_assert_ptr_nonnull(strstr(ev, "\"event\":\"channel.close\""));
	free(ev);
	lib_close(&l);
	SSL_CTX_free(ctx);
	env_down(&e);
}
END_TEST

START_TEST(test_killing_proxy_ends_tunnel_and_its_channels)
{
	struct env e;
	struct lib l;
	struct tlc_chan *c = NULL, *u = NULL;
	SSL_CTX *ctx = client_ctx();
	char host[64];

	env_up(&e, NULL);
	start_proxy(&e, "^localhost$\n");
	lib_open(&l, &e, ctx, 1);
	open_sip(&l, &e, &c);
	snprintf(host, sizeof(host), "%.*s", (int)(strrchr(e.udp, ':') - e.udp), e.udp);
	ck_assert_int_eq(tlc_open_udp(l.t, &u, host, port_of(e.udp), &lib_h, &l), 0);
	RUN_UNTIL(&l, l.opened == 2, 5000);
	ck_assert_int_eq(tlc_send(u, "ping", 4), 0);
	RUN_UNTIL(&l, l.udp_rx, 5000);
	ck_assert_int_eq(l.udp_rx, 1);
	/* media in flight both ways when the proxy dies: the server is writing echoes into a
	 * connection that is going away */
	for (int i = 0; i < 300; i++)
		(void)tlc_send(u, "media-in-flight", 15);
	RUN_UNTIL(&l, l.udp_rx > 20, 2000);
	kill(e.proxy, SIGKILL);
	ck_assert_int_ge(reap(e.proxy, 5000), 0);
	e.proxy = 0;
	RUN_UNTIL(&l, l.state == TLC_CLOSED, 5000);
	ck_assert_msg(l.state == TLC_CLOSED, "tunnel still %d", l.state);
	ck_assert_int_eq(l.closed, 2);
	ck_assert_int_eq(l.code, TL_E_REMOTE_RESET);
	/* the server noticed too and closed every channel of the tunnel */
	ck_assert_msg(wait_text(e.events, "\"event\":\"tunnel.close\"", 5000), "no tunnel.close");
	{
		char *ev = slurp(e.events), *p = ev;
		int n = 0;
		while ((p = strstr(p, "\"reason\":\"tunnel closed\""))) {
			n++;
			p++;
		}
		ck_assert_msg(n == 2, "%s", ev);
		free(ev);
	}
	lib_close(&l);
	SSL_CTX_free(ctx);
	env_down(&e);
}
END_TEST

START_TEST(test_channel_limit_and_refused_connect_get_errors)
{
	struct env e;
	struct lib l;
	struct tlc_chan *c[3] = {NULL};
	SSL_CTX *ctx = client_ctx();

	env_up(&e, "\"limits\":{\"max_channels\":2}");
	lib_open(&l, &e, ctx, 0);
	ck_assert_int_eq(tlc_open_udp(l.t, &c[0], "127.0.0.1", port_of(e.udp), &lib_h, &l), 0);
	ck_assert_int_eq(tlc_open_udp(l.t, &c[1], "127.0.0.1", port_of(e.udp), &lib_h, &l), 0);
	ck_assert_int_eq(tlc_open_udp(l.t, &c[2], "127.0.0.1", port_of(e.udp), &lib_h, &l), 0);
	RUN_UNTIL(&l, l.closed, 5000);
	ck_assert_int_eq(l.closed, 1);
	ck_assert_int_eq(l.code, TL_E_TOO_MANY_CHANNELS);
	ck_assert_int_eq(l.opened, 2);
	tlc_chan_close_reason(c[0], "test done");
	/* nothing listens on port 1: refused */
	ck_assert_int_eq(tlc_open_sip(l.t, &c[2], "127.0.0.1", 1, 0, &lib_h, &l), 0);
	RUN_UNTIL(&l, l.closed == 2, 5000);
	ck_assert_int_eq(l.code, TL_E_CONNECT_FAILED);
	lib_close(&l);
	SSL_CTX_free(ctx);
	env_down(&e);
}
END_TEST

static int http_get(const char *addr, const char *path, const char *tok, char **body)
{
	char url[128], auth[4200];
	const char *hdrs[] = {auth, NULL};
	struct httpc_opts o = {.url = url, .timeout_ms = 5000, .headers = tok ? hdrs : NULL};
	struct httpc_resp *r = NULL;
	char err[256];
	int st;

	snprintf(url, sizeof(url), "http://%s%s", addr, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok ? tok : "");
	ck_assert_msg(httpc_request(&o, &r, err, sizeof(err)) == 0, "%s", err);
	st = r->status;
	*body = strdup(r->body ? r->body : "");
	httpc_resp_free(r);
	return st;
}

START_TEST(test_tcm_assigns_healthy_servers_and_skips_down_ones)
{
	struct env e;
	char extra[512], *body, *tok = token(600), down[32], *ev;
	uint16_t dead = free_port();

	memset(&e, 0, sizeof(e));
	e.lo = "127.0.0.1:0";
	e.dir = tu_mkdtemp();
	ck_assert_int_ge(asprintf(&e.events, "%s/events.jsonl", e.dir), 0);
	e.secretf = tu_write(e.dir, "secret", secret);
	start_peer(&e);
	/* one "server" is the SIP peer's live TCP port, one is a port nobody listens on */
	snprintf(down, sizeof(down), "127.0.0.1:%u", dead);
	snprintf(extra, sizeof(extra),
	         "\"tcm_http\":[\"127.0.0.1:0\"],\"tcm_servers\":[\"%s:https\",\"%s:http\"],"
	         "\"limits\":{\"health_interval_ms\":200}",
	         e.sip, down);
	start_server(&e, extra);
	find_listen(&e, "tcm", "http", e.tcm, sizeof(e.tcm));
	ck_assert_msg(wait_text(e.events, "\"healthy\":false", 5000), "no failed health check");
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(http_get(e.tcm, "/tcm/v1/assign", tok, &body), 200);
		ck_assert_msg(strstr(body, "\"scheme\":\"https\"") &&
		                      strstr(body, "\"server\":\"127.0.0.1\""),
		              "%s", body);
		free(body);
	}
	ck_assert_int_eq(http_get(e.tcm, "/tcm/v1/assign", NULL, &body), 401);
	ck_assert_ptr_nonnull(strstr(body, "missing_token"));
	free(body);
	/* the tunnel path is not served on a TCM-only listener */
	ck_assert_int_eq(http_get(e.tcm, "/teamlink/v1/tunnel", tok, &body), 404);
	free(body);
	stop(&e.peer); /* now both are down */
	for (int i = 0; i < 100; i++) {
		int st = http_get(e.tcm, "/tcm/v1/assign", tok, &body);
		int done = st == 503 && strstr(body, "no_server");
		free(body);
		if (done)
			break;
		ck_assert_int_lt(i, 99);
		poll(NULL, 0, 50);
	}
	ev = slurp(e.events);
	ck_assert_ptr_nonnull(strstr(ev, "\"event\":\"tcm.assign\""));
	free(ev);
	assert_local(e.events, "tcm.assign", e.tcm);
	assert_local(e.events, "tcm.reject", e.tcm);
	free(tok);
	env_down(&e);
}
END_TEST

START_TEST(test_detect_server_answers_options_and_stun)
{
	struct env e;
	char tcp[64], udp[64], buf[2048];
	struct sock_addr sa;
	struct pollfd p;
	const char *opt =
	        "OPTIONS sip:probe SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKd\r\n"
	        "Max-Forwards: 70\r\nFrom: <sip:p@x>;tag=1\r\nTo: <sip:probe>\r\n"
	        "Call-ID: d1@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	uint8_t req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
	                   3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
	ssize_t n;
	int fd;

	env_up(&e,
	       "\"detect\":[\"127.0.0.1\"],\"detect_sip_port\":0,\"detect_tls_port\":0,"
	       "\"detect_stun_port\":0,\"detect_media_port\":0");
	find_listen(&e, "detect", "tcp", tcp, sizeof(tcp));
	find_listen(&e, "detect", "udp", udp, sizeof(udp));
	ck_assert_int_eq(sock_addr_parse(&sa, tcp, 0), 0);
	fd = sock_connect_tcp(&sa);
	p.fd = fd;
	p.events = POLLOUT;
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(write(fd, opt, strlen(opt)), (ssize_t)strlen(opt));
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(!strncmp(buf, "SIP/2.0 200", 11), "%s", buf);
	close(fd);
	ck_assert_int_eq(sock_addr_parse(&sa, udp, 0), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&sa.ss, sa.len), 20);
	p.fd = fd;
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	ck_assert_int_ge(n, 20);
	ck_assert_int_eq((uint8_t)buf[0] << 8 | (uint8_t)buf[1], 0x0101); /* Binding success */
	close(fd);
	ck_assert_msg(wait_text(e.events, "\"proto\":\"udp\"", 3000), "no udp detect.probe");
	ck_assert_msg(wait_text(e.events, "\"event\":\"detect.probe\"", 3000), "no detect.probe");
	ck_assert_uint_eq(journal_count(e.events, "detect.probe", NULL), 2);
	ck_assert_uint_eq(journal_count(e.events, "detect.probe", tcp), 1);
	ck_assert_uint_eq(journal_count(e.events, "detect.probe", udp), 1);
	env_down(&e);
}
END_TEST

START_TEST(test_sighup_rereads_the_jwt_secret)
{
	struct env e;
	char *out = NULL, *tok = token(600);
	int rc;

	env_up(&e, NULL);
	free(tu_write(e.dir, "secret", "another-secret"));
	kill(e.srv, SIGHUP);
	ck_assert_msg(wait_text(e.events, "\"event\":\"config.reload\"", 5000), "no reload");
	/* a token signed with the old secret no longer opens a tunnel */
	rc = run_client(&e, "https", "localhost", 0, tok, NULL, &out);
	ck_assert_int_eq(rc, 3);
	ck_assert_msg(strstr(out, "invalid_token"), "%s", out);
	free(out);
	free(tok);
	env_down(&e);
}
END_TEST

/* ---- flow control: a megabyte each way through one SIP channel to a TCP echo ---- */

struct bulk {
	uint64_t rx;
	int bad;
	int closed;
};

static void bulk_data(struct tlc_chan *c, const uint8_t *p, size_t n, void *arg)
{
	struct bulk *b = arg;

	(void)c;
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)((b->rx + i) * 7))
			b->bad = 1;
	b->rx += n;
}

static void bulk_closed(struct tlc_chan *c, int code, const char *text, void *arg)
{
	(void)c;
	(void)code;
	(void)text;
	((struct bulk *)arg)->closed = 1;
}

START_TEST(test_sip_channel_flow_control_carries_a_megabyte_each_way)
{
	static const struct tlc_chan_handlers h = {NULL, bulk_data, bulk_closed};
	const uint64_t total = 1u << 20;
	struct env e;
	struct lib l;
	struct bulk b = {0};
	struct tlc_chan *c = NULL;
	SSL_CTX *ctx = client_ctx();
	uint64_t tx = 0;
	uint8_t chunk[8192];
	char *ev;

	env_up(&e, NULL);
	lib_open(&l, &e, ctx, 0);
	ck_assert_int_eq(tlc_open_sip(l.t, &c, "127.0.0.1", port_of(e.echo), 0, &h, &b), 0);
	for (int i = 0; i < 3000 && (b.rx < total) && !b.closed; i++) {
		while (tx < total) {
			size_t n = sizeof(chunk);
			for (size_t k = 0; k < n; k++)
				chunk[k] = (uint8_t)((tx + k) * 7);
			if (tlc_send(c, chunk, n))
				break; /* ENOBUFS: wait for the window */
			tx += n;
		}
		evloop_run_once(l.loop, 10);
	}
	ck_assert_int_eq(b.closed, 0);
	ck_assert_int_eq(b.bad, 0);
	ck_assert_uint_eq(b.rx, total);
	tlc_chan_close_reason(c, "test done");
	/* the CLOSE goes out from the client's loop */
	for (int i = 0; i < 250 && !wait_text(e.events, "closed by client: test done", 20); i++)
		evloop_run_once(l.loop, 20);
	ck_assert_msg(wait_text(e.events, "closed by client: test done", 20), "no channel.close");
	ev = slurp(e.events);
	ck_assert_msg(strstr(ev, "\"bytes_in\":1048576,\"bytes_out\":1048576"), "%s", ev);
	free(ev);
	lib_close(&l);
	SSL_CTX_free(ctx);
	env_down(&e);
}
END_TEST

static int raw_connect(const char *addr)
{
	struct sock_addr sa;
	struct pollfd p;
	int fd;

	ck_assert_int_eq(sock_addr_parse(&sa, addr, 0), 0);
	fd = sock_connect_tcp(&sa);
	ck_assert_int_ge(fd, 0);
	p.fd = fd;
	p.events = POLLOUT;
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(sock_connect_result(fd), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, 0), 0);
	return fd;
}

/* Reads until EOF (bounded); returns what came. */
static size_t raw_read_all(int fd, uint8_t *buf, size_t cap, int ms)
{
	size_t n = 0;
	struct pollfd p = {fd, POLLIN, 0};

	while (n < cap && poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

START_TEST(test_silent_client_is_pinged_then_closed_by_keepalive)
{
	struct env e;
	char *tok = token(600), req[2048];
	uint8_t in[512];
	size_t n;
	uint8_t *hdr_end;
	int fd;

	env_up(&e, "\"limits\":{\"ping_after_s\":1,\"dead_after_s\":2}");
	fd = raw_connect(e.http);
	snprintf(req, sizeof(req),
	         "GET /teamlink/v1/tunnel HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: teamlink.v1\r\n"
	         "Authorization: Bearer %s\r\n\r\n",
	         tok);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	n = raw_read_all(fd, in, sizeof(in) - 1, 5000);
	in[n] = 0;
	ck_assert_msg(!strncmp((char *)in, "HTTP/1.1 101 ", 13), "%s", in);
	ck_assert_ptr_nonnull(
	        strstr((char *)in, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	hdr_end = (uint8_t *)strstr((char *)in, "\r\n\r\n") + 4;
	/* a ping (0x89), then a close (0x88) with 1001 */
	ck_assert_msg(hdr_end[0] == 0x89, "got %02x %02x %02x %02x %02x (%zu bytes after head)",
	              hdr_end[0], hdr_end[1], hdr_end[2], hdr_end[3], hdr_end[4],
	              n - (size_t)(hdr_end - in));
	{
		uint8_t *c = hdr_end + 2 + (hdr_end[1] & 0x7f);
		ck_assert_int_eq(c[0], 0x88);
		ck_assert_int_eq(c[2] << 8 | c[3], 1001);
	}
	close(fd);
	ck_assert_msg(wait_text(e.events, "keepalive timeout", 3000), "no keepalive close");
	free(tok);
	env_down(&e);
}
END_TEST

static int raw_status(const char *addr, const char *req, size_t len)
{
	if (len == (size_t)-1)
		len = strlen(req);
	uint8_t in[1024];
	int fd = raw_connect(addr), st = 0;
	size_t n;

	if (len && write(fd, req, len) != (ssize_t)len)
		ck_abort_msg("write");
	n = raw_read_all(fd, in, sizeof(in) - 1, 5000);
	in[n] = 0;
	close(fd);
	if (n > 12)
		st = atoi((char *)in + 9);
	return st;
}

START_TEST(test_server_rejects_bad_requests_before_upgrade)
{
	struct env e;
	char big[10000], *tok = token(600), *out = NULL;
	struct lib l;
	SSL_CTX *ctx = client_ctx();

	env_up(&e, "\"limits\":{\"head_timeout_ms\":300,\"max_tunnels\":1}");
	ck_assert_int_eq(
	        raw_status(e.http, "POST /teamlink/v1/tunnel HTTP/1.1\r\n\r\n", (size_t)-1), 405);
	ck_assert_int_eq(raw_status(e.http, "GET /x HTTP/1.1\r\n\r\n", (size_t)-1), 404);
	ck_assert_int_eq(raw_status(e.http, "GET /teamlink/v1/tunnel HTTP/1.0\r\n\r\n", (size_t)-1),
	                 400);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	ck_assert_int_eq(raw_status(e.http, big, sizeof(big)), 431);
	ck_assert_int_eq(raw_status(e.http, "GET / HTTP/1.1\r\n", (size_t)-1),
	                 408); /* never finishes */
	/* one tunnel allowed: the second gets 503 */
	lib_open(&l, &e, ctx, 0);
	ck_assert_int_eq(run_client(&e, "https", "localhost", 0, tok, NULL, &out), 3);
	ck_assert_msg(strstr(out, "\"http_status\":503") && strstr(out, "too_many_tunnels"), "%s",
	              out);
	free(out);
	lib_close(&l);
	ck_assert_msg(wait_text(e.events, "\"reason\":\"request_timeout\"", 3000), "journal");
	free(tok);
	SSL_CTX_free(ctx);
	env_down(&e);
}
END_TEST

/* ---- against the real mock-sip ---- */

static pid_t start_mock_sip(struct env *e, const char *certname, char *tcp, char *tls, size_t n)
{
	char *bin = tu_build_path("mock-sip/mock-sip"), *ev, *errf, cert[512], key[512], range[32];
	char *argv[] = {bin,
	                "--listen",
	                "127.0.0.1",
	                "--sip-port",
	                "0",
	                "--tls-port",
	                "0",
	                "--stun-port",
	                "0",
	                "--media-range",
	                NULL,
	                "--cert",
	                cert,
	                "--key",
	                key,
	                "--users",
	                ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json",
	                "--peer-user",
	                "",
	                "--events",
	                NULL,
	                NULL,
	                NULL};
	pid_t pid;
	char *t, *p;

	/* mock-sip takes a relay port range (its first port is also a STUN port): start it at
	 * a port the kernel just handed out, so no fixed port is used */
	{
		struct sock_addr ua;
		int ufd;
		unsigned lo;
		ck_assert_int_eq(sock_addr_parse(&ua, "127.0.0.1:0", 0), 0);
		ufd = sock_bind_udp(&ua);
		ck_assert_int_ge(ufd, 0);
		ck_assert_int_eq(sock_local(ufd, &ua), 0);
		lo = sock_addr_port(&ua);
		close(ufd);
		if (lo > 65535 - 16)
			lo -= 16;
		snprintf(range, sizeof(range), "%u-%u", lo, lo + 15);
		argv[10] = range;
	}
	snprintf(cert, sizeof(cert), "%s/%s.pem", tu_certs_dir(), certname);
	snprintf(key, sizeof(key), "%s/%s.key", tu_certs_dir(), certname);
	ck_assert_int_ge(asprintf(&ev, "%s/sip-%s.jsonl", e->dir, certname), 0);
	ck_assert_int_ge(asprintf(&errf, "%s/sip-%s.err", e->dir, certname), 0);
	argv[20] = ev;
	pid = spawn(argv, NULL, errf);
	ck_assert_msg(wait_text(ev, "\"proto\":\"tls\"", 5000), "mock-sip did not start");
	t = slurp(ev);
	p = strstr(t, "\"proto\":\"tcp\",\"address\":\"");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"proto\":\"tcp\",\"address\":\"");
	snprintf(tcp, n, "%.*s", (int)strcspn(p, "\""), p);
	p = strstr(t, "\"proto\":\"tls\",\"address\":\"");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"proto\":\"tcp\",\"address\":\"");
	snprintf(tls, n, "%.*s", (int)strcspn(p, "\""), p);
	free(t);
	free(ev);
	free(errf);
	free(bin);
	return pid;
}

START_TEST(test_tunnel_registers_to_mock_sip_over_tcp_and_tls_through_tinyproxy)
{
	struct env e;
	char extra[600], tcp[64], tls[64], spec[96], *out = NULL, *tok = token(600), *sj, *p;
	const char *args[] = {"--sip",
	                      spec,
	                      "--send-options",
	                      "--register",
	                      "sip:alice@librestream.com",
	                      "--sip-user",
	                      "alice",
	                      "--sip-password",
	                      "alice-pw-sip",
	                      NULL};
	pid_t sip;
	int rc, ok = 0;

	snprintf(extra, sizeof(extra), "\"upstream_ca\":\"%s/ca.pem\"", tu_certs_dir());
	env_up(&e, extra);
	start_proxy(&e, "^localhost$\n");
	sip = start_mock_sip(&e, "localhost", tcp, tls, sizeof(tcp));
	snprintf(spec, sizeof(spec), "%s:tcp", tcp);
	rc = run_client(&e, "https", "localhost", 1, tok, args, &out);
	ck_assert_msg(rc == 0 && strstr(out, "\"status\":200,\"method\":\"REGISTER\""), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"status\":200,\"method\":\"OPTIONS\""));
	free(out);
	snprintf(spec, sizeof(spec), "localhost:%u:tls", port_of(tls));
	rc = run_client(&e, "http", "localhost", 1, tok, args, &out);
	ck_assert_msg(rc == 0 && strstr(out, "\"status\":200,\"method\":\"REGISTER\""), "%s", out);
	free(out);
	/* a SIP server whose certificate has expired: the channel ends with 525 */
	{
		char tcp2[64], tls2[64];
		pid_t bad = start_mock_sip(&e, "expired", tcp2, tls2, sizeof(tcp2));
		snprintf(spec, sizeof(spec), "localhost:%u:tls", port_of(tls2));
		rc = run_client(&e, "https", "localhost", 1, tok, args, &out);
		ck_assert_msg(rc == 1 && strstr(out, "\"code\":525") && strstr(out, "expired"),
		              "%s", out);
		free(out);
		stop(&bad);
	}
	/* mock-sip saw both registrations arrive from the tunnel server */
	ck_assert_int_ge(asprintf(&p, "%s/sip-localhost.jsonl", e.dir), 0);
	sj = slurp(p);
	ck_assert_msg(strstr(sj, "\"transport\":\"tcp\",\"expires\":300,\"result\":\"ok\""), "%s",
	              sj);
	ok = strstr(sj, "\"transport\":\"tls\",\"expires\":300,\"result\":\"ok\"") != NULL;
	ck_assert_msg(ok, "%s", sj);
	free(sj);
	free(p);
	stop(&sip);
	free(tok);
	env_down(&e);
}
END_TEST

START_TEST(test_client_bridges_local_tcp_and_udp_ports_through_the_tunnel)
{
	struct env e;
	char *bin = tu_build_path("mock-teamlink/teamlink-client"), *tok = token(600), *tokf, *outf;
	char url[128], ca[512], sipspec[80], tcpb[64] = "", udpb[64] = "", buf[2048], *t, *p;
	char *argv[] = {bin,           "--url", url,     "--token-file", NULL,
	                "--ca",        ca,      "--sip", sipspec,        "--bridge-tcp",
	                "127.0.0.1:0", "--udp", NULL,    "--bridge-udp", "127.0.0.1:0",
	                NULL};
	const char *opt =
	        "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKb\r\n"
	        "Max-Forwards: 70\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:x>\r\n"
	        "Call-ID: b1@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	struct sock_addr sa;
	struct pollfd pf;
	pid_t pid;
	ssize_t n;
	int fd;

	env_up(&e, NULL);
	snprintf(url, sizeof(url), "https://localhost:%u/teamlink/v1/tunnel", port_of(e.https));
	snprintf(ca, sizeof(ca), "%s/ca.pem", tu_certs_dir());
	snprintf(sipspec, sizeof(sipspec), "%s:tcp", e.sip);
	tokf = tu_write(e.dir, "token", tok);
	argv[4] = tokf;
	argv[12] = e.udp;
	ck_assert_int_ge(asprintf(&outf, "%s/bridge.out", e.dir), 0);
	pid = spawn(argv, outf, NULL);
	ck_assert_msg(wait_text(outf, "\"kind\":\"udp\",\"listen\"", 5000), "bridges not up");
	t = slurp(outf);
	p = strstr(t, "\"kind\":\"tcp\",\"listen\":\"");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"kind\":\"tcp\",\"listen\":\"");
	snprintf(tcpb, sizeof(tcpb), "%.*s", (int)strcspn(p, "\""), p);
	p = strstr(t, "\"kind\":\"udp\",\"listen\":\"");
	p += strlen("\"kind\":\"udp\",\"listen\":\"");
	snprintf(udpb, sizeof(udpb), "%.*s", (int)strcspn(p, "\""), p);
	free(t);
	/* a local SIP client talks to the bridge as if it were the SIP server */
	fd = raw_connect(tcpb);
	ck_assert_int_eq(write(fd, opt, strlen(opt)), (ssize_t)strlen(opt));
	pf.fd = fd;
	pf.events = POLLIN;
	ck_assert_int_eq(poll(&pf, 1, 5000), 1);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_msg(!strncmp(buf, "SIP/2.0 200", 11), "%s", buf);
	close(fd);
	/* a local media socket gets its datagram echoed by the far side */
	ck_assert_int_eq(sock_addr_parse(&sa, udpb, 0), 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(sendto(fd, "rtp-ish", 7, 0, (struct sockaddr *)&sa.ss, sa.len), 7);
	pf.fd = fd;
	ck_assert_int_eq(poll(&pf, 1, 5000), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(memcmp(buf, "rtp-ish", 7), 0);
	close(fd);
	kill(pid, SIGTERM);
	ck_assert_int_eq(reap(pid, 5000), 0);
	ck_assert_msg(wait_text(e.events,
	                        "\"reason\":\"closed by client: local connection closed\"", 5000),
	              "the bridged connection's channel was not closed by the client");
	free(outf);
	free(tokf);
	free(tok);
	free(bin);
	env_down(&e);
}
END_TEST

START_TEST(test_tunnel_over_ipv6_and_udp_channel_idle_timeout)
{
	struct env e;
	struct lib l;
	struct tlc_chan *u = NULL;
	SSL_CTX *ctx = client_ctx();
	char url[128], *tok = token(600);
	struct tlc_opts o = {.url = url, .token = tok, .tls = ctx, .timeout_ms = 5000};
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0) {
		SSL_CTX_free(ctx);
		free(tok);
		return; /* no IPv6 on this host */
	}
	close(fd);
	env_up_at(&e, "\"limits\":{\"udp_idle_s\":1}", "[::1]:0");
	ck_assert_msg(strchr(e.https, ']') != NULL, "%s", e.https);
	snprintf(url, sizeof(url), "https://%s/teamlink/v1/tunnel", e.https);
	memset(&l, 0, sizeof(l));
	l.state = -1;
	ck_assert_int_eq(evloop_alloc(&l.loop), 0);
	ck_assert_int_eq(tlc_open(&l.t, l.loop, &o, lib_state, &l), 0);
	RUN_UNTIL(&l, l.state != -1, 5000);
	ck_assert_msg(l.state == TLC_OPEN, "tunnel: %s", l.reason);
	ck_assert_int_eq(tlc_open_udp(l.t, &u, "127.0.0.1", port_of(e.udp), &lib_h, &l), 0);
	RUN_UNTIL(&l, l.opened, 5000);
	ck_assert_int_eq(tlc_send(u, "x", 1), 0);
	RUN_UNTIL(&l, l.udp_rx, 5000);
	ck_assert_int_eq(l.udp_rx, 1);
	/* then nothing either way: the server ends the channel */
	RUN_UNTIL(&l, l.closed, 5000);
	ck_assert_int_eq(l.code, TL_E_IDLE_TIMEOUT);
	ck_assert_msg(wait_text(e.events, "\"client\":\"[::1]:", 2000), "client not v6");
	lib_close(&l);
	SSL_CTX_free(ctx);
	free(tok);
	env_down(&e);
}
END_TEST

TU_SUITE("tunnel", test_tunnel_https_direct_registers_and_relays_media,
         test_tunnel_https_through_tinyproxy_registers_and_relays_media,
         test_tunnel_http_through_tinyproxy_registers_and_relays_media,
         test_upgrade_with_bad_or_expired_token_gets_401,
         test_proxy_forbidding_the_host_gives_a_clear_error,
         test_killing_sip_server_ends_channel_with_error,
         test_killing_proxy_ends_tunnel_and_its_channels,
         test_channel_limit_and_refused_connect_get_errors,
         test_tcm_assigns_healthy_servers_and_skips_down_ones,
         test_detect_server_answers_options_and_stun, test_sighup_rereads_the_jwt_secret,
         test_sip_channel_flow_control_carries_a_megabyte_each_way,
         test_silent_client_is_pinged_then_closed_by_keepalive,
         test_server_rejects_bad_requests_before_upgrade,
         test_tunnel_registers_to_mock_sip_over_tcp_and_tls_through_tinyproxy,
         test_client_bridges_local_tcp_and_udp_ports_through_the_tunnel,
         test_tunnel_over_ipv6_and_udp_channel_idle_timeout)
