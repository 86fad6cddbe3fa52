#define LOG_TAG "httpd"
#include "httpd.h"

#include "onsight/log.h"
#include "onsight/util.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTPD_MAX_LISTEN 16
#define HTTPD_PATH_MAX 256 /* longest path kept for the journal */

struct listener {
	struct httpd *h;
	struct MHD_Daemon *d;
	int lfd;
	int epfd;
	const char *scheme;
};

struct httpd {
	struct evloop *loop;
	struct api *api;
	struct journal *j;
	struct listener ls[HTTPD_MAX_LISTEN];
	size_t nls;
	uint64_t tick; /* timer for MHD's own timeouts */
	unsigned deadline_s;
};

/* Per TCP connection: the absolute deadline. */
struct conn {
	struct listener *l;
	struct MHD_Connection *mc;
	uint64_t timer;
	char client[SOCK_ADDR_STRLEN];
	char local[SOCK_ADDR_STRLEN];
};

/* Per HTTP request: the body as it arrives. */
struct request {
	char *body;
	size_t len;
	int too_large;
};

static void httpd_pump(struct httpd *h);

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("microhttpd: %s", msg);
}

static void client_str(struct MHD_Connection *mc, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct sock_addr sa;

	memset(&sa, 0, sizeof(sa));
	if (ci && ci->client_addr) {
		sa.len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                                : sizeof(struct sockaddr_in);
		memcpy(&sa.ss, ci->client_addr, sa.len);
	}
	sock_addr_host(&sa, buf, len);
}

/* Our address the client reached ("ADDR:PORT"), for the journal; "" when unknown. */
static void local_str(struct MHD_Connection *mc, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sock_addr sa;

	buf[0] = '\0';
	if (ci && sock_local(ci->connect_fd, &sa) == 0)
		sock_addr_str(&sa, buf, len);
}

static void on_deadline(void *arg)
{
	struct conn *c = arg;
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);

	c->timer = 0;
	journal_emit(c->l->h->j, "http.deadline", "{s:s, s:i, s:s*}", "client", c->client,
	             "seconds", (int)c->l->h->deadline_s, "local", c->local[0] ? c->local : NULL);
	/* shutdown, not close: MHD still owns the descriptor and closes it itself. */
	if (ci)
		shutdown(ci->connect_fd, SHUT_RDWR);
	httpd_pump(c->l->h);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	struct conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return;
		c->l = l;
		c->mc = mc;
		client_str(mc, c->client, sizeof(c->client));
		local_str(mc, c->local, sizeof(c->local));
		c->timer = evloop_timer_add(l->h->loop, (uint64_t)l->h->deadline_s * 1000,
		                            on_deadline, c);
		*socket_context = c;
		return;
	}
	if (c) {
		evloop_timer_cancel(l->h->loop, c->timer);
		free(c);
		*socket_context = NULL;
	}
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

