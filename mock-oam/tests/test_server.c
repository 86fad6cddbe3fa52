/* mock-oam as a process: real sockets, real TLS, signals, limits. */
#include "testutil.h"

#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct srv {
	pid_t pid;
	char *dir, *events, *accounts, *keylog;
	char https[64], http[64]; /* bound addresses */
};

static char *events_text(struct srv *s)
{
	char *t = NULL;

	if (file_read(s->events, 4 << 20, &t, NULL))
		return strdup("");
	return t;
}

/* Every line of event names addr as the server the client reached. */
static void assert_local(struct srv *s, const char *event, const char *addr)
{
	char *t = events_text(s);

	tu_assert_journal_local(t, event, addr);
	free(t);
}

/* Polls the journal for a line containing needle, up to ms milliseconds. */
static int wait_event(struct srv *s, const char *needle, int ms)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		char *t = events_text(s);
		int found = strstr(t, needle) != NULL;
		free(t);
		if (found)
			return 1;
		poll(NULL, 0, 20);
	}
	return 0;
}

static void find_addr(struct srv *s, const char *scheme, char *out, size_t len)
{
	char needle[64], *t = events_text(s), *p;

	snprintf(needle, sizeof(needle), "\"scheme\":\"%s\",\"address\":\"", scheme);
	p = strstr(t, needle);
	ck_assert_ptr_nonnull(p);
	p += strlen(needle);
	snprintf(out, len, "%.*s", (int)strcspn(p, "\""), p);
	free(t);
}

static void start(struct srv *s, const char *extra_config)
{
	char *oam = tu_build_path("mock-oam/mock-oam"), *cfg, *secret, text[2048];
	const char *certs = tu_certs_dir();

	memset(s, 0, sizeof(*s));
	ck_assert_ptr_nonnull(certs);
	s->dir = tu_mkdtemp();
	ck_assert_int_ge(asprintf(&s->events, "%s/events.jsonl", s->dir), 0);
	ck_assert_int_ge(asprintf(&s->keylog, "%s/keys.log", s->dir), 0);
	{
		char *a = NULL;
		ck_assert_int_eq(file_read(ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json",
		                           1 << 20, &a, NULL),
		                 0);
		s->accounts = tu_write(s->dir, "accounts.json", a);
		free(a);
	}
	secret = tu_write(s->dir, "secret", "s3cret-for-tests\n");
	snprintf(text, sizeof(text),
	         "{\"listen\":[\"127.0.0.1:0\"],\"http_listen\":[\"127.0.0.1:0\"],"
	         "\"cert\":\"%s/localhost.pem\",\"key\":\"%s/localhost.key\","
	         "\"accounts\":\"%s\",\"jwt_secret_file\":\"%s\",\"events\":\"%s\","
	         "\"keylog\":\"%s\"%s%s}",
	         certs, certs, s->accounts, secret, s->events, s->keylog, extra_config ? "," : "",
	         extra_config ? extra_config : "");
	cfg = tu_write(s->dir, "config.json", text);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		execl(oam, oam, "--config", cfg, "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	ck_assert_msg(wait_event(s, "\"event\":\"server.start\"", 5000), "server did not start");
	find_addr(s, "https", s->https, sizeof(s->https));
	find_addr(s, "http", s->http, sizeof(s->http));
	free(oam);
	free(cfg);
	free(secret);
}

static int stop(struct srv *s)
{
	int st = -1;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (int i = 0; i < 250 && waitpid(s->pid, &st, WNOHANG) == 0; i++)
			poll(NULL, 0, 20);
		if (waitpid(s->pid, &st, WNOHANG) == 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
		}
	}
	tu_rmtree(s->dir);
	free(s->dir);
	free(s->events);
	free(s->accounts);
	free(s->keylog);
	return st;
}

static int connect_to(const char *addr)
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
	return fd;
}

