/* mock-teamlink - TeamLink tunnel server, TCM and Firewall Detect test server (DESIGN §3.3,
 * docs/protocol/teamlink.md). */
#define LOG_TAG "main"
#include "server.h"

#include "onsight/evloop.h"
#include "onsight/cliconf.h"
#include "onsight/jsoncfg.h"
#include "onsight/journal.h"
#include "onsight/log.h"
#include "onsight/probesrv.h"
#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_conf {
	char **tunnel_https, **tunnel_http, **tcm_https, **tcm_http, **tcm_servers, **detect;
	char *cert, *key, *jwt_secret_file, *events, *keylog, *upstream_ca, *log_level;
	long long detect_sip_port, detect_tls_port, detect_stun_port, detect_media_port;
	long long max_tunnels, max_channels, max_inflight, connect_timeout_ms, ping_after_s,
	        dead_after_s, udp_idle_s, health_interval_ms, head_timeout_ms;
};

#define K(path, type, field, min, max, def, defs) \
	{ \
		path, type, offsetof(struct tl_conf, field), min, max, def, defs, 0 \
	}
static const struct jcfg_key conf_keys[] = {
        K("tunnel_https", JCFG_STRLIST, tunnel_https, 0, 16, 0, NULL),
        K("tunnel_http", JCFG_STRLIST, tunnel_http, 0, 16, 0, NULL),
        K("tcm_https", JCFG_STRLIST, tcm_https, 0, 16, 0, NULL),
        K("tcm_http", JCFG_STRLIST, tcm_http, 0, 16, 0, NULL),
        K("tcm_servers", JCFG_STRLIST, tcm_servers, 0, 32, 0, NULL),
        K("detect", JCFG_STRLIST, detect, 0, 16, 0, NULL),
        K("cert", JCFG_STRING, cert, 0, 4096, 0, NULL),
        K("key", JCFG_STRING, key, 0, 4096, 0, NULL),
        K("jwt_secret_file", JCFG_STRING, jwt_secret_file, 0, 4096, 0, NULL),
        K("events", JCFG_STRING, events, 0, 4096, 0, NULL),
        K("keylog", JCFG_STRING, keylog, 0, 4096, 0, NULL),
        K("upstream_ca", JCFG_STRING, upstream_ca, 0, 4096, 0, NULL),
        K("log_level", JCFG_STRING, log_level, 0, 8, 0, "info"),
        K("detect_sip_port", JCFG_INT, detect_sip_port, 0, 65535, 5060, NULL),
        K("detect_tls_port", JCFG_INT, detect_tls_port, 0, 65535, 5061, NULL),
        K("detect_stun_port", JCFG_INT, detect_stun_port, 0, 65535, 3478, NULL),
        K("detect_media_port", JCFG_INT, detect_media_port, 0, 65535, 15000, NULL),
        K("limits.max_tunnels", JCFG_INT, max_tunnels, 1, 100000, 256, NULL),
        K("limits.max_channels", JCFG_INT, max_channels, 1, 65535, 64, NULL),
        K("limits.max_inflight", JCFG_INT, max_inflight, 65536, 1LL << 30, 1 << 20, NULL),
        K("limits.connect_timeout_ms", JCFG_INT, connect_timeout_ms, 100, 600000, 5000, NULL),
        K("limits.head_timeout_ms", JCFG_INT, head_timeout_ms, 100, 600000, 10000, NULL),
        K("limits.ping_after_s", JCFG_INT, ping_after_s, 1, 3600, 20, NULL),
        K("limits.dead_after_s", JCFG_INT, dead_after_s, 2, 7200, 60, NULL),
        K("limits.udp_idle_s", JCFG_INT, udp_idle_s, 1, 86400, 120, NULL),
        K("limits.health_interval_ms", JCFG_INT, health_interval_ms, 100, 600000, 5000, NULL),
};

