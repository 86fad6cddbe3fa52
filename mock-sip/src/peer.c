/* peer.c - the built-in far-end user agent and its RTP echo. */
#define LOG_TAG "peer"
#include "peer.h"
#include "onsight/log.h"
#include "onsight/sdp.h"
#include "sipmsg.h"
#include "txn.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RTP_PTIME_MS 20
#define RTP_PAYLOAD 160
#define URI_MAX 256
#define ROUTE_MAX 1024

enum dstate { D_FREE = 0, D_CALLING, D_EARLY, D_CONFIRMED, D_ENDED };

struct dialog {
	struct peer *p;
	uint64_t id;
	enum dstate state;
	int outgoing;
	char call_id[SIPMSG_TOKEN], local_tag[32], remote_tag[SIPMSG_TOKEN];
	char local_uri[URI_MAX], remote_uri[URI_MAX], remote_target[URI_MAX];
	char route[ROUTE_MAX]; /* Route header value, "" for none */
	unsigned long cseq, inv_cseq;
	char inv_branch[64];
	char *ok; /* our 2xx to an INVITE, retransmitted until the ACK */
	size_t ok_len;
	uint64_t ok_timer, ok_ms, ok_deadline, hangup_timer;
	unsigned hangup_after_s;
	/* media */
	int rtp_fd;
	uint16_t rtp_port;
	int pt;
	struct sock_addr remote_rtp;
	int echoing;
	uint16_t seq;
	uint32_t ts, ssrc;
	uint64_t gen_timer, rx, tx;
};

struct peer {
	struct evloop *loop;
	struct journal *j;
	struct peer_cfg cfg;
	char user[64], domain[128];
	struct tp *tp;
	struct txnl *txn;
	struct tp_flow proxy;
	struct sock_addr sip; /* our bound SIP address */
	char hostport[SOCK_ADDR_STRLEN];
	struct dialog d[PEER_MAX_CALLS];
	uint32_t gen;
};

static void rand_hex(char *out, size_t nbytes)
{
	unsigned char b[16];

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1)
		memset(b, 0x5a, sizeof(b));
	for (size_t i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static const char *dstate_name(enum dstate s)
{
	static const char *const n[] = {"free", "calling", "early", "established", "ended"};
	return n[s];
}

static void journal_call(struct dialog *d, const char *state, const char *reason)
{
	journal_emit_at(d->p->j, &d->p->sip, "peer.call", "{s:s, s:s, s:s, s:s, s:s}", "state",
	                state, "call_id", d->call_id, "direction", d->outgoing ? "out" : "in",
	                "remote", d->remote_uri, "reason", reason ? reason : "");
}

/* ---- media ---- */

static void rtp_send_generated(void *arg)
{
	struct dialog *d = arg;
	uint8_t pkt[12 + RTP_PAYLOAD];

	d->gen_timer = 0;
	if (d->echoing || d->rtp_fd < 0)
		return;
	if (d->remote_rtp.len) {
		pkt[0] = 0x80;
		pkt[1] = (uint8_t)(d->pt & 0x7f);
		pkt[2] = (uint8_t)(d->seq >> 8);
		pkt[3] = (uint8_t)d->seq;
		for (int i = 0; i < 4; i++) {
			pkt[4 + i] = (uint8_t)(d->ts >> (24 - 8 * i));
			pkt[8 + i] = (uint8_t)(d->ssrc >> (24 - 8 * i));
		}
		memset(pkt + 12, d->pt == 8 ? 0xd5 : 0xff, RTP_PAYLOAD); /* G.711 silence */
		if (sendto(d->rtp_fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&d->remote_rtp.ss,
		           d->remote_rtp.len) > 0)
			d->tx++;
		d->seq++;
		d->ts += RTP_PAYLOAD;
	}
	d->gen_timer = evloop_timer_add(d->p->loop, RTP_PTIME_MS, rtp_send_generated, d);
}

static void rtp_event(int fd, uint32_t events, void *arg)
{
	struct dialog *d = arg;
	uint8_t buf[2048];
	struct sock_addr from;

	(void)events;
	for (int i = 0; i < 32; i++) {
		ssize_t r;
		from.len = sizeof(from.ss);
		r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from.ss, &from.len);
		if (r <= 0)
			return;
		d->rx++;
		/* Our own packets coming back (the far end echoes too): count, never reflect,
		 * or one packet would circle between two echoes forever. */
		if (r >= 12 && buf[8] == (uint8_t)(d->ssrc >> 24) &&
		    buf[9] == (uint8_t)(d->ssrc >> 16) && buf[10] == (uint8_t)(d->ssrc >> 8) &&
		    buf[11] == (uint8_t)d->ssrc)
			continue;
		d->echoing = 1; /* the far end sends its own media: echo it, stop generating */
		if (sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from.ss, from.len) > 0)
			d->tx++;
	}
}

