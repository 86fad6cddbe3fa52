/* mock-oam - the Onsight Account Manager mock (DESIGN §3.1, docs/protocol/oam.md). */
#define LOG_TAG "main"
#include "accounts.h"
#include "api.h"
#include "httpd.h"

#include "onsight/evloop.h"
#include "onsight/cliconf.h"
#include "onsight/jsoncfg.h"
#include "onsight/journal.h"
#include "onsight/log.h"
#include "onsight/sock.h"
#include "onsight/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct oam_conf {
	char **listen;
	char **http_listen;
	char *cert;
	char *key;
	char *accounts;
	char *jwt_secret_file;
	char *events;
	char *keylog;
	char *log_level;
	long long token_ttl;
	long long max_connections;
	long long max_per_ip;
	long long idle_timeout;
	long long request_deadline;
	long long login_max_failures;
	long long login_window;
	long long login_lockout;
};

#define K(path, type, field, min, max, def, defs) \
	{ \
		path, type, offsetof(struct oam_conf, field), min, max, def, defs, 0 \
	}
/* The configuration keys, their bounds and defaults (also the --config file format). */
static const struct jcfg_key conf_keys[] = {
        K("listen", JCFG_STRLIST, listen, 0, 16, 0, NULL),
        K("http_listen", JCFG_STRLIST, http_listen, 0, 16, 0, NULL),
        K("cert", JCFG_STRING, cert, 0, 4096, 0, NULL),
        K("key", JCFG_STRING, key, 0, 4096, 0, NULL),
        K("accounts", JCFG_STRING, accounts, 0, 4096, 0, NULL),
        K("jwt_secret_file", JCFG_STRING, jwt_secret_file, 0, 4096, 0, NULL),
        K("events", JCFG_STRING, events, 0, 4096, 0, NULL),
        K("keylog", JCFG_STRING, keylog, 0, 4096, 0, NULL),
        K("log_level", JCFG_STRING, log_level, 0, 8, 0, "info"),
        K("token_ttl", JCFG_INT, token_ttl, 1, 7 * 86400, 3600, NULL),
        K("max_connections", JCFG_INT, max_connections, 1, 10000, 256, NULL),
        K("max_per_ip", JCFG_INT, max_per_ip, 1, 10000, 32, NULL),
        K("idle_timeout", JCFG_INT, idle_timeout, 1, 3600, 15, NULL),
        K("request_deadline", JCFG_INT, request_deadline, 1, 3600, 30, NULL),
        K("login_max_failures", JCFG_INT, login_max_failures, 1, 1000, 5, NULL),
        K("login_window", JCFG_INT, login_window, 1, 86400, 60, NULL),
        K("login_lockout", JCFG_INT, login_lockout, 1, 86400, 60, NULL),
};

struct oam {
	struct oam_conf conf;
	struct evloop *loop;
	struct journal *j;
	struct api *api;
	struct httpd *httpd;
	char *secret;
	size_t secretlen;
	char *cert_pem;
	char *key_pem;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mock-oam --listen ADDR:PORT [--listen ...] --cert FILE --key FILE\n"
	        "                --accounts FILE --jwt-secret-file FILE [options]\n"
	        "\n"
	        "The Onsight Account Manager mock: login, endpoint configuration, logout over "
	        "HTTPS.\n"
	        "\n"
	        "  --listen ADDR:PORT       serve HTTPS here (repeatable; [V6]:PORT for IPv6;\n"
	        "                           default 127.0.0.1:8443 when no listener is given)\n"
	        "  --http-listen ADDR:PORT  also serve plain HTTP here (repeatable)\n"
	        "  --cert FILE, --key FILE  PEM certificate chain and key for HTTPS\n"
	        "  --accounts FILE          accounts and their configurations (JSON; SIGHUP "
	        "reloads)\n"
	        "  --jwt-secret-file FILE   HS256 key shared with the other lab services\n"
	        "  --events FILE            append the event journal (JSON Lines) to FILE\n"
	        "  --keylog FILE            write TLS secrets (NSS key log) for Wireshark\n"
	        "  --token-ttl SECONDS      token lifetime (default 3600)\n"
	        "  --config FILE            read settings from a JSON file (flags override it)\n"
	        "  --check-config           validate configuration and accounts, then exit\n"
	        "  --log-level LEVEL        err, warn, info (default) or debug\n"
	        "  --help, --version\n"
	        "\n"
	        "Exit status: 0 clean shutdown (SIGTERM/SIGINT), 1 runtime error, 2 bad usage or\n"
	        "configuration.\n");
}

