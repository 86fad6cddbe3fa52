/* app.c - the endpoint's sequence and its restarts. */
#define LOG_TAG "app"
#include "app.h"

#include "decide.h"
#include "epconfig.h"
#include "eptunnel.h"
#include "netio.h"
#include "faults.h"
#include "netwatch.h"
#include "oam.h"
#include "probe.h"
#include "rtp.h"
#include "sipconn.h"
#include "sipmsg.h"
#include "sipua.h"
#include "status.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/sipframe.h"
#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define APP_MAX_TUNNEL_TRIES 8
#define APP_RELOGIN_AFTER 3 /* consecutive failures before logging in again */
#define APP_STOP_GRACE_MS 300 /* lets BYE and the unregister leave before exit */

struct tl_try {
	char server[256];
	unsigned port;
	const char *scheme;
};

struct app {
	const struct app_opts *o;
	struct evloop *loop;
	struct status *st;
	SSL_CTX *tls; /* HTTPS and SIP/TLS: verifies against --ca (unless the fault says not) */
	SSL_CTX *probe_tls; /* detect probes only: an open port is all they test */
	struct oam_session sess;
	int logged_in;
	struct epconfig cfg;
	int have_cfg;
	char web_proxy[300]; /* --proxy, else the configured teamlink.proxy; "" for none */
	/* the current attempt */
	enum path path;
	char sip_host[EPC_HOST_MAX + 1];
	unsigned sip_port;
	struct sipconn *conn;
	struct eptunnel *tun;
	struct sipframe *tframe;
	struct sipua *ua;
	struct sipconn *call_conn; /* call-out-wrong-server: the outgoing call's own flow */
	struct tl_try tries[APP_MAX_TUNNEL_TRIES];
	unsigned ntries, try_i;
	int tun_up;
	int proxy_dead; /* the web proxy could not be reached during this attempt: go direct */
	int asking_private; /* OPTIONS to the private server inside the tunnel is pending */
	uint64_t ask_timer;
	/* direct-sip-while-tunnelled: the pending direct connect and where it goes */
	int stray_fd;
	unsigned stray_n;
	struct sock_addr stray_to;
	int stray_resolved;
	/* timers */
	uint64_t step_timer, call_timer, hold_timer, stop_timer, stray_timer;
	unsigned failures;
	unsigned backoff_ms;
	int restart_pending; /* a retry is scheduled: later failures of this attempt are echoes */
	int call_placed;
	int stopping;
	int early_reg_tried; /* register-before-detect: the one direct attempt before detecting */
	int early_reg_pending; /* ... and it is the registration under way */
	struct netwatch *nw;
};

static void step_login(void *arg);
static void step_connect(void *arg);

static void set_timer(struct app *a, uint64_t *t, uint64_t ms, void (*h)(void *))
{
	if (*t)
		evloop_timer_cancel(a->loop, *t);
	*t = evloop_timer_add(a->loop, ms, h, a);
}

/* ---- fault direct-sip-while-tunnelled ---- */

static void stray_close(struct app *a)
{
	if (a->stray_fd >= 0)
		close(a->stray_fd);
	a->stray_fd = -1;
}

static void stray_stop(struct app *a)
{
	if (a->stray_timer)
		evloop_timer_cancel(a->loop, a->stray_timer);
	a->stray_timer = 0;
	stray_close(a);
	a->stray_resolved = 0;
}

/* Fault: once a second, a direct TCP connect to the SIP server on 5060, then 5061, as if the
 * tunnel were not there (the firewall that made us tunnel drops the SYNs). The previous
 * attempt is judged and closed first. */
static void stray_tick(void *arg)
{
	struct app *a = arg;
	char to[SOCK_ADDR_STRLEN], detail[300];
	unsigned port = a->stray_n++ % 2 ? DETECT_SIPS_PORT : DETECT_SIP_PORT;

	a->stray_timer = evloop_timer_add(a->loop, 1000, stray_tick, a);
	if (a->stray_fd >= 0) {
		/* SO_ERROR is 0 while the connect is still pending: writable means it ended. */
		struct pollfd p = {.fd = a->stray_fd, .events = POLLOUT};
		int rc = poll(&p, 1, 0) == 1 ? sock_connect_result(a->stray_fd) : EINPROGRESS;

		snprintf(detail, sizeof(detail), "direct TCP to %s while tunnelled: %s",
		         sock_addr_str(&a->stray_to, to, sizeof(to)),
		         rc == 0                                       ? "connected"
		                 : rc == EINPROGRESS || rc == EALREADY ? "no answer"
		                                                       : strerror(rc));
		status_emit(a->st, "error", "{s:s, s:s, s:i}", "what", "sip", "detail", detail,
		            "retry_in_ms", 1000);
		stray_close(a);
	}
	if (!a->stray_resolved) {
		if (netio_resolve(a->sip_host, DETECT_SIP_PORT, SOCK_STREAM, &a->stray_to))
			return;
		a->stray_resolved = 1;
	}
	sock_addr_set_port(&a->stray_to, (uint16_t)port);
	a->stray_fd = sock_connect_tcp(&a->stray_to);
	if (a->stray_fd < 0)
		a->stray_fd = -1;
}

