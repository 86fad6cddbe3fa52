/* sipmsg.c - validation and extraction on top of libosip2. */
#include <stdlib.h>
#include <sys/time.h>

#include <osipparser2/osip_parser.h>

#include "sipmsg.h"

#include "onsight/osipsafe.h"
#include "onsight/sdp.h"

#include <errno.h>
#include <pthread.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void quiet_trace(const char *fi, int li, osip_trace_level_t level, const char *chfr,
                        va_list ap)
{
	(void)fi;
	(void)li;
	(void)level;
	(void)chfr;
	(void)ap;
}

static void init_once(void)
{
	osipsafe_init();
	osip_trace_initialize_func(TRACE_LEVEL0, quiet_trace);
}

/* Once per process; the Firewall Detect probes parse on threads of their own. */
void sipmsg_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_once);
}

/* Copies src into a capped field; E2BIG when it does not fit. */
static int put(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return E2BIG;
	memcpy(dst, src ? src : "", n + 1);
	return 0;
}

static int put_osip(char *dst, size_t cap, char *owned)
{
	int err;

	if (!owned)
		return EINVAL;
	err = put(dst, cap, owned);
	osip_free(owned);
	return err;
}

static int tag_of(osip_from_t *f, char *out, size_t cap)
{
	osip_generic_param_t *tag = NULL;

	out[0] = '\0';
	if (osip_from_get_tag(f, &tag) == 0 && tag && tag->gvalue)
		return put(out, cap, tag->gvalue);
	return 0;
}

static int uri_of(osip_uri_t *u, char *out, size_t cap)
{
	char *s = NULL;

	out[0] = '\0';
	if (!u)
		return 0;
	if (osip_uri_to_str(u, &s) != 0)
		return EINVAL;
	return put_osip(out, cap, s);
}

static int take_challenge(struct sipmsg *m, osip_message_t *msg)
{
	osip_www_authenticate_t *w = NULL;
	osip_proxy_authenticate_t *p = NULL;
	char *s = NULL;

	if (osip_message_get_www_authenticate(msg, 0, &w) == 0 && w) {
		if (osip_www_authenticate_to_str(w, &s) != 0)
			return EINVAL;
		m->challenge_proxy = 0;
		return put_osip(m->challenge, sizeof(m->challenge), s);
	}
	if (osip_message_get_proxy_authenticate(msg, 0, &p) == 0 && p) {
		if (osip_proxy_authenticate_to_str(p, &s) != 0)
			return EINVAL;
		m->challenge_proxy = 1;
		return put_osip(m->challenge, sizeof(m->challenge), s);
	}
	return 0;
}

static int take_contact(struct sipmsg *m, osip_message_t *msg)
{
	osip_contact_t *c = NULL;
	osip_header_t *h = NULL;

	m->expires = -1;
	if (osip_message_get_contact(msg, 0, &c) == 0 && c) {
		osip_generic_param_t *e = NULL;

		if (uri_of(c->url, m->contact_uri, sizeof(m->contact_uri)))
			return E2BIG;
		if (osip_contact_param_get_byname(c, "expires", &e) == 0 && e && e->gvalue)
			m->expires = atoi(e->gvalue);
	}
	if (m->expires < 0 && osip_message_get_expires(msg, 0, &h) >= 0 && h && h->hvalue)
		m->expires = atoi(h->hvalue);
	return 0;
}

static int take_vias(struct sipmsg *m, osip_message_t *msg)
{
	int i, n = osip_list_size(&msg->vias);

	if (n <= 0)
		return EINVAL;
	if (n > SIPMSG_MAX_VIA)
		return E2BIG;
	for (i = 0; i < n; i++) {
		osip_via_t *v = osip_list_get(&msg->vias, i);
		char *s = NULL;
		int err;

		if (!v || osip_via_to_str(v, &s) != 0)
			return EINVAL;
		err = put_osip(m->via[i], sizeof(m->via[i]), s);
		if (err)
			return err;
	}
	m->nvia = n;
	return 0;
}

static int take_body(struct sipmsg *m, osip_message_t *msg)
{
	osip_body_t *b = NULL;
	osip_content_type_t *ct = osip_message_get_content_type(msg);

	if (ct && ct->type && ct->subtype) {
		if (strlen(ct->type) + strlen(ct->subtype) + 2 > sizeof(m->content_type))
			return E2BIG;
		snprintf(m->content_type, sizeof(m->content_type), "%s/%s", ct->type, ct->subtype);
	}
	if (osip_message_get_body(msg, 0, &b) == 0 && b && b->body) {
		if (b->length >= sizeof(m->body))
			return E2BIG;
		memcpy(m->body, b->body, b->length);
		m->body[b->length] = '\0';
		m->bodylen = b->length;
	}
	return 0;
}

