/* sipmsg.c - parsing with libosip2 plus the checks it leaves to us. */
#define LOG_TAG "sipmsg"
#include "sipmsg.h"
#include "onsight/log.h"
#include "onsight/osipsafe.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void osip_trace_to_log(const char *fi, int li, osip_trace_level_t level, const char *chfr,
                              va_list ap)
{
	char buf[512];

	(void)fi;
	(void)li;
	(void)level;
	if (log_level_cur < LOG_LVL_DEBUG)
		return;
	vsnprintf(buf, sizeof(buf), chfr, ap);
	buf[strcspn(buf, "\r\n")] = '\0';
	log_debug("libosip2: %s", buf);
}

void sipmsg_global_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	osipsafe_init();
	osip_trace_initialize_func(TRACE_LEVEL5, osip_trace_to_log);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void uri_userhost(const osip_uri_t *u, char *out, size_t cap)
{
	if (!u)
		out[0] = '\0';
	else if (u->username)
		snprintf(out, cap, "%s@%s", u->username, u->host ? u->host : "");
	else
		copy_str(out, cap, u->host);
}

void sipmsg_uri_user(const osip_uri_t *u, char *out, size_t cap)
{
	copy_str(out, cap, u ? u->username : NULL);
}

/* Header name at the start of a raw line, long or compact (RFC 3261 §7.3.3). */
static int raw_is(const char *p, size_t n, const char *name, char compact)
{
	size_t nl = strlen(name), i;

	if (n > nl && strncasecmp(p, name, nl) == 0)
		i = nl;
	else if (compact && n > 1 && tolower((unsigned char)p[0]) == compact)
		i = 1;
	else
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

/* RFC 3261 §7.3.1: these headers carry one value; a second line of them is a 400. */
static int raw_duplicates(const char *buf, size_t len)
{
	static const struct {
		const char *name;
		char compact;
	} single[] = {{"From", 'f'},        {"To", 't'},         {"Call-ID", 'i'},
	              {"CSeq", 0},          {"Max-Forwards", 0}, {"Content-Length", 'l'},
	              {"Content-Type", 'c'}};
	unsigned count[sizeof(single) / sizeof(single[0])] = {0};
	const char *p = memchr(buf, '\n', len), *end = buf + len;

	while (p && ++p < end && *p != '\r' && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
			if (raw_is(p, n, single[i].name, single[i].compact) && ++count[i] > 1)
				return 1;
		p = nl;
	}
	return 0;
}

static int all_digits(const char *s, size_t maxlen)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > maxlen)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int check_cseq(struct sipmsg *s, const char **reason)
{
	osip_cseq_t *c = s->m->cseq;
	unsigned long long v;

	if (!c || !all_digits(c->number, 10) || !c->method) {
		*reason = "Bad CSeq";
		return 400;
	}
	v = strtoull(c->number, NULL, 10);
	if (v > INT_MAX) { /* RFC 3261 §8.1.1.5: less than 2**31 */
		*reason = "CSeq Out Of Range";
		return 400;
	}
	s->cseq = (unsigned long)v;
	if (s->is_request && strcmp(c->method, s->m->sip_method) != 0) {
		*reason = "CSeq Method Mismatch";
		return 400;
	}
	return 0;
}

static int check_max_forwards(struct sipmsg *s, const char **reason)
{
	const char *mf = sipmsg_header(s->m, "max-forwards");

	s->max_forwards = -1;
	if (!mf)
		return 0;
	if (!all_digits(mf, 9) || atoi(mf) > 255) { /* "0068" is 68 (RFC 4475 §3.1.1.1) */
		*reason = "Bad Max-Forwards";
		return 400;
	}
	s->max_forwards = atoi(mf);
	return 0;
}

static void fill_ids(struct sipmsg *s)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *p = NULL;
	osip_message_t *m = s->m;

	if (m->call_id) {
		snprintf(s->call_id, sizeof(s->call_id), "%s%s%s", m->call_id->number,
		         m->call_id->host ? "@" : "", m->call_id->host ? m->call_id->host : "");
	}
	if (osip_message_get_via(m, 0, &via) >= 0 && via &&
	    osip_via_param_get_byname(via, "branch", &p) >= 0 && p)
		copy_str(s->branch, sizeof(s->branch), p->gvalue);
	p = NULL;
	if (osip_from_get_tag(m->from, &p) >= 0 && p)
		copy_str(s->from_tag, sizeof(s->from_tag), p->gvalue);
	p = NULL;
	if (osip_to_get_tag(m->to, &p) >= 0 && p)
		copy_str(s->to_tag, sizeof(s->to_tag), p->gvalue);
	uri_userhost(m->from->url, s->from_uri, sizeof(s->from_uri));
	uri_userhost(m->to->url, s->to_uri, sizeof(s->to_uri));
}

