/* The registrar, OPTIONS and STUN in-process over loopback UDP, driven like a client. */
#include "onsight/digest.h"
#include "onsight/stun.h"
#include "proxy.h"
#include "registrar.h"
#include "relay.h"
#include "stunsrv.h"
#include "transport.h"
#include "txn.h"

#include "testutil.h"
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define USERS ONSIGHT_SOURCE_DIR "/mock-oam/examples/accounts.json"

struct fx {
	struct evloop *loop;
	struct journal *j;
	struct tp *tp;
	struct txnl *txn;
	struct registrar *reg;
	struct relay *relay;
	struct proxy *proxy;
	struct sock_addr srv;
	int fd; /* the client */
	char *dir, *events;
	unsigned cseq;
};

static void fx_up(struct fx *f, unsigned min_expires)
{
	const char *domains[] = {"librestream.com", NULL};
	struct tp_limits lim = {.max_msg = 65535, .max_conns = 16, .idle_ms = 10000};
	struct registrar_cfg rc = {.users_file = USERS,
	                           .domains = domains,
	                           .min_expires = min_expires,
	                           .max_expires = 3600,
	                           .default_expires = 3600,
	                           .max_contacts = 2,
	                           .nonce_ttl_ms = 30000,
	                           .nonce_slots = 64};
	struct proxy_cfg pc = {.max_calls = 4, .media_timeout_ms = 60000, .call_max_ms = 600000};
	struct relay_cfg relc = {.port_min = 0, .max_sessions = 4};
	struct sock_addr lo;
	char err[256];

	memset(f, 0, sizeof(*f));
	f->dir = tu_mkdtemp();
	ck_assert_int_ge(asprintf(&f->events, "%s/ev.jsonl", f->dir), 0);
	ck_assert_int_eq(evloop_alloc(&f->loop), 0);
	ck_assert_int_eq(journal_open(&f->j, f->events, "mock-sip"), 0);
	ck_assert_int_eq(proxy_alloc(&f->proxy, f->loop, f->j, &pc), 0);
	ck_assert_int_eq(tp_alloc(&f->tp, f->loop, NULL, &lim, proxy_receive, f->proxy), 0);
	ck_assert_int_eq(
	        txnl_alloc(&f->txn, f->loop, f->tp, f->j, 1024, proxy_client_response, f->proxy),
	        0);
	ck_assert_int_eq(registrar_alloc(&f->reg, f->loop, f->j, f->txn, &rc, err, sizeof(err)), 0);
	ck_assert_int_eq(sock_addr_parse(&lo, "127.0.0.1", 0), 0);
	ck_assert_int_eq(tp_listen(f->tp, &lo, 0, 0), 0);
	ck_assert_int_eq(tp_bound(f->tp, 0, TP_UDP, &f->srv), 0);
	/* A relay range chosen from the pid, so parallel runs rarely meet (busy ports skip). */
	relc.addr = lo;
	relc.port_min = (uint16_t)(40000 + (getpid() % 1000) * 16);
	relc.port_max = (uint16_t)(relc.port_min + 15);
	ck_assert_int_eq(relay_alloc(&f->relay, f->loop, f->j, &relc), 0);
	proxy_attach(f->proxy, f->tp, f->txn, f->reg, f->relay);
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(connect(f->fd, (struct sockaddr *)&f->srv.ss, f->srv.len), 0);
}

static void fx_down(struct fx *f)
{
	close(f->fd);
	proxy_free(f->proxy);
	relay_free(f->relay);
	registrar_free(f->reg);
	txnl_free(f->txn);
	tp_free(f->tp);
	journal_close(f->j);
	evloop_free(f->loop);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->events);
}

/* Checks every journal line of event names the server's address the client reached
 * ("local"); returns how many there were. */
static size_t journal_local(const struct fx *f, const char *event, const struct sock_addr *want)
{
	char line[8192], w[SOCK_ADDR_STRLEN];
	FILE *fp = fopen(f->events, "r");
	size_t n = 0;

	ck_assert_ptr_nonnull(fp);
	sock_addr_str(want, w, sizeof(w));
	while (fgets(line, sizeof(line), fp)) {
		json_t *o = json_loads(line, 0, NULL);

		ck_assert_ptr_nonnull(o);
		if (!strcmp(json_string_value(json_object_get(o, "event")), event)) {
			const char *l = json_string_value(json_object_get(o, "local"));

			ck_assert_msg(l && !strcmp(l, w), "%s: local %s, want %s", event,
			              l ? l : "(none)", w);
			n++;
		}
		json_decref(o);
	}
	fclose(fp);
	return n;
}

