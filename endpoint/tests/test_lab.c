/* test_lab - onsight-ref in the lab (mock-firewall namespaces, address plan of docs/lab.md)
 * against mock-oam, mock-sip (cloud, enterprise public, enterprise private), mock-teamlink:
 * the four scenarios of the note, calls both ways with media, migration, and every fault's
 * deviation as it shows in the endpoint's journal and the services' journals.
 *
 * Skips (exit 77, reported as skipped by CTest) when namespaces cannot be created here. */
#include "mock/fakesrv.h"

#include "fwlab.h"
#include "onsight/evloop.h"
#include "onsight/netns.h"
#include "onsight/sock.h"
#include "onsight/util.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SVC 8
#define WAIT_MS 12000

struct lab {
	struct fwlab *l;
	char *dir;
	char certs[4096];
	char *accounts, *secret;
	pid_t svc[MAX_SVC];
	int nsvc;
	pid_t oam;
};

static struct lab L;

static void lab_cleanup(void)
{
	for (int i = 0; i < L.nsvc; i++)
		if (L.svc[i] > 0)
			kill(L.svc[i], SIGTERM);
	for (int i = 0; i < L.nsvc; i++)
		if (L.svc[i] > 0)
			(void)netns_waitpid(L.svc[i], NULL, 3000);
	L.nsvc = 0;
	if (L.l)
		fwlab_down(L.l);
	L.l = NULL;
	if (L.dir) {
		tu_rmtree(L.dir);
		free(L.dir);
		L.dir = NULL;
	}
}

static char *bin(const char *rel)
{
	return tu_build_path(rel);
}

static pid_t spawn(const char *role, char *const argv[], int out_fd)
{
	pid_t pid = 0;
	char log[4200];
	int err_fd;

	snprintf(log, sizeof(log), "%s/%s.%s.log", L.dir, strrchr(argv[0], '/') + 1, role);
	err_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_int_eq(fwlab_spawn(L.l, role, argv, out_fd, err_fd, &pid), 0);
	if (err_fd >= 0)
		close(err_fd);
	return pid;
}

static void track(pid_t pid)
{
	ck_assert_int_lt(L.nsvc, MAX_SVC);
	L.svc[L.nsvc++] = pid;
}

/* Nothing to wait on for "a port starts listening" but time: retry every 20 ms within the
 * bound, connecting from inside the namespace. */
static void wait_listening(const char *role, const char *addrport)
{
	uint64_t end = evloop_now_ms() + 10000;
	struct sock_addr sa;

	ck_assert_int_eq(sock_addr_parse(&sa, addrport, 0), 0);
	for (;;) {
		int fd = netns_socket(fwlab_netns(L.l, role), AF_INET, SOCK_STREAM, 0);
		int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa.ss, sa.len) == 0;

		if (fd >= 0)
			close(fd);
		if (ok)
			return;
		ck_assert_msg(evloop_now_ms() < end, "%s not listening in %s", addrport, role);
		poll(NULL, 0, 20);
	}
}

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", L.dir, name);
}

static pid_t start_oam(const char *certname)
{
	char *oam = bin("mock-oam/mock-oam"), cert[4200], key[4200], ev[4200];
	char *argv[] = {
	        oam,          "--listen", "203.0.113.10:443",  "--cert", cert,       "--key", key,
	        "--accounts", L.accounts, "--jwt-secret-file", L.secret, "--events", ev,      NULL};
	pid_t pid;

	snprintf(cert, sizeof(cert), "%s/%s.pem", L.certs, certname);
	snprintf(key, sizeof(key), "%s/%s.key", L.certs, certname);
	path_in(ev, sizeof(ev), "mock-oam.jsonl");
	pid = spawn("net", argv, -1);
	free(oam);
	wait_listening("net", "203.0.113.10:443");
	return pid;
}

static void start_sip(const char *name, const char *role, const char *addr, const char *cn)
{
	char *sip = bin("mock-sip/mock-sip"), cert[4200], key[4200], ev[4200], ctl[4200], lp[64];
	char *argv[] = {sip,          "--listen", (char *)addr, "--media-addr",
	                (char *)addr, "--cert",   cert,         "--key",
	                key,          "--users",  L.accounts,   "--control",
	                ctl,          "--events", ev,           NULL};

	snprintf(cert, sizeof(cert), "%s/%s.pem", L.certs, cn);
	snprintf(key, sizeof(key), "%s/%s.key", L.certs, cn);
	snprintf(ev, sizeof(ev), "%s/%s.jsonl", L.dir, name);
	snprintf(ctl, sizeof(ctl), "%s/%s.ctl", L.dir, name);
	track(spawn(role, argv, -1));
	free(sip);
	snprintf(lp, sizeof(lp), "%s:5060", addr);
	wait_listening(role, lp);
}