static int check_request(struct sipmsg *s, const char **reason)
{
	const char *scheme;

	if (!s->m->sip_version || strcmp(s->m->sip_version, "SIP/2.0") != 0) {
		*reason = "Version Not Supported";
		return 505;
	}
	scheme = s->m->req_uri ? s->m->req_uri->scheme : NULL;
	if (!scheme || (strcasecmp(scheme, "sip") != 0 && strcasecmp(scheme, "sips") != 0)) {
		*reason = "Unsupported URI Scheme";
		return 416;
	}
	return 0;
}

static int validate(struct sipmsg *s, const char **reason)
{
	osip_message_t *m = s->m;
	int st;

	if (osip_list_size(&m->vias) < 1 || !m->from || !m->to || !m->call_id || !m->cseq ||
	    !m->from->url || !m->to->url) {
		*reason = "Missing Mandatory Header";
		return 400;
	}
	st = check_cseq(s, reason);
	if (!st)
		st = check_max_forwards(s, reason);
	if (!st && s->is_request)
		st = check_request(s, reason);
	fill_ids(s);
	return st;
}

/* Why libosip2 refused a request line: an unknown URI scheme is a 416 (RFC 3261 §8.2.2.1),
 * another version a 505; anything else a 400. */
static int start_line_status(const char *buf, size_t len, const char **reason)
{
	const char *sp1 = memchr(buf, ' ', len), *colon, *eol = memchr(buf, '\n', len);
	size_t n;

	if (!sp1 || !eol || sp1 > eol)
		return 400;
	n = (size_t)(eol - sp1);
	colon = memchr(sp1 + 1, ':', n);
	if (colon && !memchr(sp1 + 1, ' ', (size_t)(colon - sp1 - 1)) &&
	    !((colon - sp1 - 1 == 3 && strncasecmp(sp1 + 1, "sip", 3) == 0) ||
	      (colon - sp1 - 1 == 4 && strncasecmp(sp1 + 1, "sips", 4) == 0))) {
		*reason = "Unsupported URI Scheme";
		return 416;
	}
	return 400;
}

/* libosip2 works on C strings: a NUL octet (legal only as a quoted-pair inside a quoted
 * string, RFC 4475 §3.1.1.2) would end the message early. Such octets become spaces in a
 * copy; scratch receives it (caller frees). */
static const char *without_nul(const char *buf, size_t len, char **scratch)
{
	*scratch = NULL;
	if (!memchr(buf, '\0', len))
		return buf;
	*scratch = malloc(len);
	if (!*scratch)
		return buf;
	for (size_t i = 0; i < len; i++)
		(*scratch)[i] = buf[i] ? buf[i] : ' ';
	return *scratch;
}

int sipmsg_parse(struct sipmsg *s, const char *buf, size_t len, const char **reason)
{
	int looks_request = len < 4 || memcmp(buf, "SIP/", 4) != 0, st;
	char *scratch = NULL;
	const char *text = without_nul(buf, len, &scratch);

	memset(s, 0, sizeof(*s));
	*reason = "Bad Request";
	if (raw_duplicates(buf, len)) {
		free(scratch);
		*reason = "Repeated Single-Value Header";
		return looks_request ? 400 : SIPMSG_DROP;
	}
	st = osipsafe_parse(&s->m, text, len);
	free(scratch);
	if (st == OSIPSAFE_LEAKY) {
		*reason = "Malformed Body Part";
		return looks_request ? 400 : SIPMSG_DROP;
	}
	if (st != OSIPSAFE_OK)
		return looks_request && st == OSIPSAFE_SYNTAX ? start_line_status(buf, len, reason)
		                                              : SIPMSG_DROP;
	s->is_request = MSG_IS_REQUEST(s->m);
	s->method = s->is_request ? s->m->sip_method : (s->m->cseq ? s->m->cseq->method : NULL);
	s->status = s->m->status_code;
	if (!s->is_request &&
	    (s->status < 100 || s->status > 699 || !s->m->sip_version ||
	     strcmp(s->m->sip_version, "SIP/2.0") != 0))
		return SIPMSG_DROP;
	st = validate(s, reason);
	if (st && !s->is_request)
		return SIPMSG_DROP; /* RFC 4475 §3.1.2.5: malformed responses are discarded */
	if (!s->method)
		return s->is_request ? 400 : SIPMSG_DROP;
	return st;
}