static const struct cliconf_flag flags[] = {
        {"listen", "listen"},       {"http-listen", "http_listen"},
        {"cert", "cert"},           {"key", "key"},
        {"accounts", "accounts"},   {"jwt-secret-file", "jwt_secret_file"},
        {"events", "events"},       {"keylog", "keylog"},
        {"token-ttl", "token_ttl"}, {"log-level", "log_level"},
};

static const struct cliconf cli = {
        "mock-oam", flags, ARRAY_SIZE(flags), conf_keys, ARRAY_SIZE(conf_keys), usage};

/* Loopback by default, so the server also runs outside the lab (DESIGN §3). */
static int default_listen(struct oam_conf *c)
{
	if (c->listen[0] || c->http_listen[0])
		return 0;
	free(c->listen);
	c->listen = calloc(2, sizeof(*c->listen));
	if (!c->listen || !(c->listen[0] = strdup("127.0.0.1:8443")))
		return -1;
	return 0;
}

static int check_conf(struct oam_conf *c)
{
	const char *missing = !c->accounts ? "--accounts"
	        : !c->jwt_secret_file      ? "--jwt-secret-file"
	                                   : NULL;

	if (missing) {
		fprintf(stderr, "mock-oam: %s is required (see --help)\n", missing);
		return -1;
	}
	if (default_listen(c))
		return -1;
	if (c->listen[0] && (!c->cert || !c->key)) {
		fprintf(stderr, "mock-oam: HTTPS needs --cert and --key (see --help)\n");
		return -1;
	}
	if (cliconf_log_level("mock-oam", c->log_level))
		return -1;
	return 0;
}

static int load_files(struct oam *o, struct accounts **accounts)
{
	const struct oam_conf *c = &o->conf;
	char err[512];
	int rc;

	rc = file_read_secret(c->jwt_secret_file, &o->secret, &o->secretlen);
	if (rc) {
		fprintf(stderr, "mock-oam: %s: %s\n", c->jwt_secret_file,
		        rc == ENODATA ? "empty secret" : strerror(rc));
		return -1;
	}
	if (c->listen[0] &&
	    ((rc = file_read(c->cert, 1 << 20, &o->cert_pem, NULL)) ||
	     (rc = file_read(c->key, 1 << 20, &o->key_pem, NULL)))) {
		fprintf(stderr, "mock-oam: %s: %s\n", o->cert_pem ? c->key : c->cert, strerror(rc));
		return -1;
	}
	if (accounts_load(accounts, c->accounts, err, sizeof(err))) {
		fprintf(stderr, "mock-oam: %s\n", err);
		return -1;
	}
	return 0;
}

static void on_term(int signo, void *arg)
{
	struct oam *o = arg;

	log_info("signal %d: shutting down", signo);
	evloop_stop(o->loop);
}

static void on_hup(int signo, void *arg)
{
	struct oam *o = arg;
	struct accounts *a = NULL;
	char err[512];

	(void)signo;
	if (accounts_load(&a, o->conf.accounts, err, sizeof(err))) {
		/* Keep serving the accounts we have. */
		log_warnx("reload failed, keeping %s as it was: %s", o->conf.accounts, err);
		journal_emit(o->j, "accounts.reload", "{s:b, s:s}", "ok", 0, "error", err);
		return;
	}
	accounts_free(api_set_accounts(o->api, a));
	log_info("reloaded %s: %zu accounts", o->conf.accounts, accounts_count(a));
	journal_emit(o->j, "accounts.reload", "{s:b, s:I}", "ok", 1, "accounts",
	             (json_int_t)accounts_count(a));
}

