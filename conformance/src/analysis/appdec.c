/* appdec.c - application decoders: SIP, HTTP/1.x, TLS ClientHello/alerts, STUN, DNS.
 *
 * Each decoder reads only what the timeline needs (docs/timeline.md), bounds every length
 * before it uses it, and treats anything it does not understand as "not this protocol".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis_int.h"

/* ---- shared text helpers ---------------------------------------------------------------- */

/* Length of the first line (without CR LF) if a LF is within max bytes, else -1. */
static long line_len(const uint8_t *p, size_t len, size_t max, size_t *adv)
{
	size_t n = len < max ? len : max;
	const uint8_t *nl = memchr(p, '\n', n);
	size_t l;

	if (!nl)
		return -1;
	l = (size_t)(nl - p);
	*adv = l + 1;
	if (l > 0 && p[l - 1] == '\r')
		l--;
	return (long)l;
}

/* End of the message head (after the blank line), or 0 if not within max. */
static size_t head_end(const uint8_t *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static bool is_token_char(uint8_t c)
{
	return isalnum(c) || strchr("-.!%*_+`'~", c) != NULL;
}

/* 1: SIP, 2: HTTP, 0: need more bytes, -1: neither (docs: start lines of RFC 3261 §7.1 and
 * RFC 9112 §3). */
int text_proto(const uint8_t *p, size_t len)
{
	size_t adv, i = 0;
	long l;

	if (len == 0)
		return 0;
	if (!(p[0] >= 'A' && p[0] <= 'Z'))
		return -1;
	l = line_len(p, len, 2048, &adv);
	if (l < 0)
		return len >= 2048 ? -1 : 0;
	if (l >= 12 && !memcmp(p, "SIP/2.0 ", 8) && isdigit(p[8]))
		return 1;
	if (l >= 12 && !memcmp(p, "HTTP/1.", 7) && p[8] == ' ' && isdigit(p[9]))
		return 2;
	while (i < (size_t)l && is_token_char(p[i]))
		i++;
	if (i == 0 || i >= (size_t)l || p[i] != ' ')
		return -1;
	/* method SP request-target SP version */
	if (l >= 9 && !memcmp(p + l - 8, " SIP/2.0", 8))
		return 1;
	if (l >= 10 && (!memcmp(p + l - 9, " HTTP/1.1", 9) || !memcmp(p + l - 9, " HTTP/1.0", 9)))
		return 2;
	return -1;
}

bool sip_looks_like(const uint8_t *p, size_t len)
{
	return text_proto(p, len) == 1;
}

bool http_looks_like(const uint8_t *p, size_t len)
{
	return text_proto(p, len) == 2;
}

struct hdr {
	const char *name;
	size_t nlen;
	const char *val;
	size_t vlen;
};

/* Splits the header lines of [p, end) (after the start line); at most AN_MAX_HEADERS. */
static size_t split_headers(const uint8_t *p, size_t len, struct hdr *h)
{
	size_t n = 0, off = 0;

	while (off < len && n < AN_MAX_HEADERS) {
		size_t adv;
		long l = line_len(p + off, len - off, len - off, &adv);
		const char *s = (const char *)p + off;

		if (l <= 0)
			break;
		off += adv;
		if (s[0] == ' ' || s[0] == '\t')
			continue; /* folded continuation (RFC 3261 §7.3.1): ignored */
		const char *colon = memchr(s, ':', (size_t)l);

		if (!colon)
			continue;
		size_t nl = (size_t)(colon - s);

		while (nl > 0 && (s[nl - 1] == ' ' || s[nl - 1] == '\t'))
			nl--;
		const char *v = colon + 1;
		const char *e = s + l;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		h[n].name = s;
		h[n].nlen = nl;
		h[n].val = v;
		h[n].vlen = (size_t)(e - v);
		if (h[n].vlen > AN_MAX_HDRVAL)
			h[n].vlen = AN_MAX_HDRVAL;
		n++;
	}
	return n;
}

/* First header named `name` or `compact` (SIP compact form, RFC 3261 §7.3.3; NULL if none). */
static const struct hdr *hdr_get(const struct hdr *h, size_t n, const char *name,
                                 const char *compact)
{
	size_t ln = strlen(name), lc = compact ? strlen(compact) : 0;

	for (size_t i = 0; i < n; i++) {
		if ((h[i].nlen == ln && !strncasecmp(h[i].name, name, ln)) ||
		    (compact && h[i].nlen == lc && !strncasecmp(h[i].name, compact, lc)))
			return &h[i];
	}
	return NULL;
}

static bool parse_ulong(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i = 0;

	if (len == 0)
		return false;
	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return false;
	}
	if (i == 0)
		return false;
	*out = v;
	return true;
}