static void start_teamlink(void)
{
	char *tl = bin("mock-teamlink/mock-teamlink"), cert[4200], key[4200], ev[4200], ca[4200];
	char *argv[] = {tl,
	                "--jwt-secret-file",
	                L.secret,
	                "--cert",
	                cert,
	                "--key",
	                key,
	                "--upstream-ca",
	                ca,
	                "--tcm-https",
	                "203.0.113.30:443",
	                "--detect",
	                "203.0.113.30",
	                "--tunnel-https",
	                "203.0.113.41:443",
	                "--tunnel-http",
	                "203.0.113.41:80",
	                "--tunnel-https",
	                "203.0.113.42:443",
	                "--tunnel-http",
	                "203.0.113.42:80",
	                "--detect",
	                "203.0.113.41",
	                "--tcm-server",
	                "teamlink1.librestream.com:443:https",
	                "--tcm-server",
	                "teamlink2.librestream.com:443:https",
	                "--events",
	                ev,
	                NULL};

	snprintf(cert, sizeof(cert), "%s/wildcard.librestream.com.pem", L.certs);
	snprintf(key, sizeof(key), "%s/wildcard.librestream.com.key", L.certs);
	snprintf(ca, sizeof(ca), "%s/ca.pem", L.certs);
	path_in(ev, sizeof(ev), "mock-teamlink.jsonl");
	track(spawn("net", argv, -1));
	free(tl);
	wait_listening("net", "203.0.113.41:443");
	wait_listening("net", "203.0.113.30:443");
}

