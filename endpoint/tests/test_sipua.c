/* test_sipua - the user agent against a scripted registrar/peer in the same process: the
 * test plays the server side through the UA's send hook and sipua_input. */
#include "rtp.h"
#include "sipmsg.h"
#include "sipua.h"
#include "status.h"
#include "uaconf.h"

#include "onsight/digest.h"
#include "onsight/evloop.h"
#include "onsight/util.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXOUT 16

struct fx {
	struct evloop *loop;
	struct status *st;
	struct sipua *ua;
	char *dir, *events;
	char out[MAXOUT][8192];
	int nout;
	int reg_ok, reg_fail;
	char call_out[MAXOUT][8192]; /* through the call_send hook */
	int ncall_out;
	char media_host[64];
	unsigned media_port;
	int media_opened, media_closed;
};

static int h_send(void *arg, const char *buf, size_t len)
{
	struct fx *f = arg;

	ck_assert_int_lt(f->nout, MAXOUT);
	ck_assert_uint_lt(len, sizeof(f->out[0]));
	memcpy(f->out[f->nout], buf, len);
	f->out[f->nout][len] = '\0';
	f->nout++;
	return 0;
}

static int h_call_send(void *arg, const char *buf, size_t len)
{
	struct fx *f = arg;

	ck_assert_int_lt(f->ncall_out, MAXOUT);
	ck_assert_uint_lt(len, sizeof(f->call_out[0]));
	memcpy(f->call_out[f->ncall_out], buf, len);
	f->call_out[f->ncall_out][len] = '\0';
	f->ncall_out++;
	return 0;
}

static int h_media_open(void *arg, struct rtp *r, const char *host, unsigned port)
{
	struct fx *f = arg;

	(void)r;
	str_copy(f->media_host, host, sizeof(f->media_host));
	f->media_port = port;
	f->media_opened++;
	return 0;
}

static void h_media_close(void *arg, struct rtp *r)
{
	struct fx *f = arg;

	(void)r;
	f->media_closed++;
}

static void h_reg(void *arg, int ok, const char *reason)
{
	struct fx *f = arg;

	(void)reason;
	if (ok)
		f->reg_ok++;
	else
		f->reg_fail++;
}

/* ports: enum rtp_ports; no_rtp and call_send: the faults no-rtp and call-out-wrong-server
 * (the outgoing call's own flow is h_call_send). */
static void fx_init_faults(struct fx *f, int auto_answer, int ports, int no_rtp, int call_send)
{
	struct sipua_conf c;
	struct sipua_hooks h = {
	        h_send, h_media_open, h_media_close, h_reg, call_send ? h_call_send : NULL, f};

	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(evloop_alloc(&f->loop), 0);
	f->dir = tu_mkdtemp();
	f->events = tu_write(f->dir, "events.jsonl", "");
	ck_assert_int_eq(status_alloc(&f->st, -1, f->events), 0);
	uaconf_alice(&c);
	c.auth_password = "alice-pw-sip";
	c.local_host = "198.51.100.10";
	c.local_port = 40000;
	c.port_min = 20000;
	c.port_max = 20100;
	c.media_ports = ports;
	c.no_rtp = no_rtp;
	c.auto_answer = auto_answer;
	c.timeout_ms = 1000;
	ck_assert_int_eq(sipua_alloc(&f->ua, f->loop, f->st, &c, &h), 0);
}

static void fx_init(struct fx *f, int auto_answer, int below)
{
	fx_init_faults(f, auto_answer, below, 0, 0);
}

static void fx_fini(struct fx *f)
{
	sipua_free(f->ua);
	status_free(f->st);
	evloop_free(f->loop);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f->events);
}

static void parse_out(struct fx *f, int i, struct sipmsg *m)
{
	ck_assert_int_lt(i, f->nout);
	ck_assert_msg(sipmsg_parse(m, f->out[i], strlen(f->out[i])) == 0, "unparsable: %s",
	              f->out[i]);
}