/* The URI of a name-addr or addr-spec (RFC 3261 §20.10): inside <> or up to ';'. */
static void set_uri(json_t *ev, const char *key, const struct hdr *h)
{
	const char *v, *lt, *e;
	size_t n;

	if (!h)
		return;
	v = h->val;
	n = h->vlen;
	lt = memchr(v, '<', n);
	if (lt) {
		const char *gt = memchr(lt, '>', n - (size_t)(lt - v));

		if (gt) {
			ev_set_strn(ev, key, lt + 1, (size_t)(gt - lt - 1));
			return;
		}
	}
	e = memchr(v, ';', n);
	ev_set_strn(ev, key, v, e ? (size_t)(e - v) : n);
}

/* ---- SIP (RFC 3261) -------------------------------------------------------------------- */

long sip_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len,
                bool stream)
{
	struct hdr h[AN_MAX_HEADERS];
	size_t hend, adv, nh, i = 0;
	unsigned long clen = 0;
	long l;
	const struct hdr *x;
	json_t *ev;
	bool resp;

	/* RFC 5626 §3.5.1 keep-alives (CRLF CRLF) between messages on a stream. */
	while (stream && i < len && (p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i)
		return (long)i;
	if (text_proto(p, len) != 1)
		return stream && text_proto(p, len) == 0 ? 0 : -1;
	hend = head_end(p, len, AN_MAX_HEAD);
	if (!hend) {
		if (stream)
			return len >= AN_MAX_HEAD ? -1 : 0;
		hend = len; /* a datagram is the whole message */
	}
	l = line_len(p, hend, hend, &adv);
	if (l < 0)
		return -1;
	nh = split_headers(p + adv, hend - adv, h);
	x = hdr_get(h, nh, "Content-Length", "l");
	if (x && !parse_ulong(x->val, x->vlen, AN_MAX_HEAD, &clen))
		return -1;
	if (stream && hend + clen > len)
		return hend + clen > AN_MAX_HEAD + (size_t)AN_MAX_HEAD ? -1 : 0;
	resp = !memcmp(p, "SIP/2.0 ", 8);
	ev = tl_add_pcap_event(t, pi, resp ? "sip.response" : "sip.request");
	if (ev) {
		const char *s = (const char *)p;

		if (resp) {
			unsigned long st = 0;

			if (parse_ulong(s + 8, (size_t)l - 8, 999, &st))
				ev_set_int(ev, "status", (long long)st);
			if (l > 12)
				ev_set_strn(ev, "reason", s + 12, (size_t)l - 12);
		} else {
			const char *sp1 = memchr(s, ' ', (size_t)l);
			const char *sp2 =
			        sp1 ? memchr(sp1 + 1, ' ', (size_t)(s + l - sp1 - 1)) : NULL;

			if (sp1) {
				ev_set_strn(ev, "method", s, (size_t)(sp1 - s));
				if (sp2)
					ev_set_strn(ev, "uri", sp1 + 1, (size_t)(sp2 - sp1 - 1));
			}
		}
		if ((x = hdr_get(h, nh, "Call-ID", "i")))
			ev_set_strn(ev, "call_id", x->val, x->vlen);
		if ((x = hdr_get(h, nh, "CSeq", NULL))) {
			unsigned long cs = 0;
			const char *sp = memchr(x->val, ' ', x->vlen);

			if (parse_ulong(x->val, x->vlen, 0xffffffffUL, &cs))
				ev_set_int(ev, "cseq", (long long)cs);
			if (sp) {
				while (sp < x->val + x->vlen && *sp == ' ')
					sp++;
				ev_set_strn(ev, "cseq_method", sp, (size_t)(x->val + x->vlen - sp));
			}
		}
		set_uri(ev, "from", hdr_get(h, nh, "From", "f"));
		set_uri(ev, "to", hdr_get(h, nh, "To", "t"));
		set_uri(ev, "contact", hdr_get(h, nh, "Contact", "m"));
		if ((x = hdr_get(h, nh, "Via", "v"))) {
			const char *comma = memchr(x->val, ',', x->vlen);
			size_t vl = comma ? (size_t)(comma - x->val) : x->vlen;

			ev_set_strn(ev, "via", x->val, vl);
			if (vl > 8 && !strncasecmp(x->val, "SIP/2.0/", 8)) {
				size_t k = 8;

				while (k < vl && isalpha((unsigned char)x->val[k]))
					k++;
				char tr[16];
				size_t tl = k - 8 < sizeof(tr) - 1 ? k - 8 : sizeof(tr) - 1;

				for (size_t j = 0; j < tl; j++)
					tr[j] = (char)tolower((unsigned char)x->val[8 + j]);
				tr[tl] = '\0';
				ev_set_str(ev, "via_transport", tr);
			}
		}
		if ((x = hdr_get(h, nh, "Expires", NULL))) {
			unsigned long e = 0;

			if (parse_ulong(x->val, x->vlen, 0xffffffffUL, &e))
				ev_set_int(ev, "expires", (long long)e);
		}
		if ((x = hdr_get(h, nh, "User-Agent", NULL)))
			ev_set_strn(ev, "user_agent", x->val, x->vlen);
		ev_set_str(ev, "transport", pi->proto);
	}
	return stream ? (long)(hend + clen) : (long)len;
}

/* ---- HTTP/1.x (RFC 9112) ----------------------------------------------------------------- */

static bool val_has_token(const struct hdr *x, const char *tok)
{
	size_t tl = strlen(tok);

	if (!x)
		return false;
	for (size_t i = 0; i + tl <= x->vlen; i++)
		if (!strncasecmp(x->val + i, tok, tl))
			return true;
	return false;
}

static void copy_val(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

long http_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len,
                 struct http_pair *pair, enum http_next *next)
{
	struct hdr h[AN_MAX_HEADERS];
	size_t hend, adv, nh;
	unsigned long clen = 0;
	bool has_clen, chunked, resp;
	const struct hdr *x;
	const char *s = (const char *)p;
	long l;
	json_t *ev;

	*next = HTTP_NEXT_SAME;
	if (text_proto(p, len) != 2)
		return text_proto(p, len) == 0 ? 0 : -1;
	hend = head_end(p, len, AN_MAX_HEAD);
	if (!hend)
		return len >= AN_MAX_HEAD ? -1 : 0;
	l = line_len(p, hend, hend, &adv);
	if (l < 0)
		return -1;
	nh = split_headers(p + adv, hend - adv, h);
	x = hdr_get(h, nh, "Content-Length", NULL);
	has_clen = x && parse_ulong(x->val, x->vlen, 0xffffffffUL, &clen);
	chunked = val_has_token(hdr_get(h, nh, "Transfer-Encoding", NULL), "chunked");
	resp = !memcmp(p, "HTTP/1.", 7);
	if (!resp) {
		const char *sp1 = memchr(s, ' ', (size_t)l);
		const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(s + l - sp1 - 1)) : NULL;
		bool connect;

		if (!sp1 || !sp2)
			return -1;
		memset(pair, 0, sizeof(*pair));
		copy_val(pair->method, sizeof(pair->method), s, (size_t)(sp1 - s));
		copy_val(pair->uri, sizeof(pair->uri), sp1 + 1, (size_t)(sp2 - sp1 - 1));
		if ((x = hdr_get(h, nh, "Host", NULL)))
			copy_val(pair->host, sizeof(pair->host), x->val, x->vlen);
		pair->upgrade_ws = val_has_token(hdr_get(h, nh, "Upgrade", NULL), "websocket");
		if ((x = hdr_get(h, nh, "Sec-WebSocket-Protocol", NULL)))
			copy_val(pair->protocol, sizeof(pair->protocol), x->val, x->vlen);
		connect = !strcmp(pair->method, "CONNECT");
		ev = tl_add_pcap_event(t, pi, connect ? "http.connect" : "http.request");
		if (ev) {
			ev_set_str(ev, "method", pair->method);
			ev_set_str(ev, "uri", pair->uri);
			if (connect) {
				/* authority-form "host:port" (RFC 9110 §9.3.6), v6 in brackets */
				char host[256];
				const char *colon = strrchr(pair->uri, ':');
				unsigned long port = 0;

				copy_val(host, sizeof(host), pair->uri,
				         colon ? (size_t)(colon - pair->uri) : strlen(pair->uri));
				if (host[0] == '[' && host[strlen(host) - 1] == ']') {
					memmove(host, host + 1, strlen(host));
					host[strlen(host) - 1] = '\0';
				}
				ev_set_str(ev, "host", host);
				if (colon &&
				    parse_ulong(colon + 1, strlen(colon + 1), 65535, &port))
					ev_set_int(ev, "port", (long long)port);
			} else {
				if (pair->host[0])
					ev_set_str(ev, "host", pair->host);
				if ((x = hdr_get(h, nh, "Upgrade", NULL)))
					ev_set_strn(ev, "upgrade", x->val, x->vlen);
			}
			if ((x = hdr_get(h, nh, "User-Agent", NULL)))
				ev_set_strn(ev, "user_agent", x->val, x->vlen);
		}
	} else {
		unsigned long st = 0;

		if (l < 12 || !parse_ulong(s + 9, 3, 999, &st))
			return -1;
		ev = tl_add_pcap_event(t, pi, "http.response");
		if (ev) {
			ev_set_int(ev, "status", (long long)st);
			if (l > 13)
				ev_set_strn(ev, "reason", s + 13, (size_t)l - 13);
			if (pair->method[0])
				ev_set_str(ev, "request", pair->method);
		}
		if (st == 101) {
			if (pair->upgrade_ws) {
				ev = tl_add_pcap_event(t, pi, "ws.upgrade");
				if (ev) {
					ev_set_int(ev, "status", 101);
					ev_set_str(ev, "uri", pair->uri);
					ev_set_str(ev, "host", pair->host);
					if ((x = hdr_get(h, nh, "Sec-WebSocket-Protocol", NULL)))
						ev_set_strn(ev, "protocol", x->val, x->vlen);
					else if (pair->protocol[0])
						ev_set_str(ev, "protocol", pair->protocol);
				}
			}
			*next = HTTP_NEXT_OPAQUE;
			memset(pair, 0, sizeof(*pair));
			return (long)hend;
		}
		if (!strcmp(pair->method, "CONNECT") && st >= 200 && st < 300) {
			*next = HTTP_NEXT_TUNNEL;
			memset(pair, 0, sizeof(*pair));
			return (long)hend;
		}
		bool nobody = !strcmp(pair->method, "HEAD") || st < 200 || st == 204 || st == 304;

		memset(pair, 0, sizeof(*pair));
		if (nobody)
			return (long)hend;
		if (!has_clen && !chunked) {
			*next = HTTP_NEXT_OPAQUE; /* body runs to the end of the connection */
			return (long)hend;
		}
	}
	if (chunked) {
		*next = HTTP_NEXT_OPAQUE;
		return (long)hend;
	}
	if (clen > (unsigned long)AN_MAX_HEAD) {
		*next = HTTP_NEXT_OPAQUE;
		return (long)hend;
	}
	if (hend + clen > len)
		return 0; /* the event is out; wait for the body, then it is skipped */
	return (long)(hend + clen);
}