/* Brings the lab up with profile and every service of the address plan. */
static void lab_start(const char *profile)
{
	char err[512], prefix[16], why[256];

	memset(&L, 0, sizeof(L));
	if (fwlab_available(why, sizeof(why)) != 0)
		ck_abort_msg("namespaces became unavailable: %s", why);
	L.dir = tu_mkdtemp();
	str_copy(L.certs, tu_certs_dir(), sizeof(L.certs));
	L.secret = tu_write(L.dir, "jwt-secret", "onsight-lab-endpoint-test-secret\n");
	L.accounts = strdup(ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json");
	snprintf(prefix, sizeof(prefix), "ept%d", (int)(getpid() % 100000));
	atexit(lab_cleanup); /* a failed assertion exits the test's process */
	ck_assert_msg(fwlab_up(&L.l, profile, prefix, err, sizeof(err)) == 0, "lab: %s", err);
	L.oam = start_oam("onsight.librestream.com");
	track(L.oam);
	start_sip("mock-sip", "net", "203.0.113.20", "sip.librestream.com");
	start_sip("mock-sip-public", "net", "203.0.113.60", "vcs-expressway.corp.example");
	start_sip("mock-sip-private", "lan", "198.51.100.5", "vcs-control.corp.example");
	start_teamlink();
}

/* ---- the endpoint ---- */

struct ep {
	struct epchild c;
};

static void ep_start(struct ep *e, const char *user, int proxy, const char *const *extra)
{
	char *ref = bin("endpoint/onsight-ref"), pw[4200], ca[4200], pwtext[64], ev[4200];
	char *argv[40];
	int n = 0, p[2];

	snprintf(pwtext, sizeof(pwtext), "%s-pw\n", user);
	snprintf(pw, sizeof(pw), "%s/%s.pw", L.dir, user);
	free(tu_write(L.dir, strrchr(pw, '/') + 1, pwtext));
	snprintf(ca, sizeof(ca), "%s/ca.pem", L.certs);
	path_in(ev, sizeof(ev), "onsight-ref.jsonl");
	argv[n++] = ref;
	argv[n++] = "--oam";
	argv[n++] = "https://onsight.librestream.com";
	argv[n++] = "--user";
	argv[n++] = (char *)user;
	argv[n++] = "--password-file";
	argv[n++] = pw;
	argv[n++] = "--ca";
	argv[n++] = ca;
	argv[n++] = "--events";
	argv[n++] = ev;
	argv[n++] = "--detect-timeout";
	argv[n++] = "400";
	argv[n++] = "--sip-timeout";
	argv[n++] = "2000";
	argv[n++] = "--retry-min";
	argv[n++] = "200";
	argv[n++] = "--retry-max";
	argv[n++] = "1000";
	argv[n++] = "--duration";
	argv[n++] = "40";
	argv[n++] = "--auto-answer";
	if (proxy) {
		argv[n++] = "--proxy";
		argv[n++] = "proxy.corp.example:3128";
	}
	for (int i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	memset(e, 0, sizeof(*e));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	e->c.pid = spawn("ep", argv, p[1]);
	close(p[1]);
	e->c.fd = p[0];
	free(ref);
}

static void ep_stop(struct ep *e)
{
	kill(e->c.pid, SIGTERM);
	ck_assert_int_eq(ep_finish(&e->c, 5000), 0);
	free(e->c.text);
	e->c.text = NULL;
}

static const char *tail(const struct ep *e)
{
	if (!e->c.text)
		return "(nothing)";
	return e->c.len > 1800 ? e->c.text + e->c.len - 1800 : e->c.text;
}

#define EXPECT(e, ...) \
	do { \
		const char *const nd_[] = {__VA_ARGS__, NULL}; \
		ck_assert_msg(ep_wait(&(e)->c, WAIT_MS, nd_), "missing %s ...\n%s", nd_[0], \
		              tail(e)); \
	} while (0)

/* The far end (mock-sip's peer) calls user through control socket name. */
static void call_in(const char *name, const char *user, int seconds)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char cmd[64], resp[512];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.ctl", L.dir, name);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(cmd, sizeof(cmd), "call %s %d\n", user, seconds);
	ck_assert_int_eq(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	n = read(fd, resp, sizeof(resp) - 1);
	ck_assert_int_gt(n, 0);
	resp[n] = '\0';
	ck_assert_msg(strstr(resp, "\"ok\":true"), "call %s: %s", user, resp);
	close(fd);
}

/* Media both ways on the call that ended in direction dir: tx and rx counters. */
static void expect_media(struct ep *e, const char *dir)
{
	const char *const ended[] = {"\"event\":\"call\"", "\"state\":\"ended\"", dir, NULL};
	const char *p;
	unsigned long tx = 0, rx = 0;

	ck_assert_msg(ep_wait(&e->c, WAIT_MS, ended), "call %s did not end\n%s", dir, tail(e));
	/* The "end" media report comes right before the call's "ended" line. */
	p = e->c.text;
	for (const char *q = p; (q = strstr(q, "\"when\":\"end\"")); q++) {
		const char *line = q;

		while (line > p && line[-1] != '\n')
			line--;
		const char *t = strstr(line, "\"tx_packets\":"),
		           *r = strstr(line, "\"rx_packets\":");

		if (t && r && t < q && r < q) {
			tx = strtoul(t + 13, NULL, 10);
			rx = strtoul(r + 13, NULL, 10);
		}
	}
	ck_assert_msg(tx >= 20 && rx >= 20, "media %s: tx %lu rx %lu\n%s", dir, tx, rx, tail(e));
}

/* Lines of a service journal (name.jsonl) containing every needle. */
static int journal_count(const char *name, const char *const *needles)
{
	char path[4200], *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.jsonl", L.dir, name);
	if (file_read(path, 64u << 20, &buf, &len) != 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int all = 1;

		for (int i = 0; needles[i]; i++)
			if (!strstr(line, needles[i]))
				all = 0;
		n += all;
	}
	free(buf);
	return n;
}

#define JOURNAL_HAS(name, ...) \
	do { \
		const char *const nd_[] = {__VA_ARGS__, NULL}; \
		ck_assert_msg(journal_count(name, nd_) > 0, "%s journal lacks %s", name, nd_[0]); \
	} while (0)
#define JOURNAL_LACKS(name, ...) \
	do { \
		const char *const nd_[] = {__VA_ARGS__, NULL}; \
		ck_assert_msg(journal_count(name, nd_) == 0, "%s journal has %s", name, nd_[0]); \
	} while (0)

/* Fault-free: registered by the expected path, a call in and a call out with media. */
static void calls_both_ways(struct ep *e, const char *ctl, const char *user)
{
	ep_mark(&e->c);
	call_in(ctl, user, 2);
	EXPECT(e, "\"event\":\"call\"", "\"state\":\"established\"", "\"direction\":\"in\"");
	expect_media(e, "\"direction\":\"in\"");
	EXPECT(e, "\"event\":\"call\"", "\"state\":\"established\"", "\"direction\":\"out\"");
	expect_media(e, "\"direction\":\"out\"");
}

static const char *const call_out[] = {
        "--call", "sip:peer@librestream.com", "--call-after", "3", "--call-hold", "2", NULL};

START_TEST(test_lab_s1_alice_registers_directly_and_calls_both_ways)
{
	struct ep e;
	const char *const f_probe[] = {"--fault", "probe-when-disabled", NULL};
	const char *const f_media[] = {"--fault",
	                               "media-out-of-range",
	                               "--call",
	                               "sip:peer@librestream.com",
	                               "--call-after",
	                               "0",
	                               "--call-hold",
	                               "1",
	                               NULL};
	const char *const f_cert[] = {"--fault", "ignore-cert-errors", NULL};

	lab_start("s1");
	ep_start(&e, "alice", 0, call_out);
	EXPECT(&e, "\"event\":\"login\"", "\"ok\":true");
	EXPECT(&e, "\"event\":\"config\"", "\"teamlink_enabled\":false");
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"skipped\"");
	EXPECT(&e, "\"event\":\"registered\"", "\"server\":\"sip.librestream.com\"",
	       "\"path\":\"direct\"");
	calls_both_ways(&e, "mock-sip", "alice");
	ep_stop(&e);
	JOURNAL_HAS("mock-sip", "\"event\":\"register\"", "\"result\":\"ok\"", "alice");
	JOURNAL_HAS("mock-sip", "\"event\":\"media.stream\"");
	JOURNAL_LACKS("mock-sip", "\"event\":\"stun\"");
	JOURNAL_LACKS("mock-teamlink", "\"event\":\"tunnel.open\"");

	/* probe-when-disabled: Firewall Detect runs although TeamLink is off. */
	ep_start(&e, "alice", 0, f_probe);
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"direct\"", "\"proto\":\"stun\"");
	EXPECT(&e, "\"event\":\"registered\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-sip", "\"event\":\"stun\"");

	/* media-out-of-range: RTP from a port under 15000. */
	ep_start(&e, "alice", 0, f_media);
	EXPECT(&e, "\"event\":\"media\"", "\"when\":\"end\"");
	{
		const char *m = strstr(e.c.text, "\"local_port\":");

		ck_assert_ptr_nonnull(m);
		ck_assert_uint_lt(strtoul(m + 13, NULL, 10), 15000);
	}
	ep_stop(&e);

	/* ignore-cert-errors: OAM with an expired certificate. The fault-free endpoint refuses,
	 * the faulty one logs in. */
	kill(L.oam, SIGTERM);
	(void)netns_waitpid(L.oam, NULL, 3000);
	L.oam = start_oam("expired");
	track(L.oam);
	ep_start(&e, "alice", 0, NULL);
	EXPECT(&e, "\"event\":\"login\"", "\"ok\":false", "expired");
	EXPECT(&e, "\"event\":\"error\"", "\"what\":\"login\"", "retry_in_ms");
	ck_assert_int_eq(ep_count(&e.c, "\"event\":\"config\""), 0);
	ep_stop(&e);
	ep_start(&e, "alice", 0, f_cert);
	EXPECT(&e, "\"event\":\"login\"", "\"ok\":true");
	ep_stop(&e);
}
END_TEST