static void teardown(struct app *a)
{
	if (a->call_timer)
		evloop_timer_cancel(a->loop, a->call_timer);
	if (a->hold_timer)
		evloop_timer_cancel(a->loop, a->hold_timer);
	a->call_timer = a->hold_timer = 0;
	if (a->ask_timer)
		evloop_timer_cancel(a->loop, a->ask_timer);
	a->ask_timer = 0;
	a->asking_private = 0;
	stray_stop(a);
	sipua_free(a->ua);
	a->ua = NULL;
	sipconn_free(a->call_conn);
	a->call_conn = NULL;
	sipconn_free(a->conn);
	a->conn = NULL;
	if (a->tun) {
		eptunnel_free(a->tun);
		a->tun = NULL;
		if (a->tun_up)
			status_emit(a->st, "tunnel", "{s:s, s:s, s:s}", "state", "closed", "server",
			            a->tries[a->try_i].server, "reason",
			            a->stopping ? "stop" : "restart");
	}
	a->tun_up = 0;
	sipframe_free(a->tframe);
	a->tframe = NULL;
}

/* Reports a failure and schedules next (login or connect) after the backoff. Teardown
 * happens when that step runs: we may be inside a callback of what would be freed. */
static void retry(struct app *a, const char *what, const char *detail, void (*next)(void *))
{
	unsigned ms = a->backoff_ms ? a->backoff_ms * 2 : a->o->retry_min_ms;

	if (a->restart_pending || a->stopping)
		return;
	a->restart_pending = 1;
	if (ms > a->o->retry_max_ms)
		ms = a->o->retry_max_ms;
	a->backoff_ms = ms;
	a->failures++;
	if (a->failures >= APP_RELOGIN_AFTER && next == step_connect) {
		a->logged_in = 0; /* the token or configuration may be what is wrong */
		next = step_login;
	}
	status_emit(a->st, "error", "{s:s, s:s, s:i}", "what", what, "detail", detail,
	            "retry_in_ms", (int)ms);
	set_timer(a, &a->step_timer, ms, next);
}

/* ---- calls ---- */

static void hold_over(void *arg)
{
	struct app *a = arg;

	a->hold_timer = 0;
	sipua_hangup(a->ua);
}

static void place_call(void *arg)
{
	struct app *a = arg;
	int err;

	a->call_timer = 0;
	if (!a->ua || !sipua_registered(a->ua))
		return;
	err = sipua_call(a->ua, a->o->call_uri);
	if (err) {
		status_emit(a->st, "error", "{s:s, s:s, s:i}", "what", "call", "detail",
		            strerror(err), "retry_in_ms", 1000);
		set_timer(a, &a->call_timer, 1000, place_call);
		return;
	}
	a->call_placed = 1;
	set_timer(a, &a->hold_timer, (uint64_t)a->o->call_hold_s * 1000, hold_over);
}

/* ---- UA hooks ---- */

static int hook_send(void *arg, const char *buf, size_t len)
{
	struct app *a = arg;

	if (a->conn)
		return sipconn_send(a->conn, buf, len);
	if (a->tun)
		return eptunnel_sip_send(a->tun, buf, len);
	return ENOTCONN;
}

static void call_conn_msg(void *arg, const char *msg, size_t len)
{
	struct app *a = arg;

	if (a->ua)
		(void)sipua_input(a->ua, msg, len);
}

static void call_conn_closed(void *arg, const char *reason)
{
	struct app *a = arg;

	/* Only the call's own flow is gone; the registration stays. sipconn calls this from a
	 * loop iteration of its own, so the connection may be freed here; the next call opens
	 * another. */
	status_emit(a->st, "error", "{s:s, s:s, s:i}", "what", "call", "detail", reason,
	            "retry_in_ms", 0);
	sipconn_free(a->call_conn);
	a->call_conn = NULL;
}

/* The outgoing call's messages when decide_call_route sends them elsewhere than the
 * registration's flow (fault call-out-wrong-server): their own direct connection. */
static int hook_call_send(void *arg, const char *buf, size_t len)
{
	struct app *a = arg;
	struct epc_hostport to;
	struct sipconn_opts so;
	char reason[256];
	int err;

	if (!a->call_conn) {
		if (!decide_call_route(&a->cfg, a->o->faults, &to))
			return hook_send(arg, buf, len);
		memset(&so, 0, sizeof(so));
		so.host = to.host;
		so.port = to.port;
		so.transport = epc_transport_name(decide_sip_transport(&a->cfg, a->o->faults));
		so.ctx = a->tls;
		so.timeout_ms = a->o->sip_timeout_ms;
		err = sipconn_open(&a->call_conn, a->loop, &so, call_conn_msg, call_conn_closed, a,
		                   reason, sizeof(reason));
		if (err) {
			status_emit(a->st, "error", "{s:s, s:s, s:i}", "what", "call", "detail",
			            reason, "retry_in_ms", 0);
			return err;
		}
	}
	return sipconn_send(a->call_conn, buf, len);
}

static int hook_media_open(void *arg, struct rtp *r, const char *host, unsigned port)
{
	struct app *a = arg;

	if (a->path == PATH_TEAMLINK && a->tun)
		return eptunnel_media(a->tun, r, host, port);
	return rtp_start(r, host, port);
}

static void hook_media_close(void *arg, struct rtp *r)
{
	struct app *a = arg;

	rtp_stop(r);
	if (a->tun)
		eptunnel_media_close(a->tun, r);
}