/* Sends msg, runs the loop until a final response (bounded), returns its status. */
static int exchange(struct fx *f, const char *msg, char *resp, size_t cap)
{
	ck_assert_int_eq(send(f->fd, msg, strlen(msg), 0), (ssize_t)strlen(msg));
	for (int i = 0; i < 300; i++) {
		struct pollfd p = {.fd = f->fd, .events = POLLIN};
		ssize_t r;
		evloop_run_once(f->loop, 5);
		if (poll(&p, 1, 0) != 1)
			continue;
		r = recv(f->fd, resp, cap - 1, 0);
		ck_assert_int_gt(r, 12);
		resp[r] = '\0';
		if (atoi(resp + 8) >= 200)
			return atoi(resp + 8);
	}
	return -1;
}

static void reg_text(struct fx *f, char *buf, size_t cap, const char *contact, const char *exp,
                     const char *auth)
{
	unsigned c = ++f->cseq;

	snprintf(buf, cap,
	         "REGISTER sip:librestream.com SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKt%u;rport\r\n"
	         "From: <sip:alice@librestream.com>;tag=t\r\nTo: <sip:alice@librestream.com>\r\n"
	         "Call-ID: reg-test\r\nCSeq: %u REGISTER\r\nMax-Forwards: 70\r\n"
	         "Contact: %s\r\n%s%s%s%sContent-Length: 0\r\n\r\n",
	         c, c, contact, exp ? "Expires: " : "", exp ? exp : "", exp ? "\r\n" : "",
	         auth ? auth : "");
}

/* The Authorization line answering the challenge in resp for nonce-count nc. */
static void auth_line(const char *resp, const char *pw, uint32_t nc, char *out, size_t cap)
{
	const char *w = strstr(resp, "WWW-Authenticate: ");
	char val[512], a[1024];
	struct digest_params ch;

	ck_assert_ptr_nonnull(w);
	w += 18;
	snprintf(val, sizeof(val), "%.*s", (int)strcspn(w, "\r\n"), w);
	ck_assert_int_eq(digest_parse(val, &ch), 0);
	ck_assert_int_eq(digest_authorization(a, sizeof(a), &ch, "alice", pw, "REGISTER",
	                                      "sip:librestream.com", nc, "cn0nce"),
	                 0);
	snprintf(out, cap, "Authorization: %s\r\n", a);
}

static int do_register(struct fx *f, const char *contact, const char *exp, char *resp, size_t cap)
{
	char msg[2048], auth[1200];

	reg_text(f, msg, sizeof(msg), contact, exp, NULL);
	ck_assert_int_eq(exchange(f, msg, resp, cap), 401);
	auth_line(resp, "alice-pw-sip", 1, auth, sizeof(auth));
	reg_text(f, msg, sizeof(msg), contact, exp, auth);
	return exchange(f, msg, resp, cap);
}

START_TEST(test_registrar_challenges_then_binds_with_digest)
{
	struct fx f;
	char resp[4096];
	struct binding_view b;

	fx_up(&f, 60);
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.10:5060>", "300", resp, sizeof(resp)),
	                 200);
	ck_assert_ptr_nonnull(strstr(resp, "Contact: <sip:alice@192.0.2.10:5060>;expires=300"));
	ck_assert_int_eq(registrar_lookup(f.reg, "alice", &b), 0);
	ck_assert_str_eq(b.contact, "sip:alice@192.0.2.10:5060");
	ck_assert_int_eq(b.flow.kind, TP_UDP);
	ck_assert_uint_eq(journal_local(&f, "register", &f.srv), 2);
	ck_assert_uint_eq(journal_local(&f, "sip.request", &f.srv), 2);
	ck_assert_uint_eq(journal_local(&f, "sip.response", &f.srv), 2);
	fx_down(&f);
}
END_TEST

START_TEST(test_registrar_rejects_replayed_nonce)
{
	struct fx f;
	char resp[4096], msg[2048], auth[1200];

	fx_up(&f, 60);
	reg_text(&f, msg, sizeof(msg), "<sip:alice@192.0.2.10>", "300", NULL);
	ck_assert_int_eq(exchange(&f, msg, resp, sizeof(resp)), 401);
	auth_line(resp, "alice-pw-sip", 1, auth, sizeof(auth));
	reg_text(&f, msg, sizeof(msg), "<sip:alice@192.0.2.10>", "300", auth);
	ck_assert_int_eq(exchange(&f, msg, resp, sizeof(resp)), 200);
	reg_text(&f, msg, sizeof(msg), "<sip:alice@192.0.2.10>", "300", auth); /* same nc */
	ck_assert_int_eq(exchange(&f, msg, resp, sizeof(resp)), 401);
	ck_assert_ptr_null(strstr(resp, "stale=true"));
	fx_down(&f);
}
END_TEST