/* The ways to get the login, the configuration, the SIP transport, the registration and the
 * media wrong, each against the fault-free behaviour the previous test showed. */
START_TEST(test_lab_s1_login_config_transport_and_media_faults)
{
	struct ep e;
	const char *const f_plain[] = {"--fault", "login-plain-http", "--http-timeout", "1500",
	                               NULL};
	const char *const f_nocfg[] = {"--fault", "no-config-fetch", NULL};
	const char *const f_udp[] = {"--fault", "sip-udp", NULL};
	const char *const f_noreg[] = {"--fault", "never-register", NULL};
	const char *const f_tlwd[] = {"--fault", "teamlink-when-disabled", "--http-timeout", "1000",
	                              NULL};
	const char *const f_nortp[] = {
	        "--fault",     "no-rtp", "--call", "sip:peer@librestream.com", "--call-after", "0",
	        "--call-hold", "2",      NULL};
	const char *const f_low[] = {"--fault",
	                             "media-below-1024",
	                             "--call",
	                             "sip:peer@librestream.com",
	                             "--call-after",
	                             "0",
	                             "--call-hold",
	                             "1",
	                             NULL};

	lab_start("s1");
	/* login-plain-http: the login goes to port 80 in the clear; mock-oam (HTTPS on 443
	 * only) never sees it. */
	ep_start(&e, "alice", 0, f_plain);
	EXPECT(&e, "\"event\":\"login\"", "\"ok\":false",
	       "\"url\":\"http://onsight.librestream.com\"");
	ep_stop(&e);
	JOURNAL_LACKS("mock-oam", "\"event\":\"login\"");

	/* no-config-fetch: logged in, no configuration asked for, REGISTER to the cloud on TCP
	 * with the login credentials. */
	ep_start(&e, "alice", 0, f_nocfg);
	EXPECT(&e, "\"event\":\"config\"", "\"source\":\"built-in\"");
	EXPECT(&e, "\"event\":\"sip.server\"", "\"host\":\"sip.librestream.com\"");
	EXPECT(&e, "\"event\":\"register.failed\"", "\"transport\":\"tcp\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-oam", "\"event\":\"login\"");
	JOURNAL_LACKS("mock-oam", "\"event\":\"config\"");
	JOURNAL_HAS("mock-sip", "\"event\":\"register\"", "alice", "\"transport\":\"tcp\"");

	/* sip-udp: the account says TCP, the REGISTER arrives over UDP. */
	JOURNAL_LACKS("mock-sip", "\"event\":\"register\"", "\"transport\":\"udp\"");
	ep_start(&e, "alice", 0, f_udp);
	EXPECT(&e, "\"event\":\"registered\"", "\"transport\":\"udp\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-sip", "\"event\":\"register\"", "\"result\":\"ok\"",
	            "\"transport\":\"udp\"");

	/* never-register: configuration fetched, server chosen, then nothing. */
	{
		const char *const reg[] = {"\"event\":\"register\"", "alice", NULL};
		const char *const any_reg[] = {"\"event\":\"register", NULL};
		int before = journal_count("mock-sip", reg);

		ep_start(&e, "alice", 0, f_noreg);
		EXPECT(&e, "\"event\":\"config\"", "\"ok\":true");
		EXPECT(&e, "\"event\":\"sip.server\"");
		ck_assert(!ep_wait(&e.c, 3000, any_reg));
		ep_stop(&e);
		ck_assert_int_eq(journal_count("mock-sip", reg), before);
	}

	/* no-rtp: the call is set up, not one packet is sent. */
	ep_start(&e, "alice", 0, f_nortp);
	EXPECT(&e, "\"event\":\"call\"", "\"state\":\"established\"", "\"direction\":\"out\"");
	EXPECT(&e, "\"event\":\"media\"", "\"when\":\"end\"", "\"tx_packets\":0");
	ep_stop(&e);

	/* teamlink-when-disabled: no detection (TeamLink is off), a tunnel all the same; the s1
	 * firewall lets the LAN reach neither the TCM nor a TeamLink server. */
	ep_start(&e, "alice", 0, f_tlwd);
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"skipped\"", "tunnelled anyway");
	EXPECT(&e, "\"event\":\"tcm\"", "\"tcm\":\"tcm.librestream.com\"", "\"error\"");
	EXPECT(&e, "\"event\":\"tunnel\"", "\"state\":\"failed\"",
	       "\"server\":\"teamlink1.librestream.com\"");
	ck_assert_int_eq(ep_count(&e.c, "\"event\":\"registered\""), 0);
	ep_stop(&e);

	/* media-below-1024: RTP from a privileged port (media-out-of-range stays >= 1024). */
	ep_start(&e, "alice", 0, f_low);
	EXPECT(&e, "\"event\":\"media\"", "\"when\":\"end\"");
	{
		const char *m = strstr(e.c.text, "\"local_port\":");
		const char *tx = strstr(e.c.text, "\"tx_packets\":");

		ck_assert_ptr_nonnull(m);
		ck_assert_uint_lt(strtoul(m + 13, NULL, 10), 1024);
		ck_assert_ptr_nonnull(tx);
		ck_assert_uint_gt(strtoul(tx + 13, NULL, 10), 0);
	}
	ep_stop(&e);
}
END_TEST