static void hook_reg(void *arg, int ok, const char *reason)
{
	struct app *a = arg;

	if (!ok) {
		retry(a, "register", reason, step_connect);
		return;
	}
	a->failures = 0;
	a->backoff_ms = 0;
	if (a->early_reg_pending) {
		/* register-before-detect: registered; only now Firewall Detect, and the path it
		 * picks (from a timer: the UA that called us is torn down). */
		a->early_reg_pending = 0;
		a->restart_pending = 1;
		set_timer(a, &a->step_timer, 0, step_connect);
		return;
	}
	if ((a->o->faults & F_DIRECT_SIP_WHILE_TUNNELLED) && a->path == PATH_TEAMLINK &&
	    !a->stray_timer)
		a->stray_timer = evloop_timer_add(a->loop, 0, stray_tick, a);
	if (a->o->call_uri && !a->call_placed && !a->call_timer)
		set_timer(a, &a->call_timer, (uint64_t)a->o->call_after_s * 1000, place_call);
}

static int start_ua(struct app *a, const char *local_host, unsigned local_port)
{
	struct sipua_conf uc;
	struct sipua_hooks hk = {hook_send, hook_media_open, hook_media_close, hook_reg, NULL, a};
	struct epc_hostport unused;
	unsigned f = a->o->faults;
	int err;

	if (decide_call_route(&a->cfg, f, &unused))
		hk.call_send = hook_call_send;

	memset(&uc, 0, sizeof(uc));
	uc.aor = a->cfg.sip_uri;
	uc.display = a->cfg.display_name;
	uc.auth_user = a->cfg.auth_user;
	uc.auth_password = a->cfg.auth_password;
	uc.expires = a->cfg.register_expires;
	/* Through the tunnel SIP rides the channel's TCP or TLS: only direct SIP can be UDP. */
	uc.transport = epc_transport_name(
	        a->path == PATH_TEAMLINK ? a->cfg.transport : decide_sip_transport(&a->cfg, f));
	uc.server_host = a->sip_host;
	uc.server_port = a->sip_port;
	uc.path = a->path == PATH_TEAMLINK ? "teamlink" : "direct";
	uc.local_host = local_host;
	uc.local_port = local_port;
	uc.port_min = a->cfg.port_min;
	uc.port_max = a->cfg.port_max;
	uc.media_ports = f & F_MEDIA_BELOW_1024 ? RTP_PORTS_BELOW_1024
	        : f & F_MEDIA_OUT_OF_RANGE      ? RTP_PORTS_BELOW_RANGE
	                                        : RTP_PORTS_IN_RANGE;
	uc.no_rtp = !!(f & F_NO_RTP);
	uc.auto_answer = a->o->auto_answer;
	uc.timeout_ms = a->o->sip_timeout_ms;
	err = sipua_alloc(&a->ua, a->loop, a->st, &uc, &hk);
	if (!err)
		err = sipua_register(a->ua);
	return err;
}

/* ---- direct path ---- */

static void conn_msg(void *arg, const char *msg, size_t len)
{
	struct app *a = arg;

	if (a->ua)
		(void)sipua_input(a->ua, msg, len);
}

static void conn_closed(void *arg, const char *reason)
{
	retry(arg, "sip", reason, step_connect);
}

static void connect_direct(struct app *a)
{
	struct sipconn_opts so;
	char reason[256], lh[64];
	unsigned lp = 0;
	int err;

	memset(&so, 0, sizeof(so));
	so.host = a->sip_host;
	so.port = a->sip_port;
	so.transport = epc_transport_name(decide_sip_transport(&a->cfg, a->o->faults));
	so.ctx = a->tls;
	so.timeout_ms = a->o->sip_timeout_ms;
	if ((a->o->faults & F_SIP_VIA_PROXY) && a->web_proxy[0]) {
		/* Fault: SIP through the web proxy (note §2 forbids it outside a tunnel). */
		static char host[256];
		char *colon;

		str_copy(host, a->web_proxy, sizeof(host));
		colon = strrchr(host, ':');
		if (colon) {
			*colon = '\0';
			so.proxy_host = host;
			so.proxy_port = (unsigned)atoi(colon + 1);
		}
	}
	err = sipconn_open(&a->conn, a->loop, &so, conn_msg, conn_closed, a, reason,
	                   sizeof(reason));
	if (err) {
		retry(a, "sip", reason, step_connect);
		return;
	}
	sipconn_local(a->conn, lh, sizeof(lh), &lp);
	err = start_ua(a, lh, lp);
	if (err)
		retry(a, "register", strerror(err), step_connect);
}

/* ---- TeamLink path ---- */

static void emit_server(struct app *a, const char *chosen, const char *reason)
{
	status_emit(a->st, "sip.server", "{s:s, s:s, s:i, s:s, s:s}", "chosen", chosen, "host",
	            a->sip_host, "port", (int)a->sip_port, "reason", reason, "path",
	            a->path == PATH_TEAMLINK ? "teamlink" : "direct");
}