static enum MHD_Result send_resp(struct MHD_Connection *mc, const struct api_resp *rs)
{
	const char *body = rs->body ? rs->body : "";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char v[128];

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (rs->body)
		MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (rs->allow)
		MHD_add_response_header(resp, "Allow", rs->allow);
	if (rs->retry_after) {
		snprintf(v, sizeof(v), "%u", rs->retry_after);
		MHD_add_response_header(resp, "Retry-After", v);
	}
	if (rs->www_authenticate) {
		/* RFC 6750 §3 */
		if (rs->www_error[0])
			snprintf(v, sizeof(v), "Bearer realm=\"onsight\", error=\"%s\"",
			         rs->www_error);
		else
			snprintf(v, sizeof(v), "Bearer realm=\"onsight\"");
		MHD_add_response_header(resp, "WWW-Authenticate", v);
	}
	ret = MHD_queue_response(mc, (unsigned)rs->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Copies a request path for the journal: capped, printable ASCII only. */
static void clean_path(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

static int body_append(struct request *r, const char *data, size_t n)
{
	char *nb;

	if (r->too_large || r->len + n > API_MAX_BODY) {
		r->too_large = 1;
		return 0;
	}
	nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return ENOMEM;
	memcpy(nb + r->len, data, n);
	r->len += n;
	nb[r->len] = '\0';
	r->body = nb;
	return 0;
}

static enum MHD_Result dispatch(struct listener *l, struct MHD_Connection *mc, const char *url,
                                const char *method, struct request *r)
{
	struct api_req rq;
	struct api_resp rs;
	char client[SOCK_ADDR_STRLEN], local[SOCK_ADDR_STRLEN], path[HTTPD_PATH_MAX];
	enum MHD_Result ret;

	client_str(mc, client, sizeof(client));
	local_str(mc, local, sizeof(local));
	clean_path(path, sizeof(path), url);
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = path;
	rq.host = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Host");
	rq.authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
	rq.client = client;
	rq.local = local[0] ? local : NULL;
	rq.scheme = l->scheme;
	rq.body = r->body;
	rq.bodylen = r->len;
	rq.body_too_large = r->too_large;
	api_handle(l->h->api, &rq, time(NULL), &rs);
	ret = send_resp(mc, &rs);
	free(rs.body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct listener *l = cls;
	struct request *r = *con_cls;
	const char *cl;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		/* Refuse a declared oversized body before reading any of it. */
		cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY) {
			r->too_large = 1;
			return dispatch(l, mc, url, method, r);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (body_append(r, upload_data, *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(l, mc, url, method, r);
}

/* Runs every daemon and re-arms the timer for the soonest MHD timeout. */
static void on_tick(void *arg)
{
	struct httpd *h = arg;

	h->tick = 0;
	httpd_pump(h);
}

static void httpd_pump(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms, min = 1000;

	for (size_t i = 0; i < h->nls; i++) {
		MHD_run(h->ls[i].d);
		if (MHD_get_timeout(h->ls[i].d, &ms) == MHD_YES && ms < min)
			min = ms;
	}
	evloop_timer_cancel(h->loop, h->tick);
	h->tick = evloop_timer_add(h->loop, min, on_tick, h);
}

static void on_epoll(int fd, uint32_t events, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)events;
	httpd_pump(l->h);
}

int httpd_alloc(struct httpd **hp, struct evloop *loop, struct api *api, struct journal *j)
{
	struct httpd *h;

	if (!hp || !loop || !api)
		return EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ENOMEM;
	h->loop = loop;
	h->api = api;
	h->j = j;
	*hp = h;
	return 0;
}

static struct MHD_Daemon *start(struct listener *l, const struct httpd_conf *conf)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (conf->cert_pem)
		flags |= MHD_USE_TLS;
	/* TLS 1.2 is the floor (DESIGN §3.1). */
	return MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, l, MHD_OPTION_LISTEN_SOCKET, l->lfd,
	        MHD_OPTION_CONNECTION_LIMIT, conf->max_connections,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT, conf->max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	        conf->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, conf->memory_limit,
	        MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_NOTIFY_CONNECTION,
	        on_connection, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l, MHD_OPTION_HTTPS_MEM_CERT,
	        conf->cert_pem ? conf->cert_pem : "", MHD_OPTION_HTTPS_MEM_KEY,
	        conf->key_pem ? conf->key_pem : "", MHD_OPTION_HTTPS_PRIORITIES,
	        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_END);
}

int httpd_listen(struct httpd *h, const struct sock_addr *sa, const struct httpd_conf *conf,
                 struct sock_addr *bound)
{
	struct listener *l;
	const union MHD_DaemonInfo *di;
	int err;

	if (!h || !sa || !conf)
		return EINVAL;
	if (h->nls == HTTPD_MAX_LISTEN)
		return ENOSPC;
	l = &h->ls[h->nls];
	memset(l, 0, sizeof(*l));
	l->h = h;
	l->scheme = conf->cert_pem ? "https" : "http";
	l->lfd = sock_listen_tcp(sa, 128);
	if (l->lfd < 0)
		return -l->lfd;
	h->deadline_s = conf->deadline_s;
	l->d = start(l, conf);
	if (!l->d) {
		close(l->lfd);
		return EINVAL;
	}
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	l->epfd = di ? di->epoll_fd : -1;
	err = l->epfd < 0 ? EINVAL : evloop_fd_add(h->loop, l->epfd, EPOLLIN, on_epoll, l);
	if (err) {
		MHD_stop_daemon(l->d);
		close(l->lfd);
		return err;
	}
	if (bound)
		sock_local(l->lfd, bound);
	h->nls++;
	httpd_pump(h);
	return 0;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nls; i++) {
		evloop_fd_del(h->loop, h->ls[i].epfd);
		/* Closes every connection (their notify callbacks free our state). */
		MHD_stop_daemon(h->ls[i].d);
		close(h->ls[i].lfd);
	}
	evloop_timer_cancel(h->loop, h->tick);
	free(h);
}
