/* mock-sip - SIP registrar, proxy, media relay and STUN server (DESIGN §3.2,
 * docs/protocol/sip.md). */
#define LOG_TAG "main"
#include "control.h"
#include "peer.h"
#include "proxy.h"
#include "registrar.h"
#include "relay.h"
#include "sipmsg.h"
#include "stunsrv.h"
#include "transport.h"
#include "txn.h"

#include "onsight/evloop.h"
#include "onsight/cliconf.h"
#include "onsight/jsoncfg.h"
#include "onsight/journal.h"
#include "onsight/log.h"
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

struct sip_conf {
	char **listen, **domain;
	long long sip_port, tls_port, stun_port;
	char *cert, *key, *users, *media_addr, *media_range, *peer_user, *control, *events;
	char *keylog, *log_level;
	long long max_msg, max_conns, conn_idle, max_calls, max_contacts, min_expires;
	long long max_expires, default_expires, nonce_ttl, nonce_slots, media_timeout, call_max;
	long long max_txn;
};

#define K(path, type, field, min, max, def, defs) \
	{ \
		path, type, offsetof(struct sip_conf, field), min, max, def, defs, 0 \
	}
/* The configuration keys, their bounds and defaults (also the --config file format). */
static const struct jcfg_key conf_keys[] = {
        K("listen", JCFG_STRLIST, listen, 0, 16, 0, NULL),
        K("domain", JCFG_STRLIST, domain, 0, 16, 0, NULL),
        K("sip_port", JCFG_INT, sip_port, 0, 65535, 5060, NULL),
        K("tls_port", JCFG_INT, tls_port, 0, 65535, 5061, NULL),
        K("stun_port", JCFG_INT, stun_port, 0, 65535, 3478, NULL),
        K("cert", JCFG_STRING, cert, 0, 4096, 0, NULL),
        K("key", JCFG_STRING, key, 0, 4096, 0, NULL),
        K("users", JCFG_STRING, users, 0, 4096, 0, NULL),
        K("media_addr", JCFG_STRING, media_addr, 0, 64, 0, NULL),
        K("media_range", JCFG_STRING, media_range, 0, 16, 0, "15000-65000"),
        K("peer_user", JCFG_STRING, peer_user, 0, 63, 0, "peer"),
        K("control", JCFG_STRING, control, 0, 100, 0, NULL),
        K("events", JCFG_STRING, events, 0, 4096, 0, NULL),
        K("keylog", JCFG_STRING, keylog, 0, 4096, 0, NULL),
        K("log_level", JCFG_STRING, log_level, 0, 8, 0, "info"),
        K("limits.max_message", JCFG_INT, max_msg, 1024, 65535, 65535, NULL),
        K("limits.max_connections", JCFG_INT, max_conns, 1, 100000, 1024, NULL),
        K("limits.connection_idle_s", JCFG_INT, conn_idle, 1, 86400, 900, NULL),
        K("limits.max_calls", JCFG_INT, max_calls, 1, 100000, 256, NULL),
        K("limits.max_contacts", JCFG_INT, max_contacts, 1, 64, 8, NULL),
        K("limits.max_transactions", JCFG_INT, max_txn, 16, 10000000, 65536, NULL),
        K("register.min_expires", JCFG_INT, min_expires, 1, 86400, 60, NULL),
        K("register.max_expires", JCFG_INT, max_expires, 1, 86400, 3600, NULL),
        K("register.default_expires", JCFG_INT, default_expires, 1, 86400, 3600, NULL),
        K("register.nonce_ttl_s", JCFG_INT, nonce_ttl, 1, 86400, 300, NULL),
        K("register.nonce_slots", JCFG_INT, nonce_slots, 16, 16777216, 65536, NULL),
        K("media.timeout_s", JCFG_INT, media_timeout, 5, 86400, 120, NULL),
        K("media.call_max_s", JCFG_INT, call_max, 10, 7 * 86400, 4 * 3600, NULL),
};