/* Sends one request (over TLS when tls), returns the status; *body gets the body. */
static int request(const char *addr, int tls, const char *method, const char *path,
                   const char *auth, const char *body, char **bodyp)
{
	char req[16384], resp[65536], authh[4200] = "";
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	size_t got = 0;
	int fd = connect_to(addr), status = -1;

	if (auth)
		snprintf(authh, sizeof(authh), "Authorization: Bearer %s\r\n", auth);
	snprintf(req, sizeof(req),
	         "%s %s HTTP/1.1\r\nHost: onsight.librestream.com\r\n%sConnection: close\r\n"
	         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	         method, path, authh, body ? strlen(body) : 0, body ? body : "");
	if (tls) {
		char ca[4096];
		snprintf(ca, sizeof(ca), "%s/ca.pem", tu_certs_dir());
		ck_assert_int_eq(tls_client_ctx(&ctx, ca, NULL), 0);
		ssl = tls_client_ssl(ctx, fd, "localhost");
	}
	for (size_t off = 0, n = strlen(req); off < n;) {
		struct pollfd p = {.fd = fd, .events = POLLOUT | POLLIN};
		int w;
		poll(&p, 1, 2000);
		w = tls ? SSL_write(ssl, req + off, (int)(n - off))
		        : (int)write(fd, req + off, n - off);
		if (w > 0)
			off += (size_t)w;
		else if (!(tls ? (SSL_get_error(ssl, w) == SSL_ERROR_WANT_READ ||
		                  SSL_get_error(ssl, w) == SSL_ERROR_WANT_WRITE)
		               : errno == EAGAIN))
			goto out;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r;
		if (poll(&p, 1, 5000) <= 0)
			break;
		r = tls ? SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got))
		        : (int)read(fd, resp + got, sizeof(resp) - 1 - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (tls && SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ)
			continue;
		if (!tls && r < 0 && errno == EAGAIN)
			continue;
		break;
	}
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	if (bodyp) {
		char *b = strstr(resp, "\r\n\r\n");
		*bodyp = strdup(b ? b + 4 : "");
	}
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return status;
}

static char *token_of(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	char *t = strdup(json_string_value(json_object_get(j, "token")));

	json_decref(j);
	return t;
}

START_TEST(test_server_https_login_config_and_journal)
{
	struct srv s;
	char *body = NULL, *tok, *ev, *keys = NULL;

	start(&s, NULL);
	ck_assert_int_eq(
	        request(s.https, 1, "POST", "/api/v1/login", NULL,
	                "{\"username\":\"alice\",\"password\":\"alice-pw\",\"device_id\":\"x\"}",
	                &body),
	        200);
	tok = token_of(body);
	free(body);
	ck_assert_int_eq(request(s.https, 1, "GET", "/api/v1/config", tok, NULL, &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "\"sip_uri\":\"sip:alice@librestream.com\""));
	free(body);
	ck_assert_int_eq(request(s.http, 0, "GET", "/healthz", NULL, NULL, NULL), 200);
	ck_assert(wait_event(&s, "\"event\":\"config\"", 2000));
	ev = events_text(&s);
	ck_assert_ptr_nonnull(
	        strstr(ev, "\"event\":\"login\",\"client\":\"127.0.0.1\",\"scheme\":\"https\""));
	ck_assert_ptr_nonnull(strstr(ev, "\"event\":\"health\""));
	free(ev);
	assert_local(&s, "login", s.https);
	assert_local(&s, "config", s.https);
	assert_local(&s, "health", s.http);
	/* Server-side TLS secrets for Wireshark. */
	ck_assert_int_eq(file_read(s.keylog, 1 << 20, &keys, NULL), 0);
	ck_assert_ptr_nonnull(strstr(keys, "SERVER_TRAFFIC_SECRET_0 "));
	free(keys);
	free(tok);
	ck_assert_int_eq(stop(&s), 0);
}
END_TEST

START_TEST(test_server_trickling_client_is_cut_at_deadline)
{
	struct srv s;
	const char *req = "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n";
	time_t t0;
	int fd, closed = 0;

	start(&s, "\"request_deadline\":2,\"idle_timeout\":30");
	fd = connect_to(s.http);
	t0 = time(NULL);
	/* One byte every 100 ms: never idle, never finished. */
	for (size_t i = 0; i < 200 && !closed; i++) {
		char c = req[i % strlen(req)];
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (write(fd, &c, 1) != 1) {
			closed = 1;
			break;
		}
		if (poll(&p, 1, 100) == 1) {
			char b[256];
			closed = read(fd, b, sizeof(b)) <= 0;
		}
	}
	ck_assert_msg(closed, "connection still open after 20 s");
	ck_assert_int_le(time(NULL) - t0, 5);
	ck_assert(wait_event(&s, "\"event\":\"http.deadline\"", 2000));
	assert_local(&s, "http.deadline", s.http);
	close(fd);
	ck_assert_int_eq(stop(&s), 0);
}
END_TEST

START_TEST(test_server_oversized_body_refused)
{
	struct srv s;
	char *big = malloc(20000), *body = NULL;

	start(&s, NULL);
	memset(big, 'a', 19999);
	big[19999] = '\0';
	ck_assert_int_eq(request(s.https, 1, "POST", "/api/v1/login", NULL, big, &body), 413);
	ck_assert_ptr_nonnull(strstr(body, "body_too_large"));
	free(body);
	free(big);
	ck_assert_int_eq(stop(&s), 0);
}
END_TEST