void sipmsg_clear(struct sipmsg *s)
{
	if (s && s->m) {
		osip_message_free(s->m);
		s->m = NULL;
	}
}

int sipmsg_response(const struct sipmsg *req, int status, const char *reason, const char *to_tag,
                    osip_message_t **out)
{
	osip_message_t *r = NULL;
	const osip_message_t *q = req->m;
	osip_generic_param_t *tag = NULL;
	char code[8];

	if (osip_message_init(&r) != 0)
		return ENOMEM;
	snprintf(code, sizeof(code), "%d", status);
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, status);
	osip_message_set_reason_phrase(r, osip_strdup(reason));
	if (osip_list_clone(&q->vias, &r->vias, (int (*)(void *, void **))osip_via_clone) != 0 ||
	    osip_from_clone(q->from, &r->from) != 0 || osip_to_clone(q->to, &r->to) != 0 ||
	    osip_call_id_clone(q->call_id, &r->call_id) != 0 ||
	    osip_cseq_clone(q->cseq, &r->cseq) != 0) {
		osip_message_free(r);
		return ENOMEM;
	}
	if (to_tag && status > 100 && (osip_to_get_tag(r->to, &tag) < 0 || !tag))
		osip_to_set_tag(r->to, osip_strdup(to_tag));
	osip_message_set_header(r, "Server", "onsight-lab mock-sip");
	*out = r;
	return 0;
}

static int raw_copy_line(const char *p, size_t n, char *out, size_t cap, size_t *o,
                         const char *suffix)
{
	size_t w = n, sl = strlen(suffix);

	if (w && p[w - 1] == '\r')
		w--;
	if (*o + w + sl + 2 >= cap)
		return -ENOSPC;
	memcpy(out + *o, p, w);
	memcpy(out + *o + w, suffix, sl);
	memcpy(out + *o + w + sl, "\r\n", 2);
	*o += w + sl + 2;
	return 0;
}

int sipmsg_raw_response(const char *msg, size_t len, int status, const char *reason, char *out,
                        size_t cap)
{
	const char *p = memchr(msg, '\n', len), *end = msg + len;
	int n = snprintf(out, cap, "SIP/2.0 %d %s\r\n", status, reason), via = 0;
	size_t o;

	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	o = (size_t)n;
	while (p && ++p < end && *p != '\r' && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int is_via = raw_is(p, ln, "Via", 'v'), is_to = raw_is(p, ln, "To", 't');
		if (is_via || is_to || raw_is(p, ln, "From", 'f') ||
		    raw_is(p, ln, "Call-ID", 'i') || raw_is(p, ln, "CSeq", 0)) {
			const char *suffix = is_to && !memmem(p, ln, "tag=", 4) ? ";tag=bad" : "";
			if (raw_copy_line(p, ln, out, cap, &o, suffix))
				return -ENOSPC;
			via |= is_via;
		}
		p = nl;
	}
	n = snprintf(out + o, cap - o, "Server: onsight-lab mock-sip\r\nContent-Length: 0\r\n\r\n");
	if (n < 0 || (size_t)n >= cap - o)
		return -ENOSPC;
	return via ? (int)(o + (size_t)n) : 0;
}

int sipmsg_print(osip_message_t *m, char **buf, size_t *len)
{
	return osip_message_to_str(m, buf, len) == 0 ? 0 : EINVAL;
}

int sipmsg_set_body(osip_message_t *m, const char *body, size_t len, const char *ctype)
{
	char cl[24];

	osip_list_special_free(&m->bodies, (void (*)(void *))osip_body_free);
	osip_content_length_free(m->content_length);
	m->content_length = NULL;
	if (ctype) {
		osip_content_type_free(m->content_type);
		m->content_type = NULL;
		osip_message_set_content_type(m, ctype);
	}
	snprintf(cl, sizeof(cl), "%zu", body ? len : 0);
	osip_message_set_content_length(m, cl);
	if (body && len && osip_message_set_body(m, body, len) != 0)
		return ENOMEM;
	osip_message_force_update(m);
	return 0;
}

const char *sipmsg_body(const osip_message_t *m, size_t *len)
{
	osip_body_t *b = osip_list_get(&m->bodies, 0);

	if (!b || !b->body)
		return NULL;
	*len = b->length;
	return b->body;
}

const char *sipmsg_header(const osip_message_t *m, const char *name)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(m, name, 0, &h) < 0 || !h)
		return NULL;
	return h->hvalue;
}