static void start_tunnel_ua(struct app *a)
{
	char lh[64];
	unsigned lp = 0;
	int err;

	eptunnel_local(a->tun, lh, sizeof(lh), &lp);
	if (!lh[0]) {
		/* The server did not say which address it uses: fall back to ours. */
		char route[64];

		netwatch_state(lh, sizeof(lh), route, sizeof(route));
		lp = 5060;
	}
	err = start_ua(a, lh, lp);
	if (err)
		retry(a, "register", strerror(err), step_connect);
}

/* The private server did not answer OPTIONS through the tunnel: the public one, through
 * the same tunnel (note §4, §3 scenario 4). Runs from a timer, outside channel callbacks. */
static void private_unanswered(void *arg)
{
	struct app *a = arg;
	char reason[300];
	int err;

	a->ask_timer = 0;
	if (!a->asking_private)
		return;
	a->asking_private = 0;
	eptunnel_sip_close(a->tun);
	sipframe_free(a->tframe);
	a->tframe = NULL;
	snprintf(reason, sizeof(reason), "private %.200s did not answer OPTIONS through the tunnel",
	         a->cfg.priv.host);
	{
		struct epc_hostport reg;

		decide_registrar(&a->cfg, a->o->faults, &a->cfg.pub, &reg);
		str_copy(a->sip_host, reg.host, sizeof(a->sip_host));
		a->sip_port = reg.port;
	}
	emit_server(a, "public", reason);
	err = sipframe_alloc(&a->tframe, SIPFRAME_MAX_MSG);
	if (!err)
		err = eptunnel_sip(a->tun, a->sip_host, a->sip_port,
		                   a->cfg.transport == EPC_TLS ? "tls" : "tcp");
	if (err)
		retry(a, "tunnel", strerror(err), step_connect);
}

static void private_answered(struct app *a, int status)
{
	char reason[128];

	if (a->ask_timer)
		evloop_timer_cancel(a->loop, a->ask_timer);
	a->ask_timer = 0;
	a->asking_private = 0;
	snprintf(reason, sizeof(reason), "private answered OPTIONS through the tunnel (%d)",
	         status);
	emit_server(a, "private", reason);
	start_tunnel_ua(a);
}

static void ask_private(struct app *a)
{
	char req[1024], lh[64];
	unsigned lp = 0;
	int n;

	eptunnel_local(a->tun, lh, sizeof(lh), &lp);
	n = probe_build_options(req, sizeof(req), a->sip_host, a->sip_port,
	                        a->cfg.transport == EPC_TLS ? "tls" : "tcp", lh[0] ? lh : "0.0.0.0",
	                        lp ? lp : 5060);
	if (n < 0 || eptunnel_sip_send(a->tun, req, (size_t)n)) {
		set_timer(a, &a->ask_timer, 0, private_unanswered);
		return;
	}
	set_timer(a, &a->ask_timer, a->o->detect_timeout_ms, private_unanswered);
}

static void tunnel_next(struct app *a);

static void tun_sip_data(void *arg, const uint8_t *buf, size_t len)
{
	struct app *a = arg;
	const char *msg;
	size_t mlen;

	if (!a->tframe || sipframe_feed(a->tframe, buf, len)) {
		retry(a, "sip", "SIP stream over the size cap", step_connect);
		return;
	}
	for (int i = 0; i < 64; i++) {
		int rc = sipframe_next(a->tframe, &msg, &mlen);

		if (rc == SIPFRAME_MORE)
			return;
		if (rc == SIPFRAME_PING) {
			if (eptunnel_sip_send(a->tun, "\r\n", 2))
				return;
			continue;
		}
		if (rc < 0) {
			retry(a, "sip", "unframeable SIP stream in the tunnel", step_connect);
			return;
		}
		if (a->asking_private) {
			struct sipmsg *m = malloc(sizeof(*m));

			if (m && sipmsg_parse(m, msg, mlen) == 0 && !m->is_request &&
			    strcmp(m->cseq_method, "OPTIONS") == 0) {
				int status = m->status;

				free(m);
				private_answered(a, status);
				continue;
			}
			free(m);
			continue;
		}
		if (a->ua)
			(void)sipua_input(a->ua, msg, mlen);
		if (!a->tframe)
			return; /* the input tore everything down */
	}
}

static void tun_sip_open(void *arg, int ok, const char *reason)
{
	struct app *a = arg;

	if (a->asking_private) {
		if (ok)
			ask_private(a);
		else
			set_timer(a, &a->ask_timer, 0, private_unanswered);
		return;
	}
	if (!ok) {
		retry(a, "sip", reason, step_connect);
		return;
	}
	start_tunnel_ua(a);
}

static void tun_up(void *arg)
{
	struct app *a = arg;
	struct tl_try *t = &a->tries[a->try_i];
	int err;

	a->tun_up = 1;
	status_emit(a->st, "tunnel", "{s:s, s:s, s:i, s:s, s:b}", "state", "open", "server",
	            t->server, "port", (int)t->port, "scheme", t->scheme, "via_proxy",
	            a->web_proxy[0] != 0 && !a->proxy_dead);
	err = sipframe_alloc(&a->tframe, SIPFRAME_MAX_MSG);
	if (!err)
		err = eptunnel_sip(a->tun, a->sip_host, a->sip_port,
		                   a->cfg.transport == EPC_TLS ? "tls" : "tcp");
	if (err)
		retry(a, "tunnel", strerror(err), step_connect);
}