struct app {
	struct tl_conf conf;
	struct evloop *loop;
	struct journal *j;
	struct tlsrv *srv;
	struct probesrv *probe;
	SSL_CTX *tls, *tls_up;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mock-teamlink --jwt-secret-file FILE [--cert FILE --key FILE] [options]\n"
	        "\n"
	        "TeamLink tunnel server (WebSocket teamlink.v1), TeamLink Cluster Manager and\n"
	        "Firewall Detect test server.\n"
	        "\n"
	        "  --tunnel-https ADDR:PORT   tunnel over HTTPS here (repeatable)\n"
	        "  --tunnel-http ADDR:PORT    tunnel over plain HTTP here (repeatable)\n"
	        "  --tcm-https ADDR:PORT      TCM (GET /tcm/v1/assign) over HTTPS (repeatable)\n"
	        "  --tcm-http ADDR:PORT       TCM over plain HTTP (repeatable)\n"
	        "  --tcm-server HOST:PORT:SCHEME  a TeamLink server the TCM assigns (repeatable;\n"
	        "                             health-checked by TCP connect)\n"
	        "  --detect ADDR              Firewall Detect test server on ADDR: SIP OPTIONS on\n"
	        "                             TCP 5060 and TLS 5061, STUN on UDP 3478 and 15000\n"
	        "  --cert FILE, --key FILE    PEM certificate chain and key (HTTPS, TLS 5061)\n"
	        "  --jwt-secret-file FILE     HS256 key shared with mock-oam (SIGHUP re-reads it)\n"
	        "  --upstream-ca FILE         CA for SIP-over-TLS channels (default: system "
	        "store)\n"
	        "  --events FILE              append the event journal (JSON Lines)\n"
	        "  --keylog FILE              write TLS secrets (NSS key log) for Wireshark\n"
	        "  --config FILE              JSON settings (flags override; see README)\n"
	        "  --check-config             validate and exit\n"
	        "  --log-level LEVEL          err, warn, info (default) or debug\n"
	        "  --help, --version\n"
	        "\n"
	        "With no listener at all, serves the tunnel on https://127.0.0.1:8443.\n"
	        "Exit status: 0 clean shutdown, 1 runtime error, 2 bad usage or configuration.\n");
}

static const struct cliconf_flag flags[] = {
        {"tunnel-https", "tunnel_https"},
        {"tunnel-http", "tunnel_http"},
        {"tcm-https", "tcm_https"},
        {"tcm-http", "tcm_http"},
        {"tcm-server", "tcm_servers"},
        {"detect", "detect"},
        {"cert", "cert"},
        {"key", "key"},
        {"jwt-secret-file", "jwt_secret_file"},
        {"upstream-ca", "upstream_ca"},
        {"events", "events"},
        {"keylog", "keylog"},
        {"log-level", "log_level"},
};

static const struct cliconf cli = {"mock-teamlink",       flags, ARRAY_SIZE(flags), conf_keys,
                                   ARRAY_SIZE(conf_keys), usage};

static int nonempty(char **l)
{
	return l && l[0];
}

static int check_conf(struct app *a)
{
	struct tl_conf *c = &a->conf;
	int tls_needed = nonempty(c->tunnel_https) || nonempty(c->tcm_https) || nonempty(c->detect);

	if (!c->jwt_secret_file) {
		fprintf(stderr, "mock-teamlink: --jwt-secret-file is required (see --help)\n");
		return -1;
	}
	if (!nonempty(c->tunnel_https) && !nonempty(c->tunnel_http) && !nonempty(c->tcm_https) &&
	    !nonempty(c->tcm_http) && !nonempty(c->detect)) {
		free(c->tunnel_https);
		c->tunnel_https = calloc(2, sizeof(char *));
		if (!c->tunnel_https || !(c->tunnel_https[0] = strdup("127.0.0.1:8443")))
			return -1;
		tls_needed = 1;
	}
	if (tls_needed && (!c->cert || !c->key)) {
		fprintf(stderr,
		        "mock-teamlink: HTTPS and TLS need --cert and --key (see --help)\n");
		return -1;
	}
	if (cliconf_log_level("mock-teamlink", c->log_level))
		return -1;
	return 0;
}