/* A response to request m, with extra header lines. */
static void respond(struct fx *f, const struct sipmsg *m, int status, const char *to_tag,
                    const char *extra, const char *body)
{
	char buf[8192];
	int n, i;
	size_t off = 0;

	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "SIP/2.0 %d X\r\n", status);
	for (i = 0; i < m->nvia; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "Via: %s\r\n", m->via[i]);
	n = snprintf(buf + off, sizeof(buf) - off,
	             "From: %s\r\nTo: %s%s%s\r\nCall-ID: %s\r\nCSeq: %lu %s\r\n%s"
	             "Content-Length: %zu\r\n\r\n%s",
	             m->from, m->to, to_tag ? ";tag=" : "", to_tag ? to_tag : "", m->call_id,
	             m->cseq, m->cseq_method, extra ? extra : "", body ? strlen(body) : 0,
	             body ? body : "");
	off += (size_t)n;
	ck_assert_int_eq(sipua_input(f->ua, buf, off), 0);
}

static int events_has(struct fx *f, const char *needle)
{
	char *buf = NULL;
	size_t len = 0;
	int found;

	ck_assert_int_eq(file_read(f->events, 1 << 20, &buf, &len), 0);
	found = strstr(buf, needle) != NULL;
	free(buf);
	return found;
}

START_TEST(test_sipua_registers_after_answering_the_digest_challenge)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	struct digest_server *ds = NULL;
	struct digest_params cred;
	char ch[512], extra[700];
	const char *auth;

	fx_init(&f, 0, 0);
	ck_assert_int_eq(digest_server_alloc(&ds, 60000, 8), 0);
	ck_assert_int_eq(sipua_register(f.ua), 0);
	parse_out(&f, 0, m);
	ck_assert_str_eq(m->method, "REGISTER");
	ck_assert_str_eq(m->ruri, "sip:librestream.com");
	ck_assert_str_eq(m->contact_uri, "sip:alice@198.51.100.10:40000;transport=tcp");
	ck_assert_int_eq(digest_server_challenge(ds, 1, "librestream.com", 0, ch, sizeof(ch)), 0);
	snprintf(extra, sizeof(extra), "WWW-Authenticate: %s\r\n", ch);
	respond(&f, m, 401, "srv", extra, NULL);
	ck_assert_int_eq(f.nout, 2);
	parse_out(&f, 1, m);
	ck_assert_uint_eq(m->cseq, 2);
	auth = strstr(f.out[1], "Authorization: ");
	ck_assert_ptr_nonnull(auth);
	{
		char line[1024];

		str_copy(line, auth + 15, sizeof(line));
		line[strcspn(line, "\r")] = '\0';
		ck_assert_int_eq(digest_parse(line, &cred), 0);
	}
	ck_assert_int_eq(digest_server_check(ds, 2, &cred, "REGISTER", "librestream.com",
	                                     "alice-pw-sip", NULL),
	                 DIGEST_OK);
	respond(&f, m, 200, "srv",
	        "Contact: <sip:alice@198.51.100.10:40000;transport=tcp>;expires=120\r\n", NULL);
	ck_assert_int_eq(f.reg_ok, 1);
	ck_assert(sipua_registered(f.ua));
	ck_assert(events_has(&f, "\"event\":\"registered\""));
	ck_assert(events_has(&f, "\"expires\":120"));
	/* A refresh is pending at 3/4 of the granted 120 s. */
	ck_assert_uint_ge(evloop_timer_count(f.loop), 1);
	digest_server_free(ds);
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_refreshes_before_the_granted_lifetime_runs_out)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	uint64_t end;

	fx_init(&f, 0, 0);
	ck_assert_int_eq(sipua_register(f.ua), 0);
	parse_out(&f, 0, m);
	/* The registrar grants 2 s: the refresh must leave at 3/4 of it, 1.5 s. */
	respond(&f, m, 200, "srv",
	        "Contact: <sip:alice@198.51.100.10:40000;transport=tcp>;expires=2\r\n", NULL);
	ck_assert_int_eq(f.reg_ok, 1);
	end = evloop_now_ms() + 3000;
	while (f.nout < 2 && evloop_now_ms() < end)
		ck_assert_int_ge(evloop_run_once(f.loop, 100), 0);
	ck_assert_int_eq(f.nout, 2);
	ck_assert_uint_ge(evloop_now_ms() + 3000 - end, 1400);
	parse_out(&f, 1, m);
	ck_assert_str_eq(m->method, "REGISTER");
	ck_assert_uint_eq(m->cseq, 2);
	ck_assert_str_eq(m->call_id, sipua_reg_call_id(f.ua));
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_gives_up_when_credentials_are_refused)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	const char *ch = "WWW-Authenticate: Digest realm=\"librestream.com\", nonce=\"abc\", "
	                 "qop=\"auth\", algorithm=MD5\r\n";
	int i;

	fx_init(&f, 0, 0);
	ck_assert_int_eq(sipua_register(f.ua), 0);
	for (i = 0; i < 5 && f.reg_fail == 0; i++) {
		parse_out(&f, f.nout - 1, m);
		respond(&f, m, 401, "srv", ch, NULL);
	}
	ck_assert_int_eq(f.reg_fail, 1);
	ck_assert_int_le(f.nout, 3);
	ck_assert(events_has(&f, "\"event\":\"register.failed\""));
	free(m);
	fx_fini(&f);
}
END_TEST