static int media_open(struct dialog *d)
{
	struct sock_addr a = d->p->cfg.bind, b;

	sock_addr_set_port(&a, 0);
	d->rtp_fd = sock_bind_udp(&a);
	if (d->rtp_fd < 0)
		return -d->rtp_fd;
	if (sock_local(d->rtp_fd, &b) ||
	    evloop_fd_add(d->p->loop, d->rtp_fd, EPOLLIN, rtp_event, d)) {
		close(d->rtp_fd);
		d->rtp_fd = -1;
		return EIO;
	}
	d->rtp_port = sock_addr_port(&b);
	RAND_bytes((unsigned char *)&d->ssrc, sizeof(d->ssrc));
	return 0;
}

static void media_start(struct dialog *d)
{
	if (d->rtp_fd >= 0 && !d->gen_timer)
		d->gen_timer = evloop_timer_add(d->p->loop, RTP_PTIME_MS, rtp_send_generated, d);
}

static void media_close(struct dialog *d)
{
	char peer[SOCK_ADDR_STRLEN] = "";
	struct sock_addr local;

	evloop_timer_cancel(d->p->loop, d->gen_timer);
	d->gen_timer = 0;
	if (d->rtp_fd < 0)
		return;
	if (sock_local(d->rtp_fd, &local))
		local.len = 0;
	if (d->remote_rtp.len)
		sock_addr_str(&d->remote_rtp, peer, sizeof(peer));
	journal_emit_at(d->p->j, &local, "peer.media", "{s:s, s:i, s:s, s:I, s:I}", "call_id",
	                d->call_id, "local_port", d->rtp_port, "remote", peer, "rx_packets",
	                (json_int_t)d->rx, "tx_packets", (json_int_t)d->tx);
	evloop_fd_del(d->p->loop, d->rtp_fd);
	close(d->rtp_fd);
	d->rtp_fd = -1;
}

/* The remote RTP address and a payload type from an SDP body. */
static void media_from_sdp(struct dialog *d, const char *body, size_t len)
{
	struct sdp_info info;
	const char *m;

	if (!body || sdp_parse(body, len, &info) || info.n == 0 || !info.s[0].addr.len)
		return;
	d->remote_rtp = info.s[0].addr;
	d->pt = 0;
	m = strstr(body, "m=audio ");
	if (m) {
		const char *pts = strstr(m, "RTP/AVP ");
		int first = pts ? atoi(pts + 8) : 0;
		d->pt = (pts && (strstr(pts, " 0") || first == 0)) ? 0 : (first == 8 ? 8 : first);
	}
}

static int build_sdp(const struct dialog *d, char *out, size_t cap)
{
	char host[64];
	int v6 = d->p->cfg.bind.ss.ss_family == AF_INET6;

	sock_addr_host(&d->p->cfg.bind, host, sizeof(host));
	return snprintf(out, cap,
	                "v=0\r\no=%s 1 1 IN %s %s\r\ns=mock-sip peer\r\nc=IN %s %s\r\nt=0 0\r\n"
	                "m=audio %u RTP/AVP %d 101\r\na=rtpmap:%d %s/8000\r\n"
	                "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
	                d->p->user, v6 ? "IP6" : "IP4", host, v6 ? "IP6" : "IP4", host, d->rtp_port,
	                d->pt, d->pt, d->pt == 8 ? "PCMA" : "PCMU");
}

/* ---- dialogs ---- */

static struct dialog *dialog_new(struct peer *p)
{
	for (size_t i = 0; i < PEER_MAX_CALLS; i++) {
		struct dialog *d = &p->d[i];
		if (d->state != D_FREE)
			continue;
		memset(d, 0, sizeof(*d));
		d->p = p;
		if (++p->gen == 0)
			p->gen = 1;
		d->id = ((uint64_t)p->gen << 8) | i;
		d->rtp_fd = -1;
		rand_hex(d->local_tag, 8);
		return d;
	}
	return NULL;
}