static int load_secret(struct app *a)
{
	char *s = NULL;
	size_t n = 0;
	int err = file_read_secret(a->conf.jwt_secret_file, &s, &n);

	if (!err && n == 0)
		err = EINVAL;
	if (err) {
		log_errx("%s: %s", a->conf.jwt_secret_file,
		         err == EINVAL ? "empty" : strerror(err));
		free(s);
		return -1;
	}
	err = a->srv ? tlsrv_set_secret(a->srv, (const uint8_t *)s, n) : 0;
	free(s);
	return err ? -1 : 0;
}

static void on_term(int signo, void *arg)
{
	struct app *a = arg;

	log_info("signal %d: shutting down", signo);
	tlsrv_shutdown(a->srv);
	evloop_stop(a->loop);
}

static void on_hup(int signo, void *arg)
{
	struct app *a = arg;

	(void)signo;
	if (load_secret(a)) {
		log_warnx("reload failed: keeping the old JWT secret");
		journal_emit(a->j, "config.reload", "{s:b}", "ok", 0);
		return;
	}
	log_info("reloaded the JWT secret");
	journal_emit(a->j, "config.reload", "{s:b}", "ok", 1);
}

static int listen_all(struct app *a, char **addrs, int tls, int roles)
{
	char buf[SOCK_ADDR_STRLEN];

	for (size_t i = 0; addrs && addrs[i]; i++) {
		struct sock_addr sa, bound;
		int err;
		if (sock_addr_parse(&sa, addrs[i], tls ? 443 : 80)) {
			fprintf(stderr, "mock-teamlink: \"%s\" is not ADDR:PORT or [V6]:PORT\n",
			        addrs[i]);
			return -1;
		}
		err = tlsrv_listen(a->srv, &sa, tls, roles, &bound);
		if (err) {
			fprintf(stderr, "mock-teamlink: listen %s: %s\n", addrs[i], strerror(err));
			return -1;
		}
		sock_addr_str(&bound, buf, sizeof(buf));
		log_info("%s on %s://%s", roles == TLSRV_ROLE_TCM ? "TCM" : "tunnel",
		         tls ? "https" : "http", buf);
		journal_emit_at(a->j, &bound, "server.listen", "{s:s, s:s, s:s}", "role",
		                roles == TLSRV_ROLE_TCM ? "tcm" : "tunnel", "scheme",
		                tls ? "https" : "http", "address", buf);
	}
	return 0;
}

static int detect_all(struct app *a)
{
	static const struct {
		enum probesrv_proto proto;
		const char *name;
	} kinds[] = {{PROBESRV_TCP, "tcp"},
	             {PROBESRV_TLS, "tls"},
	             {PROBESRV_UDP, "udp"},
	             {PROBESRV_UDP, "udp"}};
	long long ports[4] = {a->conf.detect_sip_port, a->conf.detect_tls_port,
	                      a->conf.detect_stun_port, a->conf.detect_media_port};
	char buf[SOCK_ADDR_STRLEN];

	if (!nonempty(a->conf.detect))
		return 0;
	if (probesrv_alloc(&a->probe, a->loop, a->j, a->tls))
		return -1;
	for (size_t i = 0; a->conf.detect[i]; i++) {
		for (size_t k = 0; k < 4; k++) {
			struct sock_addr sa, bound;
			int err;
			if (sock_addr_parse(&sa, a->conf.detect[i], 0)) {
				fprintf(stderr,
				        "mock-teamlink: --detect \"%s\" is not an address\n",
				        a->conf.detect[i]);
				return -1;
			}
			sock_addr_set_port(&sa, (uint16_t)ports[k]);
			err = probesrv_listen(a->probe, kinds[k].proto, &sa, &bound);
			if (err) {
				fprintf(stderr, "mock-teamlink: detect %s port %lld: %s\n",
				        a->conf.detect[i], ports[k], strerror(err));
				return -1;
			}
			sock_addr_str(&bound, buf, sizeof(buf));
			journal_emit_at(a->j, &bound, "server.listen", "{s:s, s:s, s:s}", "role",
			                "detect", "scheme", kinds[k].name, "address", buf);
		}
	}
	return 0;
}