static int listen_all(struct oam *o, char **addrs, int tls)
{
	struct httpd_conf hc = {
	        .cert_pem = tls ? o->cert_pem : NULL,
	        .key_pem = tls ? o->key_pem : NULL,
	        .max_connections = (unsigned)o->conf.max_connections,
	        .max_per_ip = (unsigned)o->conf.max_per_ip,
	        .idle_timeout_s = (unsigned)o->conf.idle_timeout,
	        .deadline_s = (unsigned)o->conf.request_deadline,
	        .memory_limit = 32 * 1024,
	};
	char buf[SOCK_ADDR_STRLEN];

	for (size_t i = 0; addrs[i]; i++) {
		struct sock_addr sa, bound;
		int err;

		if (sock_addr_parse(&sa, addrs[i], tls ? 443 : 80)) {
			fprintf(stderr, "mock-oam: \"%s\" is not ADDR:PORT or [V6]:PORT\n",
			        addrs[i]);
			return -1;
		}
		err = httpd_listen(o->httpd, &sa, &hc, &bound);
		if (err) {
			fprintf(stderr, "mock-oam: listen %s: %s\n", addrs[i], strerror(err));
			return -1;
		}
		sock_addr_str(&bound, buf, sizeof(buf));
		log_info("listening on %s://%s", tls ? "https" : "http", buf);
		journal_emit_at(o->j, &bound, "server.listen", "{s:s, s:s}", "scheme",
		                tls ? "https" : "http", "address", buf);
	}
	return 0;
}

static int serve(struct oam *o, struct accounts *accounts)
{
	struct api_conf ac = {
	        .secret = (const uint8_t *)o->secret,
	        .secretlen = o->secretlen,
	        .token_ttl_s = (long)o->conf.token_ttl,
	        .rl = {.max_failures = (unsigned)o->conf.login_max_failures,
	               .window_s = (unsigned)o->conf.login_window,
	               .lockout_s = (unsigned)o->conf.login_lockout,
	               .max_clients = 4096},
	};
	int err;

	err = evloop_alloc(&o->loop);
	if (!err)
		err = api_alloc(&o->api, &ac, accounts, o->j);
	if (err) {
		accounts_free(accounts);
		return 1;
	}
	if (httpd_alloc(&o->httpd, o->loop, o->api, o->j) ||
	    evloop_signal_add(o->loop, SIGTERM, on_term, o) ||
	    evloop_signal_add(o->loop, SIGINT, on_term, o) ||
	    evloop_signal_add(o->loop, SIGHUP, on_hup, o))
		return 1;
	if (listen_all(o, o->conf.listen, 1) || listen_all(o, o->conf.http_listen, 0))
		return 2;
	journal_emit(o->j, "server.start", "{s:s, s:I}", "version", ONSIGHT_VERSION, "accounts",
	             (json_int_t)accounts_count(accounts));
	err = evloop_run(o->loop);
	journal_emit(o->j, "server.stop", "{s:s}", "reason", err ? strerror(err) : "signal");
	return err ? 1 : 0;
}

/* GnuTLS (inside libmicrohttpd) writes server-side TLS secrets to $SSLKEYLOGFILE, read
 * once when the library initialises: to honour --keylog, re-execute with it set. */
static void keylog_reexec(const char *keylog, char **argv)
{
	const char *cur = getenv("SSLKEYLOGFILE");

	if (!keylog || (cur && strcmp(cur, keylog) == 0))
		return;
	setenv("SSLKEYLOGFILE", keylog, 1);
	execv("/proc/self/exe", argv);
	log_warn("re-exec for --keylog; TLS secrets will not be logged");
}

int main(int argc, char **argv)
{
	struct oam o;
	struct accounts *accounts = NULL;
	int check = 0, rc = 2;

	memset(&o, 0, sizeof(o));
	log_init("mock-oam", LOG_LVL_INFO);
	util_ignore_sigpipe();
	if (cliconf_load(&cli, argc, argv, &o.conf, &check) || check_conf(&o.conf))
		goto out;
	log_init("mock-oam", (enum log_level)log_level_parse(o.conf.log_level));
	if (load_files(&o, &accounts))
		goto out;
	if (check) {
		printf("mock-oam: configuration OK (%zu accounts)\n", accounts_count(accounts));
		accounts_free(accounts);
		rc = 0;
		goto out;
	}
	keylog_reexec(o.conf.keylog, argv);
	if (journal_open(&o.j, o.conf.events, "mock-oam")) {
		fprintf(stderr, "mock-oam: events %s: %s\n", o.conf.events, strerror(errno));
		accounts_free(accounts);
		goto out;
	}
	rc = serve(&o, accounts);
out:
	httpd_free(o.httpd);
	if (o.api)
		accounts_free(api_set_accounts(o.api, NULL));
	api_free(o.api);
	evloop_free(o.loop);
	journal_close(o.j);
	free(o.secret);
	free(o.cert_pem);
	free(o.key_pem);
	jcfg_free(conf_keys, ARRAY_SIZE(conf_keys), &o.conf);
	return rc;
}