static struct dialog *dialog_by_call_id(struct peer *p, const char *call_id)
{
	for (size_t i = 0; i < PEER_MAX_CALLS; i++)
		if (p->d[i].state != D_FREE && strcmp(p->d[i].call_id, call_id) == 0)
			return &p->d[i];
	return NULL;
}

static struct dialog *dialog_by_id(struct peer *p, uint64_t id)
{
	size_t i = (size_t)(id & 0xff);
	struct dialog *d = i < PEER_MAX_CALLS ? &p->d[i] : NULL;

	return (d && d->state != D_FREE && d->id == id) ? d : NULL;
}

static void dialog_free(struct dialog *d)
{
	media_close(d);
	evloop_timer_cancel(d->p->loop, d->ok_timer);
	evloop_timer_cancel(d->p->loop, d->hangup_timer);
	txn_client_forget(d->p->txn, d->id);
	free(d->ok);
	d->ok = NULL;
	d->state = D_FREE;
}

static void dialog_end(struct dialog *d, const char *reason)
{
	journal_call(d, "ended", reason);
	dialog_free(d);
}

static int send_request(struct dialog *d, const char *method, const char *ruri, unsigned long cseq,
                        const char *branch_in, const char *to_tag, const char *body, int use_txn)
{
	char buf[8192], branch[64];
	size_t blen = body ? strlen(body) : 0;
	int n;

	if (branch_in)
		snprintf(branch, sizeof(branch), "%s", branch_in);
	else {
		memcpy(branch, "z9hG4bK-pe", 10);
		rand_hex(branch + 10, 8);
	}
	n = snprintf(buf, sizeof(buf),
	             "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\n"
	             "From: %s;tag=%s\r\nTo: %s%s%s\r\nCall-ID: %s\r\nCSeq: %lu %s\r\n"
	             "%s%s%sContact: <sip:%s@%s>\r\nUser-Agent: onsight-lab mock-sip peer\r\n"
	             "%sContent-Length: %zu\r\n\r\n%s",
	             method, ruri, d->p->hostport, branch, d->local_uri, d->local_tag,
	             d->remote_uri, to_tag && *to_tag ? ";tag=" : "", to_tag ? to_tag : "",
	             d->call_id, cseq, method, d->route[0] ? "Route: " : "", d->route,
	             d->route[0] ? "\r\n" : "", d->p->user, d->p->hostport,
	             body ? "Content-Type: application/sdp\r\n" : "", blen, body ? body : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return ENOSPC;
	if (strcmp(method, "INVITE") == 0)
		snprintf(d->inv_branch, sizeof(d->inv_branch), "%s", branch);
	if (!use_txn)
		return tp_send(d->p->tp, &d->p->proxy, buf, (size_t)n);
	return txn_client_send(d->p->txn, &d->p->proxy, branch, method, buf, (size_t)n, d->id, NULL,
	                       NULL, 0);
}

static void hangup_timer(void *arg)
{
	struct dialog *d = arg;

	d->hangup_timer = 0;
	(void)peer_hangup(d->p, d->call_id);
}

static void dialog_confirmed(struct dialog *d)
{
	if (d->state == D_CONFIRMED)
		return;
	d->state = D_CONFIRMED;
	journal_call(d, "established", NULL);
	media_start(d);
	if (d->hangup_after_s)
		d->hangup_timer =
		        evloop_timer_add(d->p->loop, d->hangup_after_s * 1000ull, hangup_timer, d);
}

/* ---- incoming requests ---- */

struct answer_ctx {
	struct dialog *d;
	const osip_message_t *req;
	const char *body;
};

static void add_answer(osip_message_t *r, void *arg)
{
	struct answer_ctx *x = arg;
	char contact[URI_MAX];

	for (int i = 0; i < osip_list_size(&x->req->record_routes); i++) {
		char *s = NULL;
		if (osip_record_route_to_str(osip_list_get(&x->req->record_routes, i), &s) == 0)
			osip_message_set_record_route(r, s);
		osip_free(s);
	}
	snprintf(contact, sizeof(contact), "<sip:%s@%s>", x->d->p->user, x->d->p->hostport);
	osip_message_set_contact(r, contact);
	if (x->body)
		sipmsg_set_body(r, x->body, strlen(x->body), "application/sdp");
}

static void ok_retransmit(void *arg)
{
	struct dialog *d = arg;

	d->ok_timer = 0;
	if (!d->ok || evloop_now_ms() > d->ok_deadline) {
		if (d->state != D_CONFIRMED)
			dialog_end(d, "no ack");
		return;
	}
	(void)tp_send(d->p->tp, &d->p->proxy, d->ok, d->ok_len);
	d->ok_ms = d->ok_ms * 2 < TXN_T2_MS ? d->ok_ms * 2 : TXN_T2_MS;
	d->ok_timer = evloop_timer_add(d->p->loop, d->ok_ms, ok_retransmit, d);
}

static int answer_invite(struct dialog *d, const struct sipmsg *req, const struct tp_flow *from)
{
	struct answer_ctx x = {.d = d, .req = req->m};
	osip_message_t *r = NULL;
	char sdp[1024], *buf = NULL;
	size_t len = 0;
	int err;

	build_sdp(d, sdp, sizeof(sdp));
	x.body = sdp;
	err = sipmsg_response(req, 200, "OK", d->local_tag, &r);
	if (err)
		return err;
	add_answer(r, &x);
	err = sipmsg_print(r, &buf, &len);
	osip_message_free(r);
	if (err)
		return err;
	free(d->ok);
	d->ok = malloc(len);
	if (d->ok)
		memcpy(d->ok, buf, len);
	d->ok_len = d->ok ? len : 0;
	err = txn_server_send(d->p->txn, req, from, 200, buf, len);
	osip_free(buf);
	d->ok_ms = TXN_T1_MS;
	d->ok_deadline = evloop_now_ms() + TXN_TIMEOUT_MS;
	evloop_timer_cancel(d->p->loop, d->ok_timer);
	d->ok_timer = evloop_timer_add(d->p->loop, d->ok_ms, ok_retransmit, d);
	return err;
}

static void uri_of(const osip_from_t *f, char *out, size_t cap)
{
	char *s = NULL;

	out[0] = '\0';
	if (f && f->url && osip_uri_to_str(f->url, &s) == 0)
		snprintf(out, cap, "<%s>", s);
	osip_free(s);
}

static void incoming_invite(struct peer *p, struct sipmsg *req, const struct tp_flow *from)
{
	struct dialog *d = req->to_tag[0] ? dialog_by_call_id(p, req->call_id) : dialog_new(p);
	size_t blen = 0;
	const char *body = sipmsg_body(req->m, &blen);
	int fresh = !req->to_tag[0];

	if (!d) {
		(void)txn_reply(p->txn, req, from, fresh ? 486 : 481,
		                fresh ? "Busy Here" : "Call/Transaction Does Not Exist", "pe", NULL,
		                NULL);
		return;
	}
	if (fresh) {
		snprintf(d->call_id, sizeof(d->call_id), "%s", req->call_id);
		snprintf(d->remote_tag, sizeof(d->remote_tag), "%s", req->from_tag);
		uri_of(req->m->from, d->remote_uri, sizeof(d->remote_uri));
		uri_of(req->m->to, d->local_uri, sizeof(d->local_uri));
		d->state = D_EARLY;
		journal_call(d, "ringing", NULL);
		if (media_open(d)) {
			(void)txn_reply(p->txn, req, from, 500, "No Media Port", d->local_tag, NULL,
			                NULL);
			return dialog_end(d, "no media port");
		}
	}
	media_from_sdp(d, body, blen);
	if (answer_invite(d, req, from))
		dialog_end(d, "answer failed");
}

static void peer_request(struct peer *p, struct sipmsg *req, const struct tp_flow *from)
{
	struct dialog *d = dialog_by_call_id(p, req->call_id);
	const char *m = req->method;

	if (strcmp(m, "INVITE") == 0)
		return incoming_invite(p, req, from);
	if (strcmp(m, "ACK") == 0) {
		size_t blen = 0;
		const char *body = sipmsg_body(req->m, &blen);
		if (d && body) /* late offer: the answer rides in the ACK */
			media_from_sdp(d, body, blen);
		if (d && d->ok) {
			free(d->ok);
			d->ok = NULL;
			dialog_confirmed(d);
		}
		return;
	}
	if (strcmp(m, "BYE") == 0) {
		(void)txn_reply(p->txn, req, from, d ? 200 : 481, d ? "OK" : "No Such Call", "pe",
		                NULL, NULL);
		if (d)
			dialog_end(d, "remote bye");
		return;
	}
	if (strcmp(m, "OPTIONS") == 0 || strcmp(m, "CANCEL") == 0)
		return (void)txn_reply(p->txn, req, from, 200, "OK", "pe", NULL, NULL);
	(void)txn_reply(p->txn, req, from, 501, "Not Implemented", "pe", NULL, NULL);
}

static void peer_receive(void *arg, const struct tp_flow *from, const char *msg, size_t len,
                         int framing_err)
{
	struct peer *p = arg;
	struct sipmsg m;
	const char *reason;
	int st;

	if (framing_err)
		return;
	st = sipmsg_parse(&m, msg, len, &reason);
	if (st == SIPMSG_OK && !m.is_request)
		(void)txn_client_match(p->txn, &m);
	else if (st == SIPMSG_OK && !txn_server_absorb(p->txn, &m, from))
		peer_request(p, &m, from);
	sipmsg_clear(&m);
}

/* ---- responses to our requests ---- */

static void route_set_from(struct dialog *d, const osip_message_t *resp)
{
	int n = osip_list_size(&resp->record_routes);
	size_t o = 0;

	d->route[0] = '\0';
	for (int i = n - 1; i >= 0; i--) { /* UAC: reverse order (RFC 3261 §12.1.2) */
		char *s = NULL;
		if (osip_record_route_to_str(osip_list_get(&resp->record_routes, i), &s) == 0)
			o += (size_t)snprintf(d->route + o,
			                      o < sizeof(d->route) ? sizeof(d->route) - o : 0,
			                      "%s%s", o ? ", " : "", s);
		osip_free(s);
		if (o >= sizeof(d->route)) {
			d->route[0] = '\0';
			return;
		}
	}
}

static void invite_ok(struct dialog *d, struct sipmsg *resp)
{
	osip_contact_t *ct = osip_list_get(&resp->m->contacts, 0);
	size_t blen = 0;
	const char *body = sipmsg_body(resp->m, &blen);
	char *s = NULL;

	if (d->state != D_CONFIRMED) {
		snprintf(d->remote_tag, sizeof(d->remote_tag), "%s", resp->to_tag);
		if (ct && ct->url && osip_uri_to_str(ct->url, &s) == 0)
			snprintf(d->remote_target, sizeof(d->remote_target), "%s", s);
		osip_free(s);
		route_set_from(d, resp->m);
		media_from_sdp(d, body, blen);
	}
	/* ACK for every 2xx, retransmissions included (RFC 3261 §13.2.2.4). */
	(void)send_request(d, "ACK", d->remote_target, d->inv_cseq, NULL, d->remote_tag, NULL, 0);
	dialog_confirmed(d);
}

static void peer_response(void *ctx, uint64_t cookie, const struct tp_flow *up, const char *up_req,
                          size_t up_len, struct sipmsg *resp)
{
	struct peer *p = ctx;
	struct dialog *d = dialog_by_id(p, cookie);

	(void)up;
	(void)up_req;
	(void)up_len;
	if (!d)
		return;
	if (!resp)
		return dialog_end(d, "timeout");
	if (strcmp(resp->method, "INVITE") == 0) {
		if (resp->status < 200 && resp->status > 100 && d->state == D_CALLING) {
			d->state = D_EARLY;
			journal_call(d, "ringing", NULL);
		} else if (resp->status >= 200 && resp->status < 300) {
			invite_ok(d, resp);
		} else if (resp->status >= 300) {
			/* ACK for a failure: same branch, hop by hop (RFC 3261 §17.1.1.3). */
			(void)send_request(d, "ACK", d->remote_target, d->inv_cseq, d->inv_branch,
			                   resp->to_tag, NULL, 0);
			if (d->state != D_ENDED)
				dialog_end(d, resp->status == 487 ? "cancelled" : "rejected");
		}
		return;
	}
	if (strcmp(resp->method, "BYE") == 0 && resp->status >= 200)
		dialog_end(d, "bye");
}

/* ---- commands ---- */

int peer_call(struct peer *p, const char *user, unsigned seconds, char *out, size_t cap)
{
	struct dialog *d = dialog_new(p);
	char sdp[1024], ruri[URI_MAX];
	int err;

	if (!d)
		return EBUSY;
	if (strlen(user) > 64 || strpbrk(user, " \t\r\n<>\"@;:"))
		return EINVAL;
	rand_hex(d->call_id, 12);
	strcat(d->call_id, "@mock-sip-peer");
	snprintf(d->local_uri, sizeof(d->local_uri), "<sip:%s@%s>", p->user, p->domain);
	snprintf(d->remote_uri, sizeof(d->remote_uri), "<sip:%s@%s>", user, p->domain);
	snprintf(ruri, sizeof(ruri), "sip:%s@%s", user, p->domain);
	snprintf(d->remote_target, sizeof(d->remote_target), "%s", ruri);
	d->outgoing = 1;
	d->state = D_CALLING;
	d->hangup_after_s = seconds;
	d->cseq = d->inv_cseq = 1;
	err = media_open(d);
	if (!err) {
		build_sdp(d, sdp, sizeof(sdp));
		err = send_request(d, "INVITE", ruri, d->cseq, NULL, NULL, sdp, 1);
	}
	if (err) {
		dialog_free(d);
		return err;
	}
	journal_call(d, "calling", NULL);
	snprintf(out, cap, "%s", d->call_id);
	return 0;
}

static void hangup_one(struct dialog *d)
{
	if (d->state == D_CONFIRMED) {
		(void)send_request(d, "BYE", d->remote_target, ++d->cseq, NULL, d->remote_tag, NULL,
		                   1);
		d->state = D_ENDED; /* freed when the BYE is answered or times out */
		media_close(d);
	} else if (d->outgoing && (d->state == D_CALLING || d->state == D_EARLY)) {
		(void)send_request(d, "CANCEL", d->remote_target, d->inv_cseq, d->inv_branch, NULL,
		                   NULL, 0);
	} else {
		dialog_end(d, "hangup");
	}
}

int peer_hangup(struct peer *p, const char *call_id)
{
	int n = 0;

	for (size_t i = 0; i < PEER_MAX_CALLS; i++) {
		struct dialog *d = &p->d[i];
		if (d->state == D_FREE || d->state == D_ENDED ||
		    (call_id && strcmp(call_id, d->call_id) != 0))
			continue;
		hangup_one(d);
		n++;
	}
	return n;
}

void peer_status(const struct peer *p, void *json_obj)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < PEER_MAX_CALLS; i++) {
		const struct dialog *d = &p->d[i];
		if (d->state == D_FREE)
			continue;
		json_array_append_new(arr,
		                      json_pack("{s:s, s:s, s:s, s:I, s:I}", "call_id", d->call_id,
		                                "state", dstate_name(d->state), "remote",
		                                d->remote_uri, "rx_packets", (json_int_t)d->rx,
		                                "tx_packets", (json_int_t)d->tx));
	}
	json_object_set_new((json_t *)json_obj, "peer_calls", arr);
}