struct sipd {
	struct sip_conf conf;
	struct evloop *loop;
	struct journal *j;
	SSL_CTX *tls;
	struct tp *tp;
	struct txnl *txn;
	struct registrar *reg;
	struct relay *relay;
	struct proxy *proxy;
	struct peer *peer;
	struct stunsrv *stun[16];
	struct control *ctl;
	uint16_t media_min, media_max;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mock-sip --users FILE [--listen ADDR]... [options]\n"
	        "\n"
	        "SIP registrar (digest), proxy with media relay, STUN server and a built-in peer.\n"
	        "\n"
	        "  --listen ADDR            v4 or v6 literal (repeatable; default 127.0.0.1)\n"
	        "  --sip-port N             UDP and TCP port (default 5060; 0 = ephemeral)\n"
	        "  --tls-port N             TLS port (default 5061; needs --cert and --key)\n"
	        "  --cert FILE, --key FILE  PEM certificate chain and key for SIP over TLS\n"
	        "  --domain D               domain served (repeatable; default librestream.com;\n"
	        "                           the first is the digest realm)\n"
	        "  --users FILE             mock-oam accounts file (SIGHUP reloads)\n"
	        "  --media-addr ADDR        relay address (default: the first --listen)\n"
	        "  --media-range LO-HI      relay ports (default 15000-65000; LO is STUN)\n"
	        "  --stun-port N            STUN on UDP N of every listen address (default 3478;\n"
	        "                           0 = off; the first media port always answers STUN)\n"
	        "  --peer-user NAME         the built-in peer's user (default peer; \"\" = off)\n"
	        "  --control PATH           control socket (call USER [S], hangup [ID], status)\n"
	        "  --events FILE            append the event journal (JSON Lines) to FILE\n"
	        "  --keylog FILE            write TLS secrets (NSS key log) for Wireshark\n"
	        "  --config FILE            JSON settings (flags override; see README)\n"
	        "  --check-config           validate configuration and users, then exit\n"
	        "  --log-level LEVEL        err, warn, info (default) or debug\n"
	        "  --help, --version\n"
	        "\n"
	        "Exit status: 0 clean shutdown (SIGTERM/SIGINT), 1 runtime error, 2 bad usage or\n"
	        "configuration.\n");
}

static const struct cliconf_flag flags[] = {
        {"listen", "listen"},
        {"domain", "domain"},
        {"sip-port", "sip_port"},
        {"tls-port", "tls_port"},
        {"stun-port", "stun_port"},
        {"cert", "cert"},
        {"key", "key"},
        {"users", "users"},
        {"media-addr", "media_addr"},
        {"media-range", "media_range"},
        {"peer-user", "peer_user"},
        {"control", "control"},
        {"events", "events"},
        {"keylog", "keylog"},
        {"log-level", "log_level"},
};

static const struct cliconf cli = {
        "mock-sip", flags, ARRAY_SIZE(flags), conf_keys, ARRAY_SIZE(conf_keys), usage};

static int default_list(char ***list, const char *value)
{
	if ((*list)[0])
		return 0;
	free(*list);
	*list = calloc(2, sizeof(**list));
	return (*list && ((*list)[0] = strdup(value))) ? 0 : -1;
}

/* "::1" as well as "[::1]" and "127.0.0.1". */
static int parse_host(struct sock_addr *sa, const char *text)
{
	char buf[80];

	if (strchr(text, ':') && text[0] != '[') {
		snprintf(buf, sizeof(buf), "[%s]", text);
		return sock_addr_parse(sa, buf, 0);
	}
	return sock_addr_parse(sa, text, 0);
}