static void tun_down(void *arg, const char *reason)
{
	struct app *a = arg;
	struct tl_try *t = &a->tries[a->try_i];

	status_emit(a->st, "tunnel", "{s:s, s:s, s:i, s:s, s:b, s:s}", "state",
	            a->tun_up ? "closed" : "failed", "server", t->server, "port", (int)t->port,
	            "scheme", t->scheme, "via_proxy", a->web_proxy[0] != 0 && !a->proxy_dead,
	            "reason", reason);
	if (a->tun_up) {
		a->tun_up = 0;
		retry(a, "tunnel", reason, step_connect);
		return;
	}
	/* Not up yet: the next server or scheme (HTTPS, then HTTP when allowed). A proxy that
	 * cannot even be reached (the endpoint left the LAN that has it) is skipped from now on. */
	if (eptunnel_proxy_unreachable(a->tun) && !a->proxy_dead) {
		a->proxy_dead = 1;
		a->try_i = 0;
		tunnel_next(a);
		return;
	}
	a->try_i++;
	tunnel_next(a);
}

static void tunnel_next_timer(void *arg)
{
	struct app *a = arg;
	struct eptunnel_cbs cbs = {tun_up, tun_down, tun_sip_open, tun_sip_data, a};
	struct eptunnel_opts to;
	struct tl_try *t;
	int err;

	a->step_timer = 0;
	if (a->tun) {
		eptunnel_free(a->tun);
		a->tun = NULL;
	}
	for (; a->try_i < a->ntries; a->try_i++) {
		t = &a->tries[a->try_i];
		memset(&to, 0, sizeof(to));
		to.server = t->server;
		to.port = t->port;
		to.scheme = t->scheme;
		to.token = a->sess.token;
		to.proxy = a->web_proxy[0] && !a->proxy_dead ? a->web_proxy : NULL;
		to.tls = a->tls;
		to.timeout_ms = a->o->http_timeout_ms;
		err = eptunnel_open(&a->tun, a->loop, &to, &cbs);
		if (!err)
			return;
		if (to.proxy && !a->proxy_dead) {
			/* The proxy could not even be resolved or connected: not on this network.
			 * Start the list again, directly. */
			status_emit(a->st, "tunnel", "{s:s, s:s, s:i, s:s, s:b, s:s}", "state",
			            "failed", "server", t->server, "port", (int)t->port, "scheme",
			            t->scheme, "via_proxy", 1, "reason", strerror(err));
			a->proxy_dead = 1;
			a->try_i = (unsigned)-1; /* the loop's increment wraps it to 0 */
			continue;
		}
		status_emit(a->st, "tunnel", "{s:s, s:s, s:i, s:s, s:b, s:s}", "state", "failed",
		            "server", t->server, "port", (int)t->port, "scheme", t->scheme,
		            "via_proxy", a->web_proxy[0] != 0 && !a->proxy_dead, "reason",
		            strerror(err));
	}
	retry(a, "tunnel", "no TeamLink server could be reached", step_connect);
}

/* The failed tunnel is freed from the timer, outside its own callback. */
static void tunnel_next(struct app *a)
{
	set_timer(a, &a->step_timer, 0, tunnel_next_timer);
}

static void add_try(struct app *a, const char *server, unsigned port, const char *scheme)
{
	struct tl_try *t;

	if (a->ntries >= APP_MAX_TUNNEL_TRIES)
		return;
	t = &a->tries[a->ntries++];
	str_copy(t->server, server, sizeof(t->server));
	t->port = port;
	t->scheme = scheme;
	/* A configured "host:port" (one colon: not an IPv6 literal) names its port for both
	 * schemes (a server on another port than 443/80). */
	{
		char *c = strchr(t->server, ':');

		if (c && !strchr(c + 1, ':') && atoi(c + 1) > 0 && atoi(c + 1) < 65536) {
			t->port = (unsigned)atoi(c + 1);
			*c = '\0';
		}
	}
}

static void connect_teamlink(struct app *a)
{
	struct oam_opts oo = {a->o->oam_url, a->web_proxy[0] ? a->web_proxy : NULL, a->tls,
	                      a->o->http_timeout_ms};
	struct tcm_assignment as;
	const char *schemes[2];
	unsigned ns = decide_schemes(&a->cfg, a->o->faults, schemes), i, s;
	char err[256];
	int assigned = 0;

	a->ntries = a->try_i = 0;
	a->proxy_dead = 0;
	/* Ask a TCM which server (teamlink.md §9); on failure use the configured list. */
	for (i = 0; i < a->cfg.ntcm && !assigned; i++) {
		if (tcm_assign(&oo, a->cfg.tcm[i], a->sess.token, &as, err, sizeof(err)) == 0) {
			assigned = 1;
			status_emit(a->st, "tcm", "{s:s, s:s, s:i, s:s}", "tcm", a->cfg.tcm[i],
			            "server", as.server, "port", (int)as.port, "scheme", as.scheme);
		} else {
			status_emit(a->st, "tcm", "{s:s, s:s}", "tcm", a->cfg.tcm[i], "error", err);
		}
	}
	for (s = 0; s < ns; s++) {
		unsigned def = strcmp(schemes[s], "https") == 0 ? 443 : 80;

		if (assigned)
			add_try(a, as.server, strcmp(as.scheme, schemes[s]) == 0 ? as.port : def,
			        schemes[s]);
		for (i = 0; i < a->cfg.nservers; i++)
			if (!assigned || strcmp(a->cfg.servers[i], as.server) != 0)
				add_try(a, a->cfg.servers[i], def, schemes[s]);
	}
	if (a->ntries == 0) {
		retry(a, "tunnel", "no TeamLink server configured or assigned", step_connect);
		return;
	}
	tunnel_next(a);
}