START_TEST(test_lab_s2_bob_tunnels_inside_goes_direct_outside_and_back)
{
	struct ep e;

	lab_start("s2-inside");
	ep_start(&e, "bob", 1, call_out);
	EXPECT(&e, "\"event\":\"config\"", "\"teamlink_enabled\":true");
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"teamlink\"",
	       "\"target\":\"sip.librestream.com\"");
	EXPECT(&e, "\"event\":\"tunnel\"", "\"state\":\"open\"", "\"scheme\":\"https\"",
	       "\"via_proxy\":true");
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"teamlink\"");
	calls_both_ways(&e, "mock-sip", "bob");
	JOURNAL_HAS("mock-teamlink", "\"event\":\"tunnel.open\"", "\"via_proxy\":true");
	JOURNAL_HAS("mock-teamlink", "\"event\":\"channel.open\"", "\"kind\":\"udp\"");
	/* Migrate outside: re-detect, direct registration; and back inside: tunnel again. */
	ep_mark(&e.c);
	ck_assert_int_eq(fwlab_migrate(L.l, "outside"), 0);
	EXPECT(&e, "\"event\":\"network.change\"", "\"address\":\"192.0.2.10\"");
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"direct\"");
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"direct\"");
	ep_mark(&e.c);
	call_in("mock-sip", "bob", 2);
	expect_media(&e, "\"direction\":\"in\"");
	ep_mark(&e.c);
	ck_assert_int_eq(fwlab_migrate(L.l, "inside"), 0);
	EXPECT(&e, "\"event\":\"network.change\"", "\"address\":\"198.51.100.10\"");
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"teamlink\"");
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"teamlink\"");
	ep_stop(&e);
}
END_TEST