static int extract(struct sipmsg *m, osip_message_t *msg)
{
	osip_call_id_t *cid = osip_message_get_call_id(msg);
	osip_cseq_t *cseq = osip_message_get_cseq(msg);
	osip_from_t *from = osip_message_get_from(msg);
	osip_to_t *to = osip_message_get_to(msg);
	char *s = NULL, *end = NULL;
	int err;

	if (!cid || !cseq || !cseq->number || !cseq->method || !from || !to)
		return EINVAL;
	if (MSG_IS_REQUEST(msg)) {
		osip_header_t *mf = NULL;

		m->is_request = 1;
		if (!msg->sip_method || !msg->req_uri)
			return EINVAL;
		if (osip_message_get_max_forwards(msg, 0, &mf) < 0 || !mf)
			return EINVAL;
		if ((err = put(m->method, sizeof(m->method), msg->sip_method)) ||
		    (err = uri_of(msg->req_uri, m->ruri, sizeof(m->ruri))))
			return err;
	} else {
		m->status = msg->status_code;
		if (m->status < 100 || m->status > 699)
			return EINVAL;
		if (put(m->reason, sizeof(m->reason), msg->reason_phrase))
			m->reason[0] = '\0'; /* a long reason phrase is not worth refusing */
	}
	if (osip_call_id_to_str(cid, &s) != 0)
		return EINVAL;
	if ((err = put_osip(m->call_id, sizeof(m->call_id), s)))
		return err;
	m->cseq = strtoul(cseq->number, &end, 10);
	if (!end || *end || end == cseq->number)
		return EINVAL;
	if ((err = put(m->cseq_method, sizeof(m->cseq_method), cseq->method)))
		return err;
	s = NULL;
	if (osip_from_to_str(from, &s) != 0)
		return EINVAL;
	if ((err = put_osip(m->from, sizeof(m->from), s)) ||
	    (err = tag_of(from, m->from_tag, sizeof(m->from_tag))) ||
	    (err = uri_of(from->url, m->from_uri, sizeof(m->from_uri))))
		return err;
	s = NULL;
	if (osip_to_to_str(to, &s) != 0)
		return EINVAL;
	if ((err = put_osip(m->to, sizeof(m->to), s)) ||
	    (err = tag_of(to, m->to_tag, sizeof(m->to_tag))))
		return err;
	if ((err = take_vias(m, msg)) || (err = take_contact(m, msg)) ||
	    (err = take_challenge(m, msg)) || (err = take_body(m, msg)))
		return err;
	return 0;
}

int sipmsg_parse(struct sipmsg *m, const char *buf, size_t len)
{
	osip_message_t *msg = NULL;
	int err;

	if (!m || !buf)
		return EINVAL;
	memset(m, 0, sizeof(*m));
	if (len == 0)
		return EINVAL;
	if (len > SIPMSG_MAX)
		return E2BIG;
	sipmsg_init();
	switch (osipsafe_parse(&msg, buf, len)) {
	case OSIPSAFE_OK:
		break;
	case OSIPSAFE_NOMEM:
		return ENOMEM;
	default: /* not SIP, or a body part libosip2 would leak on */
		return EINVAL;
	}
	err = extract(m, msg);
	osip_message_free(msg);
	return err;
}

/* Line-wise (common/sdp): libosip2's SDP parser reads past the end of a body whose last
 * line has no line break (found by fuzz_sipresp). */
int sdp_audio(const char *body, size_t len, char *addr, size_t addrlen, unsigned *port)
{
	struct sdp_stream st;
	char host[SOCK_ADDR_STRLEN];

	if (!body || !addr || !port || len == 0 || len > 8192)
		return EINVAL;
	if (sdp_find(body, len, "audio", &st) || st.port == 0 || !st.addr.len)
		return EINVAL;
	sock_addr_host(&st.addr, host, sizeof(host));
	if (strlen(host) >= addrlen)
		return EINVAL;
	memcpy(addr, host, strlen(host) + 1);
	*port = st.port;
	return 0;
}

void sip_random_token(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t i;

	if (n > sizeof(raw))
		n = sizeof(raw);
	if (RAND_bytes(raw, (int)n) != 1)
		memset(raw, 0x5a, n);
	for (i = 0; i < n; i++)
		out[i] = hex[raw[i] & 15];
	out[n] = '\0';
}