/* ---- detection and server choice ---- */

/* One Firewall Detect probe; the probes of a detect run at the same time, each on its own
 * thread, so a firewall that drops everything costs one timeout, not one per probe. */
struct detect_job {
	const char *target, *proto;
	unsigned port, timeout_ms;
	SSL_CTX *tls;
	pthread_t thread;
	int started, err, status;
	char reason[256], mapped[SOCK_ADDR_STRLEN];
};

static void *detect_job_run(void *arg)
{
	struct detect_job *j = arg;

	if (strcmp(j->proto, "stun") == 0)
		j->err = probe_stun(j->target, j->port, j->timeout_ms, j->mapped, sizeof(j->mapped),
		                    j->reason, sizeof(j->reason));
	else
		j->err = probe_sip_options(j->target, j->port,
		                           strcmp(j->proto, "tls-sip") == 0 ? "tls" : "tcp", j->tls,
		                           j->timeout_ms, &j->status, j->reason, sizeof(j->reason));
	return NULL;
}

static int run_detect(struct app *a)
{
	struct probe_plan plan[4];
	struct detect_job jobs[4];
	unsigned n = decide_probes(&a->cfg, plan), i;
	const char *target = decide_detect_target(&a->cfg, a->o->faults);
	json_t *probes = json_array();
	int all_open = 1;

	for (i = 0; i < n; i++) {
		unsigned k = strcmp(plan[i].proto, "tcp-sip") == 0 ? 0
		        : strcmp(plan[i].proto, "tls-sip") == 0    ? 1
		        : plan[i].port == DETECT_STUN_PORT         ? 2
		                                                   : 3;

		if (a->o->detect_ports[k])
			plan[i].port = a->o->detect_ports[k];
	}

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < n && target; i++) {
		jobs[i] = (struct detect_job){.target = target,
		                              .proto = plan[i].proto,
		                              .port = plan[i].port,
		                              .timeout_ms = a->o->detect_timeout_ms,
		                              .tls = a->probe_tls};
		/* Without a thread the probe still runs, just not alongside the others. */
		if (pthread_create(&jobs[i].thread, NULL, detect_job_run, &jobs[i]) == 0)
			jobs[i].started = 1;
		else
			detect_job_run(&jobs[i]);
	}
	for (i = 0; i < n && target; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].err)
			all_open = 0;
		json_array_append_new(probes,
		                      json_pack("{s:s, s:s, s:i, s:b, s:s}", "target", target,
		                                "proto", plan[i].proto, "port", (int)plan[i].port,
		                                "ok", !jobs[i].err, "reason",
		                                jobs[i].err ? jobs[i].reason : "answered"));
	}
	if (!target)
		all_open = 0;
	{
		const char *why;
		enum path p = decide_path(&a->cfg, a->o->faults, 1, all_open, &why);

		a->path = p;
		status_write(a->st, "detect",
		             json_pack("{s:s, s:s, s:s, s:s, s:o}", "result",
		                       p == PATH_TEAMLINK ? "teamlink" : "direct", "reason", why,
		                       "method", epc_detect_name(a->cfg.detect_method), "target",
		                       target ? target : "", "probes", probes));
	}
	return 0;
}

static void choose_server(struct app *a)
{
	const char *why;
	enum server_choice ch = decide_server(&a->cfg, a->o->faults, &why);
	const struct epc_hostport *hp = &a->cfg.pub;
	const char *chosen = "public";
	char reason[300];

	str_copy(reason, why, sizeof(reason));
	if (ch == CHOOSE_ASK_PRIVATE && a->path == PATH_TEAMLINK) {
		/* The OPTIONS goes where the SIP would go: through the tunnel, once it is up. */
		a->asking_private = 1;
		str_copy(a->sip_host, a->cfg.priv.host, sizeof(a->sip_host));
		a->sip_port = a->cfg.priv.port;
		return;
	}
	if (ch == CHOOSE_ASK_PRIVATE) {
		char r2[256];
		int status = 0;
		int err = probe_sip_options(
		        a->cfg.priv.host, a->cfg.priv.port,
		        epc_transport_name(decide_sip_transport(&a->cfg, a->o->faults)), a->tls,
		        a->o->detect_timeout_ms, &status, r2, sizeof(r2));

		if (!err) {
			ch = CHOOSE_PRIVATE;
			snprintf(reason, sizeof(reason), "private answered OPTIONS (%d)", status);
		} else {
			ch = CHOOSE_PUBLIC;
			snprintf(reason, sizeof(reason), "private did not answer OPTIONS: %s", r2);
		}
	}
	if (ch == CHOOSE_PRIVATE) {
		hp = &a->cfg.priv;
		chosen = "private";
	}
	{
		struct epc_hostport reg;

		decide_registrar(&a->cfg, a->o->faults, hp, &reg);
		str_copy(a->sip_host, reg.host, sizeof(a->sip_host));
		a->sip_port = reg.port;
	}
	emit_server(a, chosen, reason);
}