START_TEST(test_lab_s2_faults_show_their_deviation)
{
	struct ep e;
	const char *const f_nofb[] = {"--fault", "no-teamlink-fallback", NULL};
	const char *const f_wrong[] = {"--fault", "wrong-detect-target", NULL};
	const char *const f_http[] = {"--fault", "http-before-https", NULL};
	const char *const f_noredo[] = {"--fault", "no-redetect-on-migrate", NULL};
	const char *const f_always[] = {"--fault", "teamlink-always", NULL};
	const char *const f_viaproxy[] = {"--fault", "sip-via-proxy", NULL};

	lab_start("s2-inside");
	/* no-teamlink-fallback: ports closed, registers directly anyway (and fails). */
	ep_start(&e, "bob", 1, f_nofb);
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"direct\"", "ports closed");
	EXPECT(&e, "\"event\":\"error\"", "\"what\":\"sip\"");
	ck_assert_int_eq(ep_count(&e.c, "\"event\":\"tunnel\""), 0);
	ep_stop(&e);
	JOURNAL_LACKS("mock-teamlink", "\"event\":\"tunnel.open\"");

	/* wrong-detect-target: method sip, probes the TCM. */
	ep_start(&e, "bob", 1, f_wrong);
	EXPECT(&e, "\"event\":\"detect\"", "\"method\":\"sip\"",
	       "\"target\":\"tcm.librestream.com\"");
	ep_stop(&e);

	/* http-before-https: the first tunnel is plain HTTP. */
	ep_start(&e, "bob", 1, f_http);
	EXPECT(&e, "\"event\":\"tunnel\"", "\"state\":\"open\"", "\"scheme\":\"http\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-teamlink", "\"event\":\"tunnel.open\"", "\"scheme\":\"http\"");

	/* no-redetect-on-migrate: the change is seen, nothing is re-run. */
	ep_start(&e, "bob", 1, f_noredo);
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"teamlink\"");
	ep_mark(&e.c);
	ck_assert_int_eq(fwlab_migrate(L.l, "outside"), 0);
	EXPECT(&e, "\"event\":\"network.change\"", "\"redetect\":false");
	{
		const char *const detect2[] = {"\"result\":\"direct\"", NULL};

		ck_assert(!ep_wait(&e.c, 2000, detect2));
		ck_assert_int_eq(ep_count(&e.c, "\"event\":\"detect\""), 1);
	}
	ep_stop(&e);

	/* teamlink-always, outside (no proxy there: the runner gives none): every probe answers,
	 * the endpoint tunnels anyway; the configured proxy cannot be reached, so directly. */
	ep_start(&e, "bob", 0, f_always);
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"teamlink\"", "ports open");
	EXPECT(&e, "\"event\":\"tunnel\"", "\"state\":\"open\"", "\"via_proxy\":false");
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"teamlink\"");
	ep_stop(&e);
	ck_assert_int_eq(fwlab_migrate(L.l, "inside"), 0);

	/* sip-via-proxy with the firewall open: direct SIP goes to the web proxy, which refuses
	 * CONNECT to 5060. */
	{
		char err[256];

		ck_assert_msg(fwlab_apply(L.l, "open", err, sizeof(err)) == 0, "%s", err);
	}
	ep_start(&e, "bob", 1, f_viaproxy);
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"direct\"");
	EXPECT(&e, "\"event\":\"error\"", "\"what\":\"sip\"",
	       "proxy CONNECT sip.librestream.com:5060");
	ep_stop(&e);
}
END_TEST