static const char *offer = "v=0\r\no=peer 1 1 IN IP4 203.0.113.21\r\ns=-\r\n"
                           "c=IN IP4 203.0.113.21\r\nt=0 0\r\nm=audio 15002 RTP/AVP 0\r\n"
                           "a=rtpmap:0 PCMU/8000\r\n";

static void send_request(struct fx *f, const char *method, const char *cid, unsigned cseq,
                         const char *to_tag, const char *body)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf),
	                 "%s sip:alice@198.51.100.10:40000;transport=tcp SIP/2.0\r\n"
	                 "Via: SIP/2.0/TCP 203.0.113.20:5060;branch=z9hG4bK%s%u\r\n"
	                 "Max-Forwards: 70\r\nFrom: <sip:peer@librestream.com>;tag=peer1\r\n"
	                 "To: <sip:alice@librestream.com>%s%s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n"
	                 "Contact: <sip:peer@203.0.113.20:5060;transport=tcp>\r\n%s"
	                 "Content-Length: %zu\r\n\r\n%s",
	                 method, method, cseq, to_tag ? ";tag=" : "", to_tag ? to_tag : "", cid,
	                 cseq, method, body ? "Content-Type: application/sdp\r\n" : "",
	                 body ? strlen(body) : 0, body ? body : "");

	ck_assert_int_eq(sipua_input(f->ua, buf, (size_t)n), 0);
}

