/* txn.c - server and client transactions in one hash table keyed by branch and method. */
#define LOG_TAG "txn"
#include "txn.h"
#include "onsight/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

struct txn {
	struct txn *next; /* bucket chain */
	struct txnl *l;
	char key[2 * SIPMSG_TOKEN + SOCK_ADDR_STRLEN];
	int client, invite, final;
	struct tp_flow flow; /* server: where responses go; client: where the request goes */
	char *buf; /* server: last response; client: the request */
	size_t len;
	int status;
	uint64_t rtx_timer, end_timer;
	uint64_t rtx_ms;
	/* client only */
	uint64_t cookie;
	struct tp_flow up;
	char *up_req;
	size_t up_len;
};

struct txnl {
	struct evloop *loop;
	struct tp *tp;
	struct journal *j;
	size_t max, count;
	txn_client_h *h;
	void *ctx;
	struct txn *bucket[NBUCKETS];
};

static unsigned hash_key(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS;
}

static void make_key(char *out, size_t cap, int client, const char *branch, const char *method)
{
	if (strcmp(method, "ACK") == 0)
		method = "INVITE";
	snprintf(out, cap, "%c|%s|%s", client ? 'c' : 's', branch, method);
}

static struct txn *find(struct txnl *l, const char *key)
{
	for (struct txn *t = l->bucket[hash_key(key)]; t; t = t->next)
		if (strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

static void txn_free(struct txn *t)
{
	struct txnl *l = t->l;
	struct txn **pp = &l->bucket[hash_key(t->key)];

	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
	evloop_timer_cancel(l->loop, t->rtx_timer);
	evloop_timer_cancel(l->loop, t->end_timer);
	free(t->buf);
	free(t->up_req);
	free(t);
	l->count--;
}

static struct txn *txn_new(struct txnl *l, const char *key)
{
	struct txn *t;
	unsigned b = hash_key(key);

	if (l->count >= l->max)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->l = l;
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->next = l->bucket[b];
	l->bucket[b] = t;
	l->count++;
	return t;
}

int txnl_alloc(struct txnl **lp, struct evloop *loop, struct tp *tp, struct journal *j,
               size_t max_entries, txn_client_h *h, void *ctx)
{
	struct txnl *l;

	if (!lp || !loop || !tp || !h)
		return EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	l->loop = loop;
	l->tp = tp;
	l->j = j;
	l->max = max_entries;
	l->h = h;
	l->ctx = ctx;
	*lp = l;
	return 0;
}

void txnl_free(struct txnl *l)
{
	if (!l)
		return;
	for (size_t b = 0; b < NBUCKETS; b++)
		while (l->bucket[b])
			txn_free(l->bucket[b]);
	free(l);
}

size_t txnl_count(const struct txnl *l)
{
	return l->count;
}

static void end_timer(void *arg)
{
	struct txn *t = arg;
	struct txnl *l = t->l;

	t->end_timer = 0;
	if (t->client && !t->final) {
		uint64_t cookie = t->cookie;
		struct tp_flow up = t->up;
		char *req = t->up_req;
		size_t n = t->up_len;
		t->up_req = NULL;
		txn_free(t);
		log_debug("client transaction timed out");
		l->h(l->ctx, cookie, &up, req, n, NULL);
		free(req);
		return;
	}
	txn_free(t);
}

static void rtx_timer(void *arg)
{
	struct txn *t = arg;
	uint64_t cap = TXN_T2_MS;

	t->rtx_timer = 0;
	(void)tp_send(t->l->tp, &t->flow, t->buf, t->len);
	/* INVITE client: Timer A doubles without a cap (RFC 3261 §17.1.1.2). */
	if (t->client && t->invite)
		cap = UINT64_MAX;
	t->rtx_ms = t->rtx_ms * 2 < cap ? t->rtx_ms * 2 : cap;
	t->rtx_timer = evloop_timer_add(t->l->loop, t->rtx_ms, rtx_timer, t);
}

static void arm_end(struct txn *t, uint64_t ms)
{
	evloop_timer_cancel(t->l->loop, t->end_timer);
	t->end_timer = evloop_timer_add(t->l->loop, ms, end_timer, t);
}

static void stop_rtx(struct txn *t)
{
	evloop_timer_cancel(t->l->loop, t->rtx_timer);
	t->rtx_timer = 0;
}

/* RFC 3261 §17.2.3 matches branch, sent-by and method; the source address stands in for
 * sent-by (NAT rewrites it), so two clients reusing a branch (RFC 4475 does) never meet. */
static void server_key(char *key, size_t cap, const struct sipmsg *req, const struct tp_flow *from)
{
	char src[SOCK_ADDR_STRLEN], b[SIPMSG_TOKEN + SOCK_ADDR_STRLEN + 4];

	snprintf(b, sizeof(b), "%s|%s", req->branch, sock_addr_str(&from->peer, src, sizeof(src)));
	make_key(key, cap, 0, b, req->method);
}

int txn_server_absorb(struct txnl *l, const struct sipmsg *req, const struct tp_flow *from)
{
	char key[sizeof(((struct txn *)0)->key)];
	struct txn *t;

	if (from->kind != TP_UDP || !req->branch[0])
		return 0;
	server_key(key, sizeof(key), req, from);
	t = find(l, key);
	if (!t)
		return 0;
	if (strcmp(req->method, "ACK") == 0) {
		if (t->status < 300)
			return 0; /* ACK for 2xx is a request of its own (end to end) */
		stop_rtx(t); /* Timer G stops; the entry stays until Timer I/H */
		return 1;
	}
	if (t->buf)
		(void)tp_send(l->tp, &t->flow, t->buf, t->len);
	return 1;
}

static int store_response(struct txn *t, const char *buf, size_t len, int status)
{
	char *copy = malloc(len);

	if (!copy)
		return ENOMEM;
	memcpy(copy, buf, len);
	free(t->buf);
	t->buf = copy;
	t->len = len;
	t->status = status;
	return 0;
}

int txn_server_send(struct txnl *l, const struct sipmsg *req, const struct tp_flow *from,
                    int status, const char *buf, size_t len)
{
	char key[sizeof(((struct txn *)0)->key)];
	struct txn *t;
	int err = tp_send(l->tp, from, buf, len);

	if (l->j) {
		char dst[SOCK_ADDR_STRLEN];
		journal_emit_at(l->j, &from->local, "sip.response", "{s:i, s:s, s:s, s:s, s:s}",
		                "status", status, "method", req->method, "call_id", req->call_id,
		                "dest", sock_addr_str(&from->peer, dst, sizeof(dst)), "transport",
		                tp_kind_name(from->kind));
	}

	if (err || from->kind != TP_UDP || !req->branch[0] || strcmp(req->method, "ACK") == 0)
		return err;
	server_key(key, sizeof(key), req, from);
	t = find(l, key);
	if (!t && !(t = txn_new(l, key)))
		return 0; /* table full: still answered, just not absorbed later */
	t->flow = *from;
	t->invite = strcmp(req->method, "INVITE") == 0;
	if (store_response(t, buf, len, status))
		return 0;
	if (status >= 200) {
		t->final = 1;
		arm_end(t, TXN_TIMEOUT_MS);
		if (t->invite && status >= 300 && !t->rtx_timer) {
			t->rtx_ms = TXN_T1_MS;
			t->rtx_timer = evloop_timer_add(l->loop, t->rtx_ms, rtx_timer, t);
		}
	} else if (!t->end_timer) {
		arm_end(t, 3 * 60 * 1000); /* INVITE: the UAS answers within Timer C */
	}
	return 0;
}

int txn_reply(struct txnl *l, const struct sipmsg *req, const struct tp_flow *from, int status,
              const char *reason, const char *to_tag,
              void (*extra)(osip_message_t *resp, void *arg), void *arg)
{
	osip_message_t *r = NULL;
	char *buf = NULL;
	size_t len = 0;
	int err = sipmsg_response(req, status, reason, to_tag, &r);

	if (err)
		return err;
	if (extra)
		extra(r, arg);
	err = sipmsg_print(r, &buf, &len);
	if (!err)
		err = txn_server_send(l, req, from, status, buf, len);
	osip_free(buf);
	osip_message_free(r);
	return err;
}

int txn_client_send(struct txnl *l, const struct tp_flow *to, const char *branch,
                    const char *method, const char *buf, size_t len, uint64_t cookie,
                    const struct tp_flow *up, const char *up_req, size_t up_len)
{
	char key[sizeof(((struct txn *)0)->key)];
	struct txn *t;
	int err;

	make_key(key, sizeof(key), 1, branch, method);
	if (find(l, key))
		return EEXIST;
	t = txn_new(l, key);
	if (!t)
		return ENOBUFS;
	t->client = 1;
	t->invite = strcmp(method, "INVITE") == 0;
	t->flow = *to;
	t->cookie = cookie;
	if (up)
		t->up = *up;
	t->buf = malloc(len);
	t->up_req = up_req ? malloc(up_len + 1) : NULL;
	if (!t->buf || (up_req && !t->up_req)) {
		txn_free(t);
		return ENOMEM;
	}
	memcpy(t->buf, buf, len);
	t->len = len;
	if (up_req) {
		memcpy(t->up_req, up_req, up_len);
		t->up_req[up_len] = '\0';
		t->up_len = up_len;
	}
	err = tp_send(l->tp, to, buf, len);
	if (to->kind == TP_UDP) {
		t->rtx_ms = TXN_T1_MS;
		t->rtx_timer = evloop_timer_add(l->loop, t->rtx_ms, rtx_timer, t);
	}
	arm_end(t, TXN_TIMEOUT_MS); /* Timer B / F; a provisional response moves to Timer C */
	return err;
}

int txn_client_match(struct txnl *l, struct sipmsg *resp)
{
	char key[sizeof(((struct txn *)0)->key)];
	struct txn *t;

	if (!resp->branch[0] || !resp->method)
		return 0;
	make_key(key, sizeof(key), 1, resp->branch, resp->method);
	t = find(l, key);
	if (!t)
		return 0;
	if (t->invite || resp->status >= 200)
		stop_rtx(t);
	if (resp->status >= 200 && !t->final) {
		t->final = 1;
		arm_end(t, TXN_TIMEOUT_MS);
	} else if (resp->status < 200 && t->invite && !t->final) {
		arm_end(t, 3 * 60 * 1000); /* Timer C restarts on a provisional response */
	}
	l->h(l->ctx, t->cookie, &t->up, t->up_req, t->up_len, resp);
	return 1;
}

void txn_client_forget(struct txnl *l, uint64_t cookie)
{
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct txn *t = l->bucket[b], *next;
		for (; t; t = next) {
			next = t->next;
			if (t->client && t->cookie == cookie)
				txn_free(t);
		}
	}
}