/* The web proxy asked for a host off its allow-list; direct SIP attempts beside the tunnel. */
START_TEST(test_lab_s2_proxy_and_tunnel_bypass_faults)
{
	struct ep e;
	const char *const f_any[] = {"--fault", "proxy-any-host", NULL};
	const char *const f_stray[] = {"--fault", "direct-sip-while-tunnelled", NULL};
	const char *const f_early[] = {"--fault", "register-before-detect", NULL};

	lab_start("s2-inside");
	/* proxy-any-host: a CONNECT to the OAM server's bare address, which the allow-list
	 * (names under librestream.com) refuses; then the normal login and tunnel. */
	ep_start(&e, "bob", 1, f_any);
	EXPECT(&e, "\"event\":\"error\"", "proxy CONNECT 203.0.113.10:443: 403");
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"teamlink\"");
	ep_stop(&e);

	/* Fault-free, tunnelled: no direct SIP attempt. */
	ep_start(&e, "bob", 1, NULL);
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"teamlink\"");
	{
		const char *const stray[] = {"while tunnelled", NULL};

		ck_assert(!ep_wait(&e.c, 2500, stray));
	}
	ck_assert_int_eq(ep_count(&e.c, "proxy CONNECT"), 0);
	ep_stop(&e);

	/* direct-sip-while-tunnelled: SYNs to 5060 and 5061 that the firewall drops, every
	 * second, while registered through the tunnel. */
	ep_start(&e, "bob", 1, f_stray);
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"teamlink\"");
	EXPECT(&e, "\"event\":\"error\"", "203.0.113.20:5060 while tunnelled: no answer");
	EXPECT(&e, "\"event\":\"error\"", "203.0.113.20:5061 while tunnelled: no answer");
	ep_stop(&e);

	/* register-before-detect, outside (no proxy there): a direct registration first, then
	 * Firewall Detect (ports open), then the registration again. */
	ck_assert_int_eq(fwlab_migrate(L.l, "outside"), 0);
	ep_start(&e, "bob", 0, f_early);
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"direct\"");
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"direct\"");
	EXPECT(&e, "\"event\":\"registered\"", "\"path\":\"direct\"");
	{
		const char *reg = strstr(e.c.text, "\"event\":\"registered\"");
		const char *det = strstr(e.c.text, "\"event\":\"detect\"");

		ck_assert_ptr_nonnull(det);
		ck_assert_msg(reg && reg < det, "registered after detect:\n%s", tail(&e));
	}
	ep_stop(&e);
	ck_assert_int_eq(fwlab_migrate(L.l, "inside"), 0);
}
END_TEST

START_TEST(test_lab_s3_carol_prefers_the_private_server_that_answers)
{
	struct ep e;
	const char *const f_skip[] = {"--fault", "skip-options-probe", NULL};
	const char *const f_priv[] = {"--fault", "register-private-only", NULL};

	lab_start("s3");
	ep_start(&e, "carol", 0, call_out);
	EXPECT(&e, "\"event\":\"sip.server\"", "\"chosen\":\"private\"",
	       "\"host\":\"vcs-control.corp.example\"");
	EXPECT(&e, "\"event\":\"registered\"", "\"server\":\"vcs-control.corp.example\"",
	       "\"path\":\"direct\"");
	calls_both_ways(&e, "mock-sip-private", "carol");
	/* Outside the private server does not answer: public. */
	ep_mark(&e.c);
	ck_assert_int_eq(fwlab_migrate(L.l, "outside"), 0);
	EXPECT(&e, "\"event\":\"sip.server\"", "\"chosen\":\"public\"");
	EXPECT(&e, "\"event\":\"registered\"", "\"server\":\"vcs-expressway.corp.example\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-sip-private", "\"event\":\"options\"");
	JOURNAL_HAS("mock-sip-public", "\"event\":\"register\"", "\"result\":\"ok\"");
	ck_assert_int_eq(fwlab_migrate(L.l, "inside"), 0);

	/* skip-options-probe: inside, yet public without asking the private server. */
	ep_start(&e, "carol", 0, f_skip);
	EXPECT(&e, "\"event\":\"sip.server\"", "\"chosen\":\"public\"", "without OPTIONS");
	EXPECT(&e, "\"event\":\"registered\"", "\"server\":\"vcs-expressway.corp.example\"");
	ep_stop(&e);

	/* register-private-only: outside, keeps trying the private server. */
	ck_assert_int_eq(fwlab_migrate(L.l, "outside"), 0);
	ep_start(&e, "carol", 0, f_priv);
	EXPECT(&e, "\"event\":\"sip.server\"", "\"chosen\":\"private\"");
	EXPECT(&e, "\"event\":\"error\"", "\"what\":\"sip\"");
	EXPECT(&e, "\"event\":\"error\"", "\"what\":\"sip\"", "\"retry_in_ms\":400");
	ck_assert_int_eq(ep_count(&e.c, "\"chosen\":\"public\""), 0);
	ep_stop(&e);
}
END_TEST

/* The enterprise server configured, the cloud one used: for the registration, or for the
 * outgoing call only. */