START_TEST(test_registrar_rejects_wrong_password)
{
	struct fx f;
	char resp[4096], msg[2048], auth[1200];

	fx_up(&f, 60);
	reg_text(&f, msg, sizeof(msg), "<sip:alice@192.0.2.10>", "300", NULL);
	ck_assert_int_eq(exchange(&f, msg, resp, sizeof(resp)), 401);
	auth_line(resp, "not-the-password", 1, auth, sizeof(auth));
	reg_text(&f, msg, sizeof(msg), "<sip:alice@192.0.2.10>", "300", auth);
	ck_assert_int_eq(exchange(&f, msg, resp, sizeof(resp)), 401);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 0);
	fx_down(&f);
}
END_TEST

START_TEST(test_registrar_answers_423_for_too_brief_expiry)
{
	struct fx f;
	char resp[4096];

	fx_up(&f, 60);
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.10>", "30", resp, sizeof(resp)), 423);
	ck_assert_ptr_nonnull(strstr(resp, "Min-Expires: 60"));
	fx_down(&f);
}
END_TEST

START_TEST(test_registrar_keeps_multiple_contacts_and_unregisters)
{
	struct fx f;
	char resp[4096];

	fx_up(&f, 60);
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.10>", "300", resp, sizeof(resp)), 200);
	ck_assert_int_eq(
	        do_register(&f, "<sip:alice@192.0.2.11>;expires=600", NULL, resp, sizeof(resp)),
	        200);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 2);
	ck_assert_ptr_nonnull(strstr(resp, "<sip:alice@192.0.2.10>;expires="));
	ck_assert_ptr_nonnull(strstr(resp, "<sip:alice@192.0.2.11>;expires="));
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.10>", "0", resp, sizeof(resp)), 200);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 1);
	ck_assert_int_eq(do_register(&f, "*", "0", resp, sizeof(resp)), 200);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 0);
	fx_down(&f);
}
END_TEST

START_TEST(test_registrar_expires_bindings)
{
	struct fx f;
	char resp[4096];
	struct binding_view b;

	fx_up(&f, 1);
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.10>", "1", resp, sizeof(resp)), 200);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 1);
	for (int i = 0; i < 100 && registrar_binding_count(f.reg); i++)
		evloop_run_once(f.loop, 50);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 0);
	ck_assert_int_eq(registrar_lookup(f.reg, "alice", &b), ENOENT);
	fx_down(&f);
}
END_TEST

/* The Firewall Detect probe of the note (§4): an OPTIONS to the service domain. */
static const char options_req[] =
        "OPTIONS sip:librestream.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKo1\r\n"
        "From: <sip:x@y>;tag=1\r\nTo: <sip:librestream.com>\r\nCall-ID: o1\r\n"
        "CSeq: 5 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

START_TEST(test_options_answered_with_allow_accept_supported)
{
	struct fx f;
	char resp[4096];

	fx_up(&f, 60);
	ck_assert_int_eq(exchange(&f, options_req, resp, sizeof(resp)), 200);
	ck_assert_ptr_nonnull(strstr(resp, "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS"));
	ck_assert_ptr_nonnull(strstr(resp, "Accept: application/sdp"));
	ck_assert_ptr_nonnull(strstr(resp, "Supported: "));
	/* a retransmission gets the same answer from the transaction, not a new one */
	ck_assert_int_eq(exchange(&f, options_req, resp, sizeof(resp)), 200);
	ck_assert_uint_eq(txnl_count(f.txn), 1);
	ck_assert_uint_eq(journal_local(&f, "options", &f.srv), 1);
	fx_down(&f);
}
END_TEST

/* libosip2 5.3 leaks a body part's first Content-Type when the part repeats it (here with a
 * bare CR between the two): mock-sip answers 400 and keeps serving. */
START_TEST(test_multipart_part_libosip2_leaks_on_gets_400)
{
	struct fx f;
	char resp[4096];
	const char *msg =
	        "MESSAGE sip:k@librestream.com SIP/2.0\r\n"
	        "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKm1\r\n"
	        "From: <sip:x@y>;tag=1\r\nTo: <sip:k@librestream.com>\r\nCall-ID: m1\r\n"
	        "CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
	        "Content-Type: multipart/mixed;boundary=b1\r\nContent-Length: 67\r\n\r\n"
	        "--b1\r\nContent-Type: text/plain\rContent-Type: text/x\r\n\r\nHi\r\n--b1--\r\n";

	fx_up(&f, 60);
	ck_assert_int_eq(exchange(&f, msg, resp, sizeof(resp)), 400);
	ck_assert_ptr_nonnull(strstr(resp, "SIP/2.0 400 Malformed Body Part\r\n"));
	ck_assert_int_eq(exchange(&f, options_req, resp, sizeof(resp)), 200);
	fx_down(&f);
}
END_TEST