static void step_connect(void *arg)
{
	struct app *a = arg;

	a->step_timer = 0;
	a->restart_pending = 0;
	teardown(a);
	if (!a->logged_in) {
		step_login(a);
		return;
	}
	a->early_reg_pending = 0;
	if (decide_detect_runs(&a->cfg, a->o->faults) && !decide_detect_first(a->o->faults) &&
	    !a->early_reg_tried) {
		/* Fault register-before-detect: a direct registration before any probe, once. */
		a->early_reg_tried = 1;
		a->early_reg_pending = 1;
		a->path = PATH_DIRECT;
		choose_server(a);
		connect_direct(a);
		return;
	}
	if (decide_detect_runs(&a->cfg, a->o->faults)) {
		run_detect(a);
	} else {
		const char *why;

		a->path = decide_path(&a->cfg, a->o->faults, 0, 0, &why);
		status_emit(a->st, "detect", "{s:s, s:s, s:[]}", "result", "skipped", "reason",
		            a->path == PATH_TEAMLINK
		                    ? why
		                    : "TeamLink disabled: Firewall Detect does not run",
		            "probes");
	}
	choose_server(a);
	if (!decide_registers(a->o->faults))
		return; /* fault never-register: the server is chosen, nothing is sent to it */
	if (a->path == PATH_TEAMLINK)
		connect_teamlink(a);
	else
		connect_direct(a);
}

/* ---- login and configuration ---- */

/* Fault proxy-any-host: before the real CONNECT, one to a host the proxy's allow-list does
 * not name: the OAM server's bare address (skipping the name), or when that does not
 * resolve, the SIP server's TLS port. The proxy's answer is reported. */
static void stray_proxy_connect(struct app *a, const char *url)
{
	char proxy[300], host[300], target[SOCK_ADDR_STRLEN], detail[400];
	const char *h = strstr(url, "://"), *colon;
	struct sock_addr sa;
	unsigned pport;
	int status = 0, fd;

	str_copy(proxy, a->web_proxy, sizeof(proxy));
	colon = strrchr(proxy, ':');
	if (!colon || !h)
		return;
	pport = (unsigned)atoi(colon + 1);
	proxy[colon - proxy] = '\0';
	str_copy(host, h + 3, sizeof(host));
	host[strcspn(host, ":/")] = '\0';
	if (netio_resolve(host, 443, SOCK_STREAM, &sa) == 0) {
		sock_addr_host(&sa, target, sizeof(target));
		fd = netio_connect_via_proxy(proxy, pport, target, 443, a->o->http_timeout_ms,
		                             &status);
		snprintf(host, sizeof(host), "%s:443", target);
	} else {
		str_copy(host, CLOUD_SIP_HOST ":5061", sizeof(host));
		fd = netio_connect_via_proxy(proxy, pport, CLOUD_SIP_HOST, 5061,
		                             a->o->http_timeout_ms, &status);
	}
	if (fd >= 0)
		close(fd);
	snprintf(detail, sizeof(detail), "proxy CONNECT %s: %d", host, status);
	status_emit(a->st, "error", "{s:s, s:s, s:i}", "what", "login", "detail", detail,
	            "retry_in_ms", 0);
}

/* Fault no-config-fetch: the configuration an endpoint that never asked falls back to. */
static void builtin_config(struct app *a)
{
	decide_builtin_config(&a->cfg, a->o->user, a->o->password);
	a->have_cfg = 1;
	a->logged_in = 1;
	status_emit(a->st, "config", "{s:b, s:s, s:b, s:s, s:s, s:s}", "ok", 1, "source",
	            "built-in", "teamlink_enabled", 0, "detect_method",
	            epc_detect_name(a->cfg.detect_method), "transport",
	            epc_transport_name(a->cfg.transport), "connection",
	            epc_connection_name(a->cfg.connection));
	step_connect(a);
}

static void step_login(void *arg)
{
	struct app *a = arg;
	char url[600];
	struct oam_opts oo = {url, a->web_proxy[0] ? a->web_proxy : NULL, a->tls,
	                      a->o->http_timeout_ms};
	char err[512] = "", cfgerr[512];
	char *body = NULL;
	size_t len = 0;
	int status = 0, rc;

	a->step_timer = 0;
	a->restart_pending = 0;
	teardown(a);
	if (decide_oam_url(a->o->oam_url, a->o->faults, url, sizeof(url))) {
		retry(a, "login", "unusable OAM URL", step_login);
		return;
	}
	if ((a->o->faults & F_PROXY_ANY_HOST) && oo.proxy)
		stray_proxy_connect(a, url);
	rc = oam_login(&oo, a->o->user, a->o->password, a->o->device_id, &a->sess, &status, err,
	               sizeof(err));
	if (rc) {
		status_emit(a->st, "login", "{s:b, s:i, s:s, s:s}", "ok", 0, "status", status,
		            "url", url, "error", err);
		retry(a, "login", err, step_login);
		return;
	}
	status_emit(a->st, "login", "{s:b, s:i, s:s}", "ok", 1, "status", status, "url", url);
	if (!decide_fetch_config(a->o->faults)) {
		builtin_config(a);
		return;
	}
	rc = oam_config(&oo, &a->sess, &body, &len, &status, err, sizeof(err));
	if (!rc)
		rc = epconfig_parse(&a->cfg, body, len, cfgerr, sizeof(cfgerr));
	else
		str_copy(cfgerr, err, sizeof(cfgerr));
	free(body);
	if (rc) {
		a->have_cfg = 0;
		status_emit(a->st, "config", "{s:b, s:i, s:s}", "ok", 0, "status", status, "error",
		            cfgerr);
		retry(a, "config", cfgerr, step_login);
		return;
	}
	a->have_cfg = 1;
	a->logged_in = 1;
	if (!a->o->proxy && a->cfg.proxy.set)
		snprintf(a->web_proxy, sizeof(a->web_proxy), "%s:%u", a->cfg.proxy.host,
		         a->cfg.proxy.port);
	status_emit(a->st, "config", "{s:b, s:b, s:s, s:s, s:s}", "ok", 1, "teamlink_enabled",
	            a->cfg.tl_enabled, "detect_method", epc_detect_name(a->cfg.detect_method),
	            "transport", epc_transport_name(a->cfg.transport), "connection",
	            epc_connection_name(a->cfg.connection));
	step_connect(a);
}