static int serve(struct app *a)
{
	struct tlsrv_limits lim;
	struct tl_conf *c = &a->conf;
	int err;

	tlsrv_limits_default(&lim);
	lim.max_tunnels = (unsigned)c->max_tunnels;
	lim.max_channels = (unsigned)c->max_channels;
	lim.max_inflight = (size_t)c->max_inflight;
	lim.connect_timeout_ms = (unsigned)c->connect_timeout_ms;
	lim.head_timeout_ms = (unsigned)c->head_timeout_ms;
	lim.ping_after_ms = (unsigned)c->ping_after_s * 1000;
	lim.dead_after_ms = (unsigned)c->dead_after_s * 1000;
	lim.udp_idle_ms = (unsigned)c->udp_idle_s * 1000;
	lim.health_interval_ms = (unsigned)c->health_interval_ms;
	if (evloop_alloc(&a->loop) ||
	    tlsrv_alloc(&a->srv, a->loop, a->j, a->tls, a->tls_up, &lim) || load_secret(a) ||
	    evloop_signal_add(a->loop, SIGTERM, on_term, a) ||
	    evloop_signal_add(a->loop, SIGINT, on_term, a) ||
	    evloop_signal_add(a->loop, SIGHUP, on_hup, a))
		return 1;
	for (size_t i = 0; c->tcm_servers && c->tcm_servers[i]; i++)
		if (tlsrv_add_tcm_server(a->srv, c->tcm_servers[i])) {
			fprintf(stderr,
			        "mock-teamlink: --tcm-server \"%s\" is not HOST:PORT:SCHEME\n",
			        c->tcm_servers[i]);
			return 2;
		}
	if (listen_all(a, c->tunnel_https, 1, TLSRV_ROLE_TUNNEL) ||
	    listen_all(a, c->tunnel_http, 0, TLSRV_ROLE_TUNNEL) ||
	    listen_all(a, c->tcm_https, 1, TLSRV_ROLE_TCM) ||
	    listen_all(a, c->tcm_http, 0, TLSRV_ROLE_TCM) || detect_all(a))
		return 2;
	journal_emit(a->j, "server.start", "{s:s}", "version", ONSIGHT_VERSION);
	err = evloop_run(a->loop);
	journal_emit(a->j, "server.stop", "{s:s}", "reason", err ? strerror(err) : "signal");
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct app a;
	int check = 0, rc = 2;

	memset(&a, 0, sizeof(a));
	log_init("mock-teamlink", LOG_LVL_INFO);
	util_ignore_sigpipe();
	if (cliconf_load(&cli, argc, argv, &a.conf, &check) || check_conf(&a))
		goto out;
	log_init("mock-teamlink", (enum log_level)log_level_parse(a.conf.log_level));
	if (load_secret(&a))
		goto out;
	if (a.conf.cert && a.conf.key &&
	    tls_server_ctx(&a.tls, a.conf.cert, a.conf.key, a.conf.keylog))
		goto out;
	if (tls_client_ctx(&a.tls_up, a.conf.upstream_ca, a.conf.keylog))
		goto out;
	if (check) {
		printf("mock-teamlink: configuration OK\n");
		rc = 0;
		goto out;
	}
	if (journal_open(&a.j, a.conf.events, "mock-teamlink")) {
		fprintf(stderr, "mock-teamlink: events %s: %s\n", a.conf.events, strerror(errno));
		goto out;
	}
	rc = serve(&a);
out:
	probesrv_free(a.probe);
	tlsrv_free(a.srv);
	evloop_free(a.loop);
	journal_close(a.j);
	SSL_CTX_free(a.tls);
	SSL_CTX_free(a.tls_up);
	jcfg_free(conf_keys, ARRAY_SIZE(conf_keys), &a.conf);
	return rc;
}
