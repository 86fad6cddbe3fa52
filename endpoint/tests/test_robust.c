/* test_robust - onsight-ref against servers that misbehave: bad certificates, malformed
 * configuration, SIP garbage, servers that vanish. Each case must give a clear status line
 * and a retry with backoff, never a crash. Loopback only, ephemeral ports. */
#include "mock/fakesrv.h"

#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 8000

/* The last lines of what the endpoint printed (check caps its messages). */
static const char *tail(const struct epchild *e)
{
	if (!e->text)
		return "(nothing)";
	return e->len > 1500 ? e->text + e->len - 1500 : e->text;
}

static char *dir, *pwfile, *bin, *secret, *accounts;
static char ca[4096];

static void setup(void)
{
	dir = tu_mkdtemp();
	pwfile = tu_write(dir, "pw", "alice-pw\n");
	secret = tu_write(dir, "secret", "0123456789abcdef0123456789abcdef\n");
	bin = tu_build_path("endpoint/onsight-ref");
	snprintf(ca, sizeof(ca), "%s/ca.pem", tu_certs_dir());
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	free(pwfile);
	free(secret);
	free(bin);
	free(accounts);
	accounts = NULL;
}

/* A configuration document with the public SIP server at 127.0.0.1:sip_port and TCM and
 * TeamLink server tl ("localhost" or "localhost:PORT"). */
static char *config_doc_tl(unsigned sip_port, int teamlink, const char *tl)
{
	char *s = malloc(2048);

	snprintf(s, 2048,
	         "{\"user\":{\"sip_uri\":\"sip:alice@librestream.com\",\"display_name\":\"A\"},"
	         "\"sip\":{\"auth_user\":\"alice\",\"auth_password\":\"alice-pw-sip\","
	         "\"transport\":\"tcp\",\"public\":{\"host\":\"127.0.0.1\",\"port\":%u},"
	         "\"private\":null,\"register_expires\":300},"
	         "\"media\":{\"port_min\":20000,\"port_max\":20999},"
	         "\"stun\":{\"host\":\"127.0.0.1\",\"port\":3478},"
	         "\"teamlink\":{\"enabled\":%s,\"connection\":\"auto\",\"detect_method\":\"sip\","
	         "\"tcm\":[\"%s\"],\"servers\":[\"%s\"],\"proxy\":null}}",
	         sip_port, teamlink ? "true" : "false", tl, tl);
	return s;
}

static char *config_doc(unsigned sip_port, int teamlink)
{
	return config_doc_tl(sip_port, teamlink, "localhost");
}

static char *http_ok(const char *body)
{
	char *s = malloc(strlen(body) + 256);

	sprintf(s,
	        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	        "Connection: close\r\n\r\n%s",
	        strlen(body), body);
	return s;
}

static const char *login_ok =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Content-Length: 60\r\nConnection: close\r\n\r\n"
        "{\"token\":\"tok\",\"expires_in\":3600,\"config_url\":\"https://x/y\"}";

static void spawn_ep(struct epchild *e, unsigned oam_port, const char *extra1, const char *extra2)
{
	char url[64];
	char *argv[24];
	int n = 0;

	snprintf(url, sizeof(url), "https://localhost:%u", oam_port);
	argv[n++] = bin;
	argv[n++] = "--oam";
	argv[n++] = url;
	argv[n++] = "--user";
	argv[n++] = "alice";
	argv[n++] = "--password-file";
	argv[n++] = pwfile;
	argv[n++] = "--ca";
	argv[n++] = ca;
	argv[n++] = "--retry-min";
	argv[n++] = "100";
	argv[n++] = "--retry-max";
	argv[n++] = "400";
	argv[n++] = "--sip-timeout";
	argv[n++] = "600";
	argv[n++] = "--http-timeout";
	argv[n++] = "2000";
	argv[n++] = "--no-netwatch";
	argv[n++] = "--duration";
	argv[n++] = "30";
	if (extra1)
		argv[n++] = (char *)extra1;
	if (extra2)
		argv[n++] = (char *)extra2;
	argv[n] = NULL;
	ck_assert_int_eq(ep_spawn(e, argv), 0);
}

static void stop_ep(struct epchild *e)
{
	kill(e->pid, SIGTERM);
	ck_assert_int_eq(ep_finish(e, 5000), 0); /* clean exit on SIGTERM, no crash */
	free(e->text);
}