START_TEST(test_invite_for_unregistered_user_gets_480)
{
	struct fx f;
	char resp[4096];
	const char *inv = "INVITE sip:bob@librestream.com SIP/2.0\r\n"
	                  "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKi1\r\n"
	                  "From: <sip:alice@librestream.com>;tag=1\r\n"
	                  "To: <sip:bob@librestream.com>\r\nCall-ID: i1\r\n"
	                  "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

	fx_up(&f, 60);
	ck_assert_int_eq(exchange(&f, inv, resp, sizeof(resp)), 480);
	fx_down(&f);
}
END_TEST

/* Receives on fd with the loop running, up to ms; returns the bytes or 0. */
static ssize_t recv_pumped(struct fx *f, int fd, char *buf, size_t cap, int ms)
{
	for (int i = 0; i < ms / 5; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;
		evloop_run_once(f->loop, 5);
		if (poll(&p, 1, 0) != 1)
			continue;
		r = recv(fd, buf, cap - 1, 0);
		if (r > 0)
			buf[r] = '\0';
		return r > 0 ? r : 0;
	}
	return 0;
}

START_TEST(test_proxy_retransmits_invite_over_udp_until_provisional)
{
	struct fx f;
	char resp[4096], inv[1024], ring[1024];
	int caller, n = 0;
	const char *sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
	                  "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

	fx_up(&f, 60);
	/* alice's binding is the test socket itself */
	ck_assert_int_eq(do_register(&f, "<sip:alice@127.0.0.1:9>", "300", resp, sizeof(resp)),
	                 200);
	caller = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(connect(caller, (struct sockaddr *)&f.srv.ss, f.srv.len), 0);
	snprintf(inv, sizeof(inv),
	         "INVITE sip:alice@librestream.com SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:8;branch=z9hG4bKinv1\r\n"
	         "From: <sip:bob@librestream.com>;tag=b1\r\nTo: <sip:alice@librestream.com>\r\n"
	         "Call-ID: rtx1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
	         "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
	         strlen(sdp), sdp);
	ck_assert_int_eq(send(caller, inv, strlen(inv), 0), (ssize_t)strlen(inv));
	/* Timer A: the first copy, then again after T1 and 2*T1, while nobody answers */
	while (n < 3 && recv_pumped(&f, f.fd, resp, sizeof(resp), 2500) > 0)
		if (strncmp(resp, "INVITE ", 7) == 0)
			n++;
	ck_assert_int_eq(n, 3);
	ck_assert_ptr_nonnull(strstr(resp, "Record-Route: "));
	ck_assert_ptr_null(strstr(resp, "m=audio 4000 ")); /* the SDP names a relay port */
	/* a 180 stops the retransmissions and goes to the caller */
	{
		const char *v = strstr(resp, "Via: ");
		size_t vl = strstr(v, "\r\nVia: ") ? (size_t)(strstr(v, "\r\nVia: ") - v) : 0;
		snprintf(ring, sizeof(ring),
		         "SIP/2.0 180 Ringing\r\n%.*s\r\n"
		         "Via: SIP/2.0/UDP 127.0.0.1:8;branch=z9hG4bKinv1\r\n"
		         "From: <sip:bob@librestream.com>;tag=b1\r\n"
		         "To: <sip:alice@librestream.com>;tag=a1\r\nCall-ID: rtx1\r\n"
		         "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		         (int)vl, v);
	}
	ck_assert_int_eq(send(f.fd, ring, strlen(ring), 0), (ssize_t)strlen(ring));
	n = 0;
	while (recv_pumped(&f, caller, resp, sizeof(resp), 1500) > 0)
		n += strncmp(resp, "SIP/2.0 180", 11) == 0;
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq((int)recv_pumped(&f, f.fd, resp, sizeof(resp), 2500), 0);
	close(caller);
	ck_assert_uint_eq(journal_local(&f, "call", &f.srv), 1); /* start */
	fx_down(&f);
}
END_TEST

START_TEST(test_registrar_caps_contacts_per_user_replacing_the_oldest)
{
	struct fx f;
	char resp[4096];

	fx_up(&f, 60); /* max_contacts is 2 here */
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.10>", "300", resp, sizeof(resp)), 200);
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.11>", "300", resp, sizeof(resp)), 200);
	ck_assert_int_eq(do_register(&f, "<sip:alice@192.0.2.12>", "300", resp, sizeof(resp)), 200);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 2);
	ck_assert_ptr_null(strstr(resp, "<sip:alice@192.0.2.10>"));
	ck_assert_ptr_nonnull(strstr(resp, "<sip:alice@192.0.2.11>"));
	ck_assert_ptr_nonnull(strstr(resp, "<sip:alice@192.0.2.12>"));
	fx_down(&f);
}
END_TEST