/* ---- setup ---- */

int peer_alloc(struct peer **pp, struct evloop *loop, struct journal *j, const struct peer_cfg *cfg)
{
	struct tp_limits lim = {.max_msg = 65535, .max_conns = 4, .idle_ms = 60000};
	struct peer *p;
	int err;

	if (!pp || !cfg || !cfg->user || !cfg->domain || strlen(cfg->user) >= 64 ||
	    strlen(cfg->domain) >= 128)
		return EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->loop = loop;
	p->j = j;
	p->cfg = *cfg;
	snprintf(p->user, sizeof(p->user), "%s", cfg->user);
	snprintf(p->domain, sizeof(p->domain), "%s", cfg->domain);
	p->proxy.kind = TP_UDP;
	p->proxy.peer = cfg->proxy;
	err = tp_alloc(&p->tp, loop, NULL, &lim, peer_receive, p);
	if (!err)
		err = tp_listen(p->tp, &cfg->bind, 0, 0);
	if (!err)
		err = tp_bound(p->tp, 0, TP_UDP, &p->sip);
	if (!err)
		err = txnl_alloc(&p->txn, loop, p->tp, NULL, 256, peer_response, p);
	if (err) {
		peer_free(p);
		return err;
	}
	sock_addr_str(&p->sip, p->hostport, sizeof(p->hostport));
	*pp = p;
	return 0;
}

void peer_free(struct peer *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < PEER_MAX_CALLS; i++)
		if (p->d[i].state != D_FREE)
			dialog_free(&p->d[i]);
	txnl_free(p->txn);
	tp_free(p->tp);
	free(p);
}

int peer_contact(const struct peer *p, char *buf, size_t cap, struct tp_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
	flow->kind = TP_UDP;
	flow->peer = p->sip;
	flow->local = p->cfg.proxy;
	return snprintf(buf, cap, "sip:%s@%s", p->user, p->hostport) < (int)cap ? 0 : ENOSPC;
}