START_TEST(test_sipua_auto_answers_with_media_in_range_and_ends_on_bye)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	char addr[64];
	unsigned port = 0;

	fx_init(&f, 1, 0);
	send_request(&f, "INVITE", "call-1", 1, NULL, offer);
	ck_assert_int_eq(f.nout, 2);
	parse_out(&f, 0, m);
	ck_assert_int_eq(m->status, 180);
	parse_out(&f, 1, m);
	ck_assert_int_eq(m->status, 200);
	ck_assert_str_eq(m->content_type, "application/sdp");
	ck_assert_int_eq(sdp_audio(m->body, m->bodylen, addr, sizeof(addr), &port), 0);
	ck_assert_str_eq(addr, "198.51.100.10");
	ck_assert_uint_ge(port, 20000);
	ck_assert_uint_le(port, 20100);
	ck_assert_uint_eq(port % 2, 0);
	ck_assert_int_eq(f.media_opened, 1);
	ck_assert_str_eq(f.media_host, "203.0.113.21");
	ck_assert_uint_eq(f.media_port, 15002);
	send_request(&f, "ACK", "call-1", 1, m->to_tag, NULL);
	ck_assert(events_has(&f, "\"state\":\"established\""));
	send_request(&f, "BYE", "call-1", 2, m->to_tag, NULL);
	parse_out(&f, f.nout - 1, m);
	ck_assert_int_eq(m->status, 200);
	ck_assert_str_eq(m->cseq_method, "BYE");
	ck_assert(!sipua_in_call(f.ua));
	ck_assert_int_eq(f.media_closed, 1);
	ck_assert(events_has(&f, "\"state\":\"ended\""));
	ck_assert(events_has(&f, "\"event\":\"media\""));
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_places_a_call_through_a_proxy_challenge)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	char extra[600];
	const char *answer = "v=0\r\no=peer 1 1 IN IP4 203.0.113.22\r\ns=-\r\n"
	                     "c=IN IP4 203.0.113.22\r\nt=0 0\r\nm=audio 15010 RTP/AVP 0\r\n";

	fx_init(&f, 0, 0);
	ck_assert_int_eq(sipua_call(f.ua, "sip:peer@librestream.com"), 0);
	parse_out(&f, 0, m);
	ck_assert_str_eq(m->method, "INVITE");
	ck_assert_str_eq(m->ruri, "sip:peer@librestream.com");
	respond(&f, m, 407, "p1",
	        "Proxy-Authenticate: Digest realm=\"librestream.com\", nonce=\"n1\", "
	        "qop=\"auth\"\r\n",
	        NULL);
	/* ACK for the 407, then the INVITE again with credentials and a higher CSeq. */
	ck_assert_int_eq(f.nout, 3);
	parse_out(&f, 1, m);
	ck_assert_str_eq(m->method, "ACK");
	ck_assert_uint_eq(m->cseq, 1);
	parse_out(&f, 2, m);
	ck_assert_str_eq(m->method, "INVITE");
	ck_assert_uint_eq(m->cseq, 2);
	ck_assert_ptr_nonnull(strstr(f.out[2], "Proxy-Authorization: Digest"));
	respond(&f, m, 180, "peer2", NULL, NULL);
	snprintf(extra, sizeof(extra),
	         "Contact: <sip:peer@203.0.113.20:5060;transport=tcp>\r\n"
	         "Content-Type: application/sdp\r\n");
	respond(&f, m, 200, "peer2", extra, answer);
	parse_out(&f, f.nout - 1, m);
	ck_assert_str_eq(m->method, "ACK");
	ck_assert_str_eq(m->ruri, "sip:peer@203.0.113.20:5060;transport=tcp");
	ck_assert_str_eq(m->to_tag, "peer2");
	ck_assert_int_eq(f.media_opened, 1);
	ck_assert_uint_eq(f.media_port, 15010);
	ck_assert(events_has(&f, "\"state\":\"ringing\""));
	ck_assert(events_has(&f, "\"state\":\"established\""));
	sipua_hangup(f.ua);
	parse_out(&f, f.nout - 1, m);
	ck_assert_str_eq(m->method, "BYE");
	respond(&f, m, 200, NULL, NULL, NULL);
	ck_assert(!sipua_in_call(f.ua));
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_media_out_of_range_fault_binds_below_the_range)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	char addr[64];
	unsigned port = 0;

	fx_init(&f, 1, 1);
	send_request(&f, "INVITE", "call-2", 1, NULL, offer);
	parse_out(&f, 1, m);
	ck_assert_int_eq(sdp_audio(m->body, m->bodylen, addr, sizeof(addr), &port), 0);
	ck_assert_uint_lt(port, 20000);
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_media_below_1024_fault_binds_a_privileged_pair)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	char addr[64];
	unsigned port = 0;

	if (geteuid() != 0) {
		/* Ports under 1024 need root or CAP_NET_BIND_SERVICE. */
		free(m);
		return;
	}
	fx_init_faults(&f, 1, RTP_PORTS_BELOW_1024, 0, 0);
	send_request(&f, "INVITE", "call-3", 1, NULL, offer);
	parse_out(&f, 1, m);
	ck_assert_int_eq(m->status, 200);
	ck_assert_int_eq(sdp_audio(m->body, m->bodylen, addr, sizeof(addr), &port), 0);
	ck_assert_uint_ge(port, RTP_LOW_PORT_MIN);
	ck_assert_uint_lt(port, 1024);
	ck_assert_uint_eq(port % 2, 0);
	free(m);
	fx_fini(&f);
	/* media-out-of-range stays at 1024 and above: the two faults are distinct. */
	m = malloc(sizeof(*m));
	fx_init_faults(&f, 1, RTP_PORTS_BELOW_RANGE, 0, 0);
	send_request(&f, "INVITE", "call-4", 1, NULL, offer);
	parse_out(&f, 1, m);
	ck_assert_int_eq(sdp_audio(m->body, m->bodylen, addr, sizeof(addr), &port), 0);
	ck_assert_uint_ge(port, 1024);
	ck_assert_uint_lt(port, 20000);
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_no_rtp_fault_answers_but_never_starts_media)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	char addr[64];
	unsigned port = 0;

	fx_init_faults(&f, 1, RTP_PORTS_IN_RANGE, 1, 0);
	send_request(&f, "INVITE", "call-5", 1, NULL, offer);
	parse_out(&f, 1, m);
	ck_assert_int_eq(m->status, 200);
	ck_assert_int_eq(sdp_audio(m->body, m->bodylen, addr, sizeof(addr), &port), 0);
	ck_assert_uint_ge(port, 20000);
	send_request(&f, "ACK", "call-5", 1, m->to_tag, NULL);
	ck_assert(events_has(&f, "\"state\":\"established\""));
	ck_assert_int_eq(f.media_opened, 0);
	send_request(&f, "BYE", "call-5", 2, m->to_tag, NULL);
	ck_assert(!sipua_in_call(f.ua));
	ck_assert_int_eq(f.media_closed, 0);
	ck_assert(events_has(&f, "\"tx_packets\":0"));
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_call_send_hook_carries_the_outgoing_call_only)
{
	struct fx f;
	struct sipmsg *m = malloc(sizeof(*m));
	const char *answer = "v=0\r\no=peer 1 1 IN IP4 203.0.113.22\r\ns=-\r\n"
	                     "c=IN IP4 203.0.113.22\r\nt=0 0\r\nm=audio 15010 RTP/AVP 0\r\n";

	fx_init_faults(&f, 1, RTP_PORTS_IN_RANGE, 0, 1);
	ck_assert_int_eq(sipua_register(f.ua), 0);
	ck_assert_int_eq(f.nout, 1);
	ck_assert_int_eq(sipua_call(f.ua, "sip:peer@librestream.com"), 0);
	/* The INVITE took the call's own flow, not the registration's. */
	ck_assert_int_eq(f.nout, 1);
	ck_assert_int_eq(f.ncall_out, 1);
	ck_assert_msg(sipmsg_parse(m, f.call_out[0], strlen(f.call_out[0])) == 0, "%s",
	              f.call_out[0]);
	ck_assert_str_eq(m->method, "INVITE");
	respond(&f, m, 200, "peer3",
	        "Contact: <sip:peer@203.0.113.20:5060;transport=tcp>\r\n"
	        "Content-Type: application/sdp\r\n",
	        answer);
	ck_assert_int_eq(f.ncall_out, 2);
	ck_assert_ptr_nonnull(strstr(f.call_out[1], "ACK "));
	sipua_hangup(f.ua);
	ck_assert_int_eq(f.ncall_out, 3);
	ck_assert_ptr_nonnull(strstr(f.call_out[2], "BYE "));
	/* An incoming call still answers on the registration's flow. */
	ck_assert_int_eq(sipmsg_parse(m, f.call_out[2], strlen(f.call_out[2])), 0);
	respond(&f, m, 200, NULL, NULL, NULL);
	send_request(&f, "INVITE", "call-6", 1, NULL, offer);
	ck_assert_int_eq(f.ncall_out, 3);
	ck_assert_int_eq(f.nout, 3);
	free(m);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sipua_drops_garbage_and_keeps_working)
{
	struct fx f;
	const char *junk[] = {"",
	                      "INVITE",
	                      "SIP/2.0 200\r\n\r\n",
	                      "\x01\x02\x03\xff",
	                      "INVITE sip:a@b SIP/2.0\r\n\r\n",
	                      ("SIP/2.0 999 X\r\nVia: SIP/2.0/TCP a\r\nFrom: <sip:a@b>\r\nTo: "
	                       "<sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")};
	unsigned i;

	fx_init(&f, 1, 0);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		ck_assert_int_ne(sipua_input(f.ua, junk[i], strlen(junk[i])), 0);
	ck_assert_uint_eq(sipua_bad_messages(f.ua), sizeof(junk) / sizeof(junk[0]));
	/* A response to nothing we sent is ignored. */
	{
		const char *stray = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP a;branch=z9hG4bKx\r\n"
		                    "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: nope\r\n"
		                    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
		ck_assert_int_eq(sipua_input(f.ua, stray, strlen(stray)), 0);
	}
	ck_assert_int_eq(f.nout, 0);
	ck_assert_int_eq(sipua_register(f.ua), 0);
	ck_assert_int_eq(f.nout, 1);
	fx_fini(&f);
}
END_TEST