START_TEST(test_registrar_refuses_users_of_other_domains)
{
	struct fx f;
	char resp[4096];
	const char *reg = "REGISTER sip:example.com SIP/2.0\r\n"
	                  "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKd1\r\n"
	                  "From: <sip:alice@example.com>;tag=t\r\nTo: <sip:alice@example.com>\r\n"
	                  "Call-ID: d1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
	                  "Contact: <sip:alice@192.0.2.10>\r\nContent-Length: 0\r\n\r\n";

	fx_up(&f, 60);
	ck_assert_int_eq(exchange(&f, reg, resp, sizeof(resp)), 404);
	ck_assert_int_eq((int)registrar_binding_count(f.reg), 0);
	fx_down(&f);
}
END_TEST

static const char *stun_pw(void *arg, const char *user)
{
	(void)arg;
	return strcmp(user, "alice") == 0 ? "alice-pw-sip" : NULL;
}

START_TEST(test_stun_server_checks_message_integrity)
{
	struct fx f;
	struct stunsrv *s = NULL;
	struct sock_addr lo;
	struct stun_builder b;
	struct stun_msg m;
	uint8_t req[256], resp[512];
	const uint8_t tid[12] = {1, 2, 3};
	size_t n;
	int fd;

	fx_up(&f, 60);
	stunsrv_set_keys(stun_pw, NULL);
	ck_assert_int_eq(sock_addr_parse(&lo, "127.0.0.1:0", 0), 0);
	ck_assert_int_eq(stunsrv_open(&s, f.loop, f.j, &lo), 0);
	sock_addr_set_port(&lo, stunsrv_port(s));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&lo.ss, lo.len), 0);
	for (int round = 0; round < 2; round++) {
		const char *pw = round ? "wrong" : "alice-pw-sip";
		stun_build_begin(&b, req, sizeof(req), STUN_BINDING_REQUEST, tid);
		stun_add_bytes(&b, STUN_ATTR_USERNAME, "alice", 5);
		ck_assert_int_eq(stun_build_finish(&b, (const uint8_t *)pw, strlen(pw), 1, &n), 0);
		ck_assert_int_eq(send(fd, req, n, 0), (ssize_t)n);
		for (int i = 0; i < 100; i++) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			evloop_run_once(f.loop, 5);
			if (poll(&p, 1, 0) == 1)
				break;
		}
		n = (size_t)recv(fd, resp, sizeof(resp), MSG_DONTWAIT);
		ck_assert_int_eq(stun_decode(&m, resp, n), 0);
		if (round == 0) {
			ck_assert_uint_eq(m.type, STUN_BINDING_SUCCESS);
			ck_assert_int_eq(stun_check_integrity(&m, resp, n,
			                                      (const uint8_t *)"alice-pw-sip", 12),
			                 0);
		} else {
			ck_assert_uint_eq(m.type, STUN_BINDING_ERROR);
			ck_assert_int_eq(m.error_code, 401);
		}
	}
	close(fd);
	ck_assert_uint_eq(journal_local(&f, "stun", &lo), 2);
	stunsrv_close(s);
	fx_down(&f);
}
END_TEST

TU_SUITE("sip_server", test_registrar_challenges_then_binds_with_digest,
         test_registrar_rejects_replayed_nonce, test_registrar_rejects_wrong_password,
         test_registrar_answers_423_for_too_brief_expiry,
         test_registrar_keeps_multiple_contacts_and_unregisters, test_registrar_expires_bindings,
         test_options_answered_with_allow_accept_supported,
         test_invite_for_unregistered_user_gets_480, test_multipart_part_libosip2_leaks_on_gets_400,
         test_stun_server_checks_message_integrity,
         test_proxy_retransmits_invite_over_udp_until_provisional,
         test_registrar_caps_contacts_per_user_replacing_the_oldest,
         test_registrar_refuses_users_of_other_domains)