/* ---- TLS (RFC 8446 §4.1.2, RFC 5246 §7) ------------------------------------------------- */

bool tls_looks_like(const uint8_t *p, size_t len)
{
	return len >= 3 && p[0] >= 20 && p[0] <= 23 && p[1] == 3 && p[2] <= 4;
}

static const char *tls_version_name(unsigned v)
{
	switch (v) {
	case 0x0301:
		return "1.0";
	case 0x0302:
		return "1.1";
	case 0x0303:
		return "1.2";
	case 0x0304:
		return "1.3";
	default:
		return "other";
	}
}

static const char *alert_name(unsigned d)
{
	switch (d) {
	case 0:
		return "close_notify";
	case 40:
		return "handshake_failure";
	case 42:
		return "bad_certificate";
	case 44:
		return "certificate_revoked";
	case 45:
		return "certificate_expired";
	case 46:
		return "certificate_unknown";
	case 48:
		return "unknown_ca";
	case 70:
		return "protocol_version";
	case 112:
		return "unrecognized_name";
	default:
		return "other";
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void client_hello(json_t *ev, const uint8_t *p, size_t len)
{
	size_t off = 4 + 2 + 32, e, ee;
	unsigned best;
	json_t *alpn = NULL;

	if (len < off + 1)
		return;
	best = be16(p + 4);
	off += 1 + p[off]; /* session id */
	if (off + 2 > len)
		goto done;
	off += 2 + be16(p + off); /* cipher suites */
	if (off + 1 > len)
		goto done;
	off += 1 + p[off]; /* compression */
	if (off + 2 > len)
		goto done;
	ee = off + 2 + be16(p + off);
	if (ee > len)
		ee = len;
	for (e = off + 2; e + 4 <= ee;) {
		unsigned type = be16(p + e), elen = be16(p + e + 2);
		const uint8_t *d = p + e + 4;

		if (e + 4 + elen > ee)
			break;
		if (type == 0 && elen >= 5) { /* server_name, RFC 6066 §3 */
			size_t nl = be16(d + 3);

			if (d[2] == 0 && 5 + nl <= elen)
				ev_set_strn(ev, "sni", (const char *)d + 5, nl);
		} else if (type == 16 && elen >= 2) { /* ALPN, RFC 7301 */
			size_t k = 2, ll = be16(d);

			alpn = json_array();
			while (alpn && k < elen && k < ll + 2) {
				size_t pl = d[k];

				if (k + 1 + pl > elen)
					break;
				json_t *name = json_stringn((const char *)d + k + 1, pl);

				if (name) /* NULL when not UTF-8: such a name is left out */
					json_array_append_new(alpn, name);
				k += 1 + pl;
			}
		} else if (type == 43 && elen >= 1) { /* supported_versions, RFC 8446 §4.2.1 */
			for (size_t k = 1; k + 1 < elen && k < 1u + d[0]; k += 2) {
				unsigned v = be16(d + k);

				if ((v & 0x0f0f) != 0x0a0a && v > best && v <= 0x0304)
					best = v; /* skips GREASE (RFC 8701) */
			}
		}
		e += 4 + elen;
	}
done:
	ev_set_str(ev, "version", tls_version_name(best));
	if (alpn)
		json_object_set_new(ev, "alpn", alpn);
}

long tls_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len,
                bool *opaque)
{
	size_t rl;

	if (len < 5)
		return 0;
	if (!tls_looks_like(p, len))
		return -1;
	rl = be16(p + 3);
	if (rl > 16384 + 2048)
		return -1;
	if (5 + rl > len)
		return 0;
	if (p[0] == 22 && rl >= 4) {
		if (p[5] == 1) {
			json_t *ev = tl_add_pcap_event(t, pi, "tls.client_hello");

			if (ev)
				client_hello(ev, p + 5, rl);
		} else {
			*opaque = true; /* ServerHello and later: nothing more we read in clear */
		}
	} else if (p[0] == 21 && rl == 2) {
		json_t *ev = tl_add_pcap_event(t, pi, "tls.alert");

		if (ev) {
			ev_set_int(ev, "level", p[5]);
			ev_set_int(ev, "description", p[6]);
			ev_set_str(ev, "name", alert_name(p[6]));
		}
	} else if (p[0] == 20 || p[0] == 23) {
		*opaque = true;
	}
	return (long)(5 + rl);
}

/* ---- STUN (RFC 5389 §6) ---------------------------------------------------------------- */

static const char *stun_method(unsigned m)
{
	switch (m) {
	case 1:
		return "binding";
	case 3:
		return "allocate";
	case 4:
		return "refresh";
	case 6:
		return "send";
	case 7:
		return "data";
	case 8:
		return "createpermission";
	case 9:
		return "channelbind";
	default:
		return "other";
	}
}

bool stun_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len)
{
	static const char *cls_kind[4] = {"stun.request", "stun.indication", "stun.response",
	                                  "stun.error"};
	unsigned type, mlen, cls, method;
	char tid[25];
	json_t *ev;

	if (len < 20 || (p[0] & 0xc0) || p[4] != 0x21 || p[5] != 0x12 || p[6] != 0xa4 ||
	    p[7] != 0x42)
		return false;
	type = be16(p);
	mlen = be16(p + 2);
	if ((mlen & 3) || 20 + (size_t)mlen > len)
		return false;
	cls = ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4);
	method = ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f);
	for (int i = 0; i < 12; i++)
		snprintf(tid + 2 * i, 3, "%02x", p[8 + i]);
	ev = tl_add_pcap_event(t, pi, cls_kind[cls]);
	if (ev) {
		ev_set_int(ev, "type", type);
		ev_set_str(ev, "method", stun_method(method));
		ev_set_str(ev, "transaction_id", tid);
	}
	return true;
}