static int check_conf(struct sipd *d)
{
	struct sip_conf *c = &d->conf;
	unsigned lo = 0, hi = 0;
	char tail;

	if (!c->users) {
		fprintf(stderr, "mock-sip: --users is required (see --help)\n");
		return -1;
	}
	if (default_list(&c->listen, "127.0.0.1") || default_list(&c->domain, "librestream.com"))
		return -1;
	if ((c->cert == NULL) != (c->key == NULL)) {
		fprintf(stderr, "mock-sip: TLS needs both --cert and --key\n");
		return -1;
	}
	if (sscanf(c->media_range, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1024 || hi > 65535 ||
	    hi < lo + 5) {
		fprintf(stderr, "mock-sip: --media-range \"%s\" is not LO-HI within 1024-65535\n",
		        c->media_range);
		return -1;
	}
	d->media_min = (uint16_t)lo;
	d->media_max = (uint16_t)hi;
	if (cliconf_log_level("mock-sip", c->log_level))
		return -1;
	if (c->min_expires > c->max_expires) {
		fprintf(stderr, "mock-sip: register.min_expires is above register.max_expires\n");
		return -1;
	}
	return 0;
}

static const char *stun_key(void *arg, const char *user)
{
	return registrar_password(arg, user);
}

static void journal_listen(struct sipd *d, const char *proto, const struct sock_addr *a)
{
	char buf[SOCK_ADDR_STRLEN];

	sock_addr_str(a, buf, sizeof(buf));
	log_info("listening on %s %s", proto, buf);
	journal_emit_at(d->j, a, "server.listen", "{s:s, s:s}", "proto", proto, "address", buf);
}

static int listen_all(struct sipd *d)
{
	struct sip_conf *c = &d->conf;
	struct sock_addr sa, b;

	for (size_t i = 0; c->listen[i]; i++) {
		int err;
		if (parse_host(&sa, c->listen[i])) {
			fprintf(stderr, "mock-sip: --listen \"%s\" is not an address\n",
			        c->listen[i]);
			return 2;
		}
		err = tp_listen(d->tp, &sa, (uint16_t)c->sip_port, (uint16_t)c->tls_port);
		if (err) {
			fprintf(stderr, "mock-sip: listen %s: %s\n", c->listen[i], strerror(err));
			return 1;
		}
		if (c->stun_port > 0 && i < ARRAY_SIZE(d->stun)) {
			sock_addr_set_port(&sa, (uint16_t)c->stun_port);
			err = stunsrv_open(&d->stun[i], d->loop, d->j, &sa);
			if (err) {
				fprintf(stderr, "mock-sip: STUN on %s: %s\n", c->listen[i],
				        strerror(err));
				return 1;
			}
			sock_addr_set_port(&sa, stunsrv_port(d->stun[i]));
			journal_listen(d, "stun", &sa);
		}
	}
	for (enum tp_kind k = TP_UDP; k <= TP_TLS; k++)
		for (size_t i = 0; tp_bound(d->tp, i, k, &b) == 0; i++)
			journal_listen(d, tp_kind_name(k), &b);
	return 0;
}

static int start_relay(struct sipd *d)
{
	struct relay_cfg rc = {.port_min = d->media_min,
	                       .port_max = d->media_max,
	                       .max_sessions = (size_t)d->conf.max_calls,
	                       .stun_on_first_port = 1};
	const char *ma = d->conf.media_addr ? d->conf.media_addr : d->conf.listen[0];
	int err;

	if (parse_host(&rc.addr, ma)) {
		fprintf(stderr, "mock-sip: --media-addr \"%s\" is not an address\n", ma);
		return 2;
	}
	err = relay_alloc(&d->relay, d->loop, d->j, &rc);
	if (err) {
		fprintf(stderr, "mock-sip: media relay on %s port %u: %s\n", ma, d->media_min,
		        strerror(err));
		return 1;
	}
	if (relay_stun_port(d->relay)) {
		struct sock_addr s = rc.addr;
		sock_addr_set_port(&s, relay_stun_port(d->relay));
		journal_listen(d, "stun", &s);
	}
	return 0;
}

static int start_peer(struct sipd *d)
{
	struct peer_cfg pc = {.user = d->conf.peer_user, .domain = d->conf.domain[0]};
	struct tp_flow flow;
	char contact[256];
	int err;

	if (!d->conf.peer_user[0])
		return 0;
	if (tp_bound(d->tp, 0, TP_UDP, &pc.proxy))
		return 1;
	pc.bind = pc.proxy;
	sock_addr_set_port(&pc.bind, 0);
	err = peer_alloc(&d->peer, d->loop, d->j, &pc);
	if (!err)
		err = peer_contact(d->peer, contact, sizeof(contact), &flow);
	if (!err)
		err = proxy_set_peer(d->proxy, d->conf.peer_user, contact, &flow);
	if (err) {
		fprintf(stderr, "mock-sip: built-in peer: %s\n", strerror(err));
		return 1;
	}
	log_info("peer %s@%s at %s", d->conf.peer_user, d->conf.domain[0], contact);
	return 0;
}

static void on_term(int signo, void *arg)
{
	struct sipd *d = arg;

	log_info("signal %d: shutting down", signo);
	evloop_stop(d->loop);
}

static void on_hup(int signo, void *arg)
{
	struct sipd *d = arg;
	char err[512];

	(void)signo;
	if (registrar_reload(d->reg, err, sizeof(err))) {
		log_warnx("reload failed, keeping the users we have: %s", err);
		journal_emit(d->j, "users.reload", "{s:b, s:s}", "ok", 0, "error", err);
		return;
	}
	log_info("reloaded %s", d->conf.users);
	journal_emit(d->j, "users.reload", "{s:b}", "ok", 1);
}

static int build(struct sipd *d, char *err, size_t errlen)
{
	struct sip_conf *c = &d->conf;
	struct tp_limits lim = {.max_msg = (size_t)c->max_msg,
	                        .max_conns = (size_t)c->max_conns,
	                        .idle_ms = (uint64_t)c->conn_idle * 1000};
	struct registrar_cfg rc = {.users_file = c->users,
	                           .domains = (const char *const *)c->domain,
	                           .min_expires = (unsigned)c->min_expires,
	                           .max_expires = (unsigned)c->max_expires,
	                           .default_expires = (unsigned)c->default_expires,
	                           .max_contacts = (size_t)c->max_contacts,
	                           .nonce_ttl_ms = (uint64_t)c->nonce_ttl * 1000,
	                           .nonce_slots = (size_t)c->nonce_slots};
	struct proxy_cfg pc = {.max_calls = (size_t)c->max_calls,
	                       .media_timeout_ms = (uint64_t)c->media_timeout * 1000,
	                       .call_max_ms = (uint64_t)c->call_max * 1000};
	int e;

	if ((e = evloop_alloc(&d->loop)) || (e = proxy_alloc(&d->proxy, d->loop, d->j, &pc)))
		return snprintf(err, errlen, "%s", strerror(e)), e;
	if (c->cert && (e = tls_server_ctx(&d->tls, c->cert, c->key, c->keylog)))
		return snprintf(err, errlen, "TLS certificate or key unusable"), e;
	if ((e = tp_alloc(&d->tp, d->loop, d->tls, &lim, proxy_receive, d->proxy)) ||
	    (e = txnl_alloc(&d->txn, d->loop, d->tp, d->j, (size_t)c->max_txn,
	                    proxy_client_response, d->proxy)))
		return snprintf(err, errlen, "%s", strerror(e)), e;
	if ((e = registrar_alloc(&d->reg, d->loop, d->j, d->txn, &rc, err, errlen)))
		return e;
	stunsrv_set_keys(stun_key, d->reg);
	return 0;
}

static int serve(struct sipd *d)
{
	char err[512] = "";
	int rc;

	if (build(d, err, sizeof(err))) {
		fprintf(stderr, "mock-sip: %s\n", err);
		return 2;
	}
	if ((rc = listen_all(d)) || (rc = start_relay(d)))
		return rc;
	proxy_attach(d->proxy, d->tp, d->txn, d->reg, d->relay);
	if ((rc = start_peer(d)))
		return rc;
	if (d->conf.control &&
	    control_open(&d->ctl, d->loop, d->conf.control, d->peer, d->proxy, d->reg)) {
		fprintf(stderr, "mock-sip: control socket %s: %s\n", d->conf.control,
		        strerror(errno));
		return 1;
	}
	if (evloop_signal_add(d->loop, SIGTERM, on_term, d) ||
	    evloop_signal_add(d->loop, SIGINT, on_term, d) ||
	    evloop_signal_add(d->loop, SIGHUP, on_hup, d))
		return 1;
	journal_emit(d->j, "server.start", "{s:s}", "version", ONSIGHT_VERSION);
	rc = evloop_run(d->loop);
	journal_emit(d->j, "server.stop", "{s:s}", "reason", rc ? strerror(rc) : "signal");
	return rc ? 1 : 0;
}

static void teardown(struct sipd *d)
{
	control_close(d->ctl);
	peer_free(d->peer);
	proxy_free(d->proxy);
	relay_free(d->relay);
	registrar_free(d->reg);
	txnl_free(d->txn);
	tp_free(d->tp);
	for (size_t i = 0; i < ARRAY_SIZE(d->stun); i++)
		stunsrv_close(d->stun[i]);
	SSL_CTX_free(d->tls);
	evloop_free(d->loop);
	journal_close(d->j);
}

static int check_only(struct sipd *d)
{
	struct registrar_cfg rc = {.users_file = d->conf.users,
	                           .domains = (const char *const *)d->conf.domain,
	                           .max_contacts = 1,
	                           .nonce_ttl_ms = 1000,
	                           .nonce_slots = 16};
	char err[512] = "";
	int e = evloop_alloc(&d->loop);

	if (!e)
		e = registrar_alloc(&d->reg, d->loop, NULL, NULL, &rc, err, sizeof(err));
	if (e) {
		fprintf(stderr, "mock-sip: %s\n", err[0] ? err : strerror(e));
		return 2;
	}
	printf("mock-sip: configuration OK\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sipd d;
	int check = 0, rc = 2;

	memset(&d, 0, sizeof(d));
	log_init("mock-sip", LOG_LVL_INFO);
	util_ignore_sigpipe();
	sipmsg_global_init();
	if (cliconf_load(&cli, argc, argv, &d.conf, &check) || check_conf(&d))
		goto out;
	log_init("mock-sip", (enum log_level)log_level_parse(d.conf.log_level));
	if (check) {
		rc = check_only(&d);
		goto out;
	}
	if (journal_open(&d.j, d.conf.events, "mock-sip")) {
		fprintf(stderr, "mock-sip: events %s: %s\n", d.conf.events, strerror(errno));
		goto out;
	}
	rc = serve(&d);
out:
	teardown(&d);
	jcfg_free(conf_keys, ARRAY_SIZE(conf_keys), &d.conf);
	return rc;
}