START_TEST(test_lab_s3_wrong_server_faults)
{
	struct ep e;
	const char *const f_reg[] = {"--fault", "register-wrong-server", NULL};
	const char *const f_call[] = {"--fault",
	                              "call-out-wrong-server",
	                              "--call",
	                              "sip:peer@librestream.com",
	                              "--call-after",
	                              "0",
	                              "--call-hold",
	                              "1",
	                              NULL};

	lab_start("s3");
	/* register-wrong-server inside: the private server is asked (and answers), the
	 * REGISTER goes to the cloud, which the s3 firewall does not let the LAN reach. */
	ep_start(&e, "carol", 0, f_reg);
	EXPECT(&e, "\"event\":\"sip.server\"", "\"chosen\":\"private\"",
	       "\"host\":\"sip.librestream.com\"");
	EXPECT(&e, "\"event\":\"error\"", "\"what\":\"sip\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-sip-private", "\"event\":\"options\"");
	JOURNAL_LACKS("mock-sip-private", "\"event\":\"register\"");
	/* Outside (nothing blocked): the public interface is chosen, the cloud registers. */
	ck_assert_int_eq(fwlab_migrate(L.l, "outside"), 0);
	ep_start(&e, "carol", 0, f_reg);
	EXPECT(&e, "\"event\":\"registered\"", "\"server\":\"sip.librestream.com\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-sip", "\"event\":\"register\"", "\"result\":\"ok\"", "carol");
	JOURNAL_LACKS("mock-sip-public", "\"event\":\"register\"");

	/* call-out-wrong-server, outside: registered to vcs-expressway, the INVITE reaches the
	 * cloud. */
	JOURNAL_LACKS("mock-sip", "\"event\":\"call\"", "carol");
	ep_start(&e, "carol", 0, f_call);
	EXPECT(&e, "\"event\":\"registered\"", "\"server\":\"vcs-expressway.corp.example\"");
	EXPECT(&e, "\"event\":\"call\"", "\"direction\":\"out\"", "\"state\":\"ended\"");
	ep_stop(&e);
	JOURNAL_HAS("mock-sip", "\"event\":\"call\"", "carol");
	JOURNAL_LACKS("mock-sip-public", "\"event\":\"call\"", "carol");
}
END_TEST

START_TEST(test_lab_s4_dave_tunnels_to_the_enterprise_public_interface)
{
	struct ep e;

	lab_start("s4");
	ep_start(&e, "dave", 1, call_out);
	EXPECT(&e, "\"event\":\"detect\"", "\"result\":\"teamlink\"",
	       "\"target\":\"vcs-expressway.corp.example\"");
	EXPECT(&e, "\"event\":\"tunnel\"", "\"state\":\"open\"", "\"via_proxy\":true");
	EXPECT(&e, "\"event\":\"sip.server\"", "\"chosen\":\"public\"", "through the tunnel");
	EXPECT(&e, "\"event\":\"registered\"", "\"server\":\"vcs-expressway.corp.example\"",
	       "\"path\":\"teamlink\"");
	calls_both_ways(&e, "mock-sip-public", "dave");
	ep_stop(&e);
	JOURNAL_HAS("mock-teamlink", "\"event\":\"channel.open\"", "vcs-expressway.corp.example");
	JOURNAL_LACKS("mock-sip-private", "\"event\":\"register\"");
}
END_TEST

int main(void)
{
	char why[256], report[1024];
	Suite *s;
	TCase *tc;
	int rc;

	if (fwlab_available(why, sizeof(why)) != 0) {
		printf("SKIP: lab tests need network namespaces: %s\n", why);
		return 77;
	}
	(void)fwlab_gc(report, sizeof(report)); /* labs of earlier runs that were killed */
	s = suite_create("lab");
	tc = tcase_create("core");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_lab_s1_alice_registers_directly_and_calls_both_ways);
	tcase_add_test(tc, test_lab_s1_login_config_transport_and_media_faults);
	tcase_add_test(tc, test_lab_s2_bob_tunnels_inside_goes_direct_outside_and_back);
	tcase_add_test(tc, test_lab_s2_faults_show_their_deviation);
	tcase_add_test(tc, test_lab_s2_proxy_and_tunnel_bypass_faults);
	tcase_add_test(tc, test_lab_s3_carol_prefers_the_private_server_that_answers);
	tcase_add_test(tc, test_lab_s3_wrong_server_faults);
	tcase_add_test(tc, test_lab_s4_dave_tunnels_to_the_enterprise_public_interface);
	suite_add_tcase(s, tc);
	rc = check_run(s);
	/* A test killed at its timeout could not take its lab down: its owner is dead now. */
	(void)fwlab_gc(report, sizeof(report));
	return rc;
}