START_TEST(test_server_sighup_reloads_accounts_and_keeps_them_on_error)
{
	struct srv s;
	json_t *root;
	char *text;
	const char *newuser =
	        "{\"username\":\"zed\",\"password\":\"alice-pw\",\"device_id\":\"x\"}";

	start(&s, NULL);
	ck_assert_int_eq(request(s.http, 0, "POST", "/api/v1/login", NULL, newuser, NULL), 401);
	root = json_load_file(s.accounts, 0, NULL);
	json_object_set_new(json_array_get(json_object_get(root, "accounts"), 0), "username",
	                    json_string("zed"));
	text = json_dumps(root, 0);
	free(tu_write(s.dir, "accounts.json", text));
	kill(s.pid, SIGHUP);
	ck_assert(wait_event(&s, "\"event\":\"accounts.reload\",\"ok\":true", 3000));
	ck_assert_int_eq(request(s.http, 0, "POST", "/api/v1/login", NULL, newuser, NULL), 200);
	/* A broken file is refused and the loaded accounts stay in service. */
	free(tu_write(s.dir, "accounts.json", "{ broken"));
	kill(s.pid, SIGHUP);
	ck_assert(wait_event(&s, "\"event\":\"accounts.reload\",\"ok\":false", 3000));
	ck_assert_int_eq(request(s.http, 0, "POST", "/api/v1/login", NULL, newuser, NULL), 200);
	free(text);
	json_decref(root);
	ck_assert_int_eq(stop(&s), 0);
}
END_TEST

static int run_cli(const char *args, char *out, size_t outlen)
{
	char *oam = tu_build_path("mock-oam/mock-oam"), cmd[8192];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", oam, args);
	p = popen(cmd, "r");
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	free(oam);
	return WEXITSTATUS(st);
}

START_TEST(test_server_check_config_and_usage_errors)
{
	char out[4096], args[4096];
	const char *certs = tu_certs_dir();
	char *dir = tu_mkdtemp(), *secret = tu_write(dir, "s", "k\n");
	char *bad = tu_write(dir, "bad.json", "{\"accounts\":[{\"username\":\"a\"}]}");

	snprintf(args, sizeof(args),
	         "--check-config --listen 127.0.0.1:0 --cert %s/localhost.pem --key "
	         "%s/localhost.key --accounts %s/mock-oam/examples/accounts.json "
	         "--jwt-secret-file %s",
	         certs, certs, ONSIGHT_SOURCE_DIR, secret);
	ck_assert_int_eq(run_cli(args, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "configuration OK"));
	snprintf(args, sizeof(args),
	         "--check-config --http-listen 127.0.0.1:0 --accounts %s "
	         "--jwt-secret-file %s",
	         bad, secret);
	ck_assert_int_eq(run_cli(args, out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "bad.json: $.accounts[0]:") != NULL, "%s", out);
	ck_assert_int_eq(run_cli("--accounts x", out, sizeof(out)), 2);
	ck_assert_ptr_nonnull(strstr(out, "--jwt-secret-file is required"));
	ck_assert_int_eq(run_cli("--token-ttl abc", out, sizeof(out)), 2);
	ck_assert_int_eq(run_cli("--version", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "mock-oam "));
	ck_assert_int_eq(run_cli("--help", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: mock-oam"));
	free(secret);
	free(bad);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_server_per_ip_connection_limit)
{
	struct srv s;
	int held[2], extra, closed = 0;
	struct pollfd p;
	char b[64];

	start(&s, "\"max_per_ip\":2");
	held[0] = connect_to(s.http);
	held[1] = connect_to(s.http);
	poll(NULL, 0, 100); /* let the server accept both */
	extra = connect_to(s.http);
	p.fd = extra;
	p.events = POLLIN;
	/* The third connection from the same address is closed without an answer. */
	if (poll(&p, 1, 3000) == 1)
		closed = read(extra, b, sizeof(b)) <= 0;
	ck_assert_msg(closed, "third connection from one address was not refused");
	close(extra);
	close(held[0]);
	close(held[1]);
	/* Once the server has seen those close, the address may connect again. */
	{
		int st = -1;
		for (int i = 0; i < 40 && st != 200; i++) {
			st = request(s.http, 0, "GET", "/healthz", NULL, NULL, NULL);
			if (st != 200)
				poll(NULL, 0, 50);
		}
		ck_assert_int_eq(st, 200);
	}
	ck_assert_int_eq(stop(&s), 0);
}
END_TEST

TU_SUITE("server", test_server_per_ip_connection_limit, test_server_https_login_config_and_journal,
         test_server_trickling_client_is_cut_at_deadline, test_server_oversized_body_refused,
         test_server_sighup_reloads_accounts_and_keeps_them_on_error,
         test_server_check_config_and_usage_errors)