/* ---- network changes, stop ---- */

static void on_netchange(void *arg, const char *address, const char *route)
{
	struct app *a = arg;
	int redo = !(a->o->faults & F_NO_REDETECT_ON_MIGRATE);

	status_emit(a->st, "network.change", "{s:s, s:s, s:b}", "address", address, "route", route,
	            "redetect", redo);
	if (!redo || a->stopping)
		return;
	a->failures = 0;
	a->backoff_ms = 0;
	a->restart_pending = 1;
	set_timer(a, &a->step_timer, 0, step_connect);
}

static void stop_now(void *arg)
{
	struct app *a = arg;

	a->stop_timer = 0;
	evloop_stop(a->loop);
}

static void begin_stop(struct app *a, const char *why)
{
	if (a->stopping)
		return;
	a->stopping = 1;
	status_emit(a->st, "stop", "{s:s}", "reason", why);
	if (a->step_timer)
		evloop_timer_cancel(a->loop, a->step_timer);
	a->step_timer = 0;
	if (a->ua) {
		sipua_hangup(a->ua);
		(void)sipua_unregister(a->ua);
	}
	set_timer(a, &a->stop_timer, APP_STOP_GRACE_MS, stop_now);
}

static void on_duration(void *arg)
{
	begin_stop(arg, "duration reached");
}

static void on_signal(int signo, void *arg)
{
	begin_stop(arg, signo == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int make_tls(struct app *a)
{
	int err = tls_client_ctx(&a->tls, a->o->ca_file, a->o->keylog);

	if (err)
		return err;
	if (a->o->faults & F_IGNORE_CERT_ERRORS)
		SSL_CTX_set_verify(a->tls, SSL_VERIFY_NONE, NULL); /* fault: accepts anything */
	err = tls_client_ctx(&a->probe_tls, a->o->ca_file, a->o->keylog);
	if (err)
		return err;
	/* A detect probe tests whether the port is open; no credential is sent on it. */
	SSL_CTX_set_verify(a->probe_tls, SSL_VERIFY_NONE, NULL);
	return 0;
}

int app_run(const struct app_opts *o)
{
	struct app a;
	uint64_t dur = 0;
	int err, rc = 1;

	memset(&a, 0, sizeof(a));
	a.o = o;
	a.stray_fd = -1;
	if (o->proxy)
		str_copy(a.web_proxy, o->proxy, sizeof(a.web_proxy));
	err = evloop_alloc(&a.loop);
	if (!err)
		err = status_alloc(&a.st, o->stdout_fd, o->events);
	if (!err)
		err = make_tls(&a);
	if (err) {
		log_errx("start-up failed: %s", strerror(err));
		goto out;
	}
	if (evloop_signal_add(a.loop, SIGTERM, on_signal, &a) ||
	    evloop_signal_add(a.loop, SIGINT, on_signal, &a))
		goto out;
	if (!o->no_netwatch && netwatch_alloc(&a.nw, a.loop, 400, on_netchange, &a))
		log_warnx("network watcher unavailable: changes will not be noticed");
	{
		char addr[64], route[64];

		netwatch_state(addr, sizeof(addr), route, sizeof(route));
		status_emit(a.st, "start", "{s:s, s:s, s:s, s:i}", "version", ONSIGHT_VERSION,
		            "address", addr, "route", route, "faults", (int)o->faults);
	}
	if (o->duration_s)
		dur = evloop_timer_add(a.loop, (uint64_t)o->duration_s * 1000, on_duration, &a);
	set_timer(&a, &a.step_timer, 0, step_login);
	err = evloop_run(a.loop);
	rc = err ? 1 : 0;
	(void)dur;
out:
	teardown(&a);
	netwatch_free(a.nw);
	if (a.loop) {
		if (a.step_timer)
			evloop_timer_cancel(a.loop, a.step_timer);
		if (a.stop_timer)
			evloop_timer_cancel(a.loop, a.stop_timer);
	}
	SSL_CTX_free(a.tls);
	SSL_CTX_free(a.probe_tls);
	status_free(a.st);
	evloop_free(a.loop);
	return rc;
}