/* mock-oam serving with the given certificate from mkcerts. */
static pid_t start_oam(const char *certname, unsigned *port)
{
	char cert[4200], key[4200], listen[64], *oam = tu_build_path("mock-oam/mock-oam");
	struct fakesrv probe;
	pid_t pid;

	snprintf(cert, sizeof(cert), "%s/%s.pem", tu_certs_dir(), certname);
	snprintf(key, sizeof(key), "%s/%s.key", tu_certs_dir(), certname);
	/* Take a free port from the kernel, then hand it to mock-oam (it reports no port). */
	ck_assert_int_eq(fake_tcp(&probe, NULL, 0, 1), 0);
	fake_stop(&probe);
	*port = probe.port;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", *port);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", 1);

		dup2(null, 2);
		execl(oam, oam, "--listen", listen, "--cert", cert, "--key", key, "--accounts",
		      ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json", "--jwt-secret-file",
		      secret, (char *)NULL);
		_exit(127);
	}
	free(oam);
	return pid;
}

static void stop_pid(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void refuses_certificate(const char *certname, const char *why)
{
	struct epchild e;
	unsigned port;
	pid_t oam;
	const char *const fail[] = {"\"event\":\"login\"", "\"ok\":false", why, NULL};
	const char *const retry[] = {"\"event\":\"error\"", "\"what\":\"login\"", "retry_in_ms",
	                             NULL};

	setup();
	oam = start_oam(certname, &port);
	spawn_ep(&e, port, NULL, NULL);
	ck_assert_msg(ep_wait(&e, WAIT_MS, fail), "no refusal for %s: %s", certname, tail(&e));
	ck_assert(ep_wait(&e, WAIT_MS, retry));
	ck_assert_int_eq(ep_count(&e, "\"event\":\"config\""), 0);
	stop_ep(&e);
	stop_pid(oam);
	teardown();
}

START_TEST(test_endpoint_refuses_an_expired_certificate)
{
	refuses_certificate("expired", "expired");
}
END_TEST

START_TEST(test_endpoint_refuses_a_certificate_for_another_name)
{
	refuses_certificate("wrong-name", "certificate");
}
END_TEST

START_TEST(test_endpoint_refuses_an_untrusted_certificate)
{
	refuses_certificate("untrusted", "certificate");
}
END_TEST

START_TEST(test_fault_ignore_cert_errors_logs_in_despite_an_expired_certificate)
{
	struct epchild e;
	unsigned port;
	pid_t oam;
	const char *const ok[] = {"\"event\":\"login\"", "\"ok\":true", NULL};

	setup();
	oam = start_oam("expired", &port);
	spawn_ep(&e, port, "--fault", "ignore-cert-errors");
	ck_assert_msg(ep_wait(&e, WAIT_MS, ok), "%s", tail(&e));
	stop_ep(&e);
	stop_pid(oam);
	teardown();
}
END_TEST

START_TEST(test_malformed_configuration_gives_a_status_line_and_a_retry)
{
	char cert[4200], key[4200];
	struct fakesrv oam;
	struct epchild e;
	char *bad = http_ok("{\"user\": {\"sip_uri\": ");
	struct fake_route routes[] = {{"/api/v1/login", login_ok}, {"/api/v1/config", bad}, {0, 0}};
	const char *const cfg[] = {"\"event\":\"config\"", "\"ok\":false", "$: line", NULL};
	const char *const retry[] = {"\"what\":\"config\"", "retry_in_ms", NULL};

	setup();
	snprintf(cert, sizeof(cert), "%s/localhost.pem", tu_certs_dir());
	snprintf(key, sizeof(key), "%s/localhost.key", tu_certs_dir());
	ck_assert_int_eq(fake_https(&oam, cert, key, routes), 0);
	spawn_ep(&e, oam.port, NULL, NULL);
	ck_assert_msg(ep_wait(&e, WAIT_MS, cfg), "%s", tail(&e));
	ck_assert(ep_wait(&e, WAIT_MS, retry));
	/* The retry happens: a second login after the backoff. */
	{
		const char *const second[] = {"\"retry_in_ms\":200", NULL};

		ck_assert_msg(ep_wait(&e, WAIT_MS, second), "%s", tail(&e));
	}
	ck_assert_int_ge(ep_count(&e, "\"event\":\"login\""), 2);
	stop_ep(&e);
	fake_stop(&oam);
	free(bad);
	teardown();
}
END_TEST

/* OAM serving a good document whose SIP server is srv. */
static void run_against_sip(struct fakesrv *sip, const char *const *expect, int teamlink,
                            const char *extra1, const char *extra2)
{
	char cert[4200], key[4200];
	struct fakesrv oam;
	struct epchild e;
	char *doc = config_doc(sip->port, teamlink), *cfg = http_ok(doc);
	struct fake_route routes[] = {{"/api/v1/login", login_ok}, {"/api/v1/config", cfg}, {0, 0}};
	const char *const again[] = {"\"event\":\"sip.server\"", NULL};

	snprintf(cert, sizeof(cert), "%s/localhost.pem", tu_certs_dir());
	snprintf(key, sizeof(key), "%s/localhost.key", tu_certs_dir());
	ck_assert_int_eq(fake_https(&oam, cert, key, routes), 0);
	spawn_ep(&e, oam.port, extra1, extra2);
	ck_assert_msg(ep_wait(&e, WAIT_MS, expect), "%s", tail(&e));
	/* ... and it tries again after the backoff. */
	ck_assert(ep_wait(&e, WAIT_MS, again));
	{
		const char *const later[] = {"\"retry_in_ms\":200", NULL};

		ck_assert_msg(ep_wait(&e, WAIT_MS, later), "%s", tail(&e));
	}
	ck_assert_int_ge(ep_count(&e, "\"event\":\"sip.server\""), 2);
	stop_ep(&e);
	fake_stop(&oam);
	free(doc);
	free(cfg);
}

START_TEST(test_sip_garbage_gives_a_status_line_and_a_retry)
{
	static const char junk[] = "\x16\x03\x01garbage\r\n\r\nHTTP/1.1 400 Bad\r\n\r\n\xff\xfe";
	struct fakesrv sip;
	const char *const expect[] = {"\"event\":\"error\"", "retry_in_ms", NULL};

	setup();
	ck_assert_int_eq(fake_tcp(&sip, junk, sizeof(junk) - 1, 0), 0);
	run_against_sip(&sip, expect, 0, NULL, NULL);
	fake_stop(&sip);
	teardown();
}
END_TEST

START_TEST(test_sip_server_that_vanishes_gives_a_status_line_and_a_retry)
{
	struct fakesrv sip;
	const char *const expect[] = {"\"event\":\"error\"", "\"what\":\"sip\"",
	                              "server closed the connection", NULL};

	setup();
	ck_assert_int_eq(fake_tcp(&sip, NULL, 0, 1), 0);
	run_against_sip(&sip, expect, 0, NULL, NULL);
	fake_stop(&sip);
	teardown();
}
END_TEST

START_TEST(test_oam_that_is_gone_gives_login_failures_with_growing_backoff)
{
	struct fakesrv gone;
	struct epchild e;
	const char *const first[] = {"\"what\":\"login\"", "\"retry_in_ms\":100", NULL};
	const char *const later[] = {"\"what\":\"login\"", "\"retry_in_ms\":400", NULL};

	setup();
	ck_assert_int_eq(fake_tcp(&gone, NULL, 0, 1), 0);
	fake_stop(&gone); /* the port is now closed */
	spawn_ep(&e, gone.port, NULL, NULL);
	ck_assert(ep_wait(&e, WAIT_MS, first));
	ck_assert_msg(ep_wait(&e, WAIT_MS, later), "%s", tail(&e));
	stop_ep(&e);
	teardown();
}
END_TEST

START_TEST(test_closed_detect_ports_send_the_endpoint_to_teamlink)
{
	struct fakesrv sip, closed;
	char ports[64];
	const char *const expect[] = {"\"event\":\"detect\"", "\"result\":\"teamlink\"", NULL};

	setup();
	ck_assert_int_eq(fake_tcp(&sip, NULL, 0, 1), 0);
	ck_assert_int_eq(fake_tcp(&closed, NULL, 0, 1), 0);
	fake_stop(&closed);
	snprintf(ports, sizeof(ports), "%u,%u,%u,%u", closed.port, closed.port, closed.port,
	         closed.port);
	{
		char cert[4200], key[4200];
		struct fakesrv oam;
		struct epchild e;
		char *doc = config_doc(sip.port, 1), *cfg = http_ok(doc);
		struct fake_route routes[] = {
		        {"/api/v1/login", login_ok}, {"/api/v1/config", cfg}, {0, 0}};
		const char *const tunnel[] = {"\"event\":\"tunnel\"", "\"state\":\"failed\"", NULL};

		snprintf(cert, sizeof(cert), "%s/localhost.pem", tu_certs_dir());
		snprintf(key, sizeof(key), "%s/localhost.key", tu_certs_dir());
		ck_assert_int_eq(fake_https(&oam, cert, key, routes), 0);
		spawn_ep(&e, oam.port, "--detect-ports", ports);
		ck_assert_msg(ep_wait(&e, WAIT_MS, expect), "%s", tail(&e));
		ck_assert_int_eq(ep_count(&e, "\"ok\":true,\"reason\":\"answered\""), 0);
		ck_assert_msg(ep_wait(&e, WAIT_MS, tunnel), "%s", tail(&e));
		stop_ep(&e);
		fake_stop(&oam);
		free(doc);
		free(cfg);
	}
	fake_stop(&sip);
	teardown();
}
END_TEST

START_TEST(test_tunnel_errors_give_status_lines_and_a_retry)
{
	struct fakesrv sip, closed, tl, oam;
	struct epchild e;
	char ports[64], cert[4200], key[4200], tlhost[64];
	const char *tcm_bad = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                      "Content-Length: 10\r\nConnection: close\r\n\r\n{\"server\":";
	const char *up_401 = "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
	                     "Content-Length: 25\r\nConnection: close\r\n\r\n"
	                     "{\"error\":\"invalid_token\"}";
	struct fake_route tlroutes[] = {
	        {"/tcm/v1/assign", tcm_bad}, {"/teamlink/v1/tunnel", up_401}, {0, 0}};
	const char *const tcm[] = {"\"event\":\"tcm\"", "not a usable assignment", NULL};
	const char *const failed[] = {"\"event\":\"tunnel\"", "\"state\":\"failed\"", "401", NULL};
	const char *const retry[] = {"\"what\":\"tunnel\"", "retry_in_ms", NULL};
	const char *const again[] = {"\"what\":\"tunnel\"", "\"retry_in_ms\":200", NULL};

	setup();
	snprintf(cert, sizeof(cert), "%s/localhost.pem", tu_certs_dir());
	snprintf(key, sizeof(key), "%s/localhost.key", tu_certs_dir());
	ck_assert_int_eq(fake_tcp(&sip, NULL, 0, 1), 0);
	ck_assert_int_eq(fake_tcp(&closed, NULL, 0, 1), 0);
	fake_stop(&closed);
	ck_assert_int_eq(fake_https(&tl, cert, key, tlroutes), 0);
	snprintf(ports, sizeof(ports), "%u,%u,%u,%u", closed.port, closed.port, closed.port,
	         closed.port);
	snprintf(tlhost, sizeof(tlhost), "localhost:%u", tl.port);
	{
		char *doc = config_doc_tl(sip.port, 1, tlhost), *cfg = http_ok(doc);
		struct fake_route routes[] = {
		        {"/api/v1/login", login_ok}, {"/api/v1/config", cfg}, {0, 0}};

		ck_assert_int_eq(fake_https(&oam, cert, key, routes), 0);
		spawn_ep(&e, oam.port, "--detect-ports", ports);
		ck_assert_msg(ep_wait(&e, WAIT_MS, tcm), "%s", tail(&e));
		ck_assert_msg(ep_wait(&e, WAIT_MS, failed), "%s", tail(&e));
		ck_assert_msg(ep_wait(&e, WAIT_MS, retry), "%s", tail(&e));
		ck_assert_msg(ep_wait(&e, WAIT_MS, again), "%s", tail(&e));
		stop_ep(&e);
		fake_stop(&oam);
		free(doc);
		free(cfg);
	}
	fake_stop(&tl);
	fake_stop(&sip);
	teardown();
}
END_TEST

TU_SUITE("robust", test_endpoint_refuses_an_expired_certificate,
         test_endpoint_refuses_a_certificate_for_another_name,
         test_endpoint_refuses_an_untrusted_certificate,
         test_fault_ignore_cert_errors_logs_in_despite_an_expired_certificate,
         test_malformed_configuration_gives_a_status_line_and_a_retry,
         test_sip_garbage_gives_a_status_line_and_a_retry,
         test_sip_server_that_vanishes_gives_a_status_line_and_a_retry,
         test_oam_that_is_gone_gives_login_failures_with_growing_backoff,
         test_closed_detect_ports_send_the_endpoint_to_teamlink,
         test_tunnel_errors_give_status_lines_and_a_retry)