START_TEST(test_sdp_audio_reads_media_connection_and_unterminated_bodies)
{
	char addr[64];
	unsigned port = 0;
	const char *s1 = "v=0\r\nc=IN IP4 203.0.113.20\r\nm=video 4000 RTP/AVP 96\r\n"
	                 "c=IN IP4 203.0.113.99\r\nm=audio 15004 RTP/AVP 0\r\n"
	                 "c=IN IP4 203.0.113.21/127";
	const char *s2 = "v=0\nc=IN IP6 2001:db8::1\nm=audio 16000 RTP/AVP 0";

	ck_assert_int_eq(sdp_audio(s1, strlen(s1), addr, sizeof(addr), &port), 0);
	ck_assert_str_eq(addr, "203.0.113.21");
	ck_assert_uint_eq(port, 15004);
	ck_assert_int_eq(sdp_audio(s2, strlen(s2), addr, sizeof(addr), &port), 0);
	ck_assert_str_eq(addr, "2001:db8::1");
	ck_assert_uint_eq(port, 16000);
	ck_assert_int_ne(sdp_audio("v=0\r\nm=audio 0 RTP/AVP 0", 24, addr, sizeof(addr), &port), 0);
	ck_assert_int_ne(sdp_audio("m=audio 5000 RTP/AVP 0", 22, addr, sizeof(addr), &port), 0);
	ck_assert_int_ne(sdp_audio("c=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0", 41, addr,
	                           sizeof(addr), &port),
	                 0);
}
END_TEST

TU_SUITE("sipua", test_sipua_registers_after_answering_the_digest_challenge,
         test_sipua_refreshes_before_the_granted_lifetime_runs_out,
         test_sipua_gives_up_when_credentials_are_refused,
         test_sipua_auto_answers_with_media_in_range_and_ends_on_bye,
         test_sipua_places_a_call_through_a_proxy_challenge,
         test_sipua_media_out_of_range_fault_binds_below_the_range,
         test_sipua_media_below_1024_fault_binds_a_privileged_pair,
         test_sipua_no_rtp_fault_answers_but_never_starts_media,
         test_sipua_call_send_hook_carries_the_outgoing_call_only,
         test_sipua_drops_garbage_and_keeps_working,
         test_sdp_audio_reads_media_connection_and_unterminated_bodies)