/* ---- DNS (RFC 1035 §4.1) ----------------------------------------------------------------- */

bool dns_decode(struct conform_timeline *t, const struct pktinfo *pi, const uint8_t *p, size_t len)
{
	char name[256];
	size_t off = 12, n = 0;
	unsigned qtype;
	json_t *ev;
	bool resp;

	if (len < 12 || be16(p + 4) == 0)
		return false;
	resp = p[2] & 0x80;
	for (int labels = 0;; labels++) {
		size_t ll;

		if (off >= len || labels > 127)
			return false;
		ll = p[off];
		if (ll == 0) {
			off++;
			break;
		}
		if (ll > 63 || off + 1 + ll > len || n + ll + 1 >= sizeof(name))
			return false; /* compression pointers do not occur in a first question */
		if (n)
			name[n++] = '.';
		for (size_t i = 0; i < ll; i++) {
			uint8_t c = p[off + 1 + i];

			name[n++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
		}
		off += 1 + ll;
	}
	name[n] = '\0';
	if (off + 4 > len)
		return false;
	qtype = be16(p + off);
	ev = tl_add_pcap_event(t, pi, resp ? "dns.response" : "dns.query");
	if (ev) {
		const char *qn = qtype == 1 ? "A"
		        : qtype == 28       ? "AAAA"
		        : qtype == 33       ? "SRV"
		        : qtype == 35       ? "NAPTR"
		        : qtype == 5        ? "CNAME"
		                            : NULL;

		ev_set_str(ev, "name", name);
		if (qn)
			ev_set_str(ev, "qtype", qn);
		else
			ev_set_int(ev, "qtype", qtype);
		if (resp) {
			ev_set_int(ev, "rcode", p[3] & 0x0f);
			ev_set_int(ev, "answers", be16(p + 6));
		}
	}
	return true;
}
