/* httpc.c - non-blocking HTTP/1.1 client (RFC 9112) with proxy CONNECT and TLS. */
#define LOG_TAG "httpc"
#include "onsight/httpc.h"

#include "onsight/evloop.h"
#include "onsight/log.h"
#include "onsight/sock.h"
#include "onsight/tls.h"
#include "onsight/util.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum state {
	S_CONNECTING,
	S_PROXY_SEND,
	S_PROXY_READ,
	S_TLS,
	S_SEND,
	S_HEAD,
	S_BODY,
	S_DONE,
};

enum body_mode { B_NONE, B_LENGTH, B_CHUNKED, B_CLOSE };

struct httpc {
	struct evloop *loop;
	httpc_done_h *h;
	void *arg;
	char *method, *host, *path, *proxy, *connect_to;
	uint16_t port;
	int use_tls;
	SSL_CTX *tls;
	SSL *ssl;
	int fd;
	int fd_added;
	uint32_t events;
	char *out; /* bytes to send (CONNECT, then the request) */
	size_t outlen, outoff;
	char *reqbuf; /* the request, kept until the CONNECT is through */
	size_t reqlen;
	char *in; /* head being read */
	size_t inlen, max_head, max_body;
	uint8_t *extra; /* bytes past a 1xx head */
	size_t extralen;
	enum state state;
	enum httpc_stage stage;
	enum body_mode bmode;
	uint64_t remain;
	struct httpc_chunked ch;
	uint64_t timer;
	unsigned timeout_ms;
	struct httpc_resp resp;
	int proxy_status;
	int head_only;
	char err[320];
};

static void on_fd(int fd, uint32_t events, void *arg);

/* ---- URL and head parsing ---- */

int httpc_url_parse(const char *url, int *tlsp, char *host, size_t hostlen, uint16_t *portp,
                    char *path, size_t pathlen)
{
	const char *p, *hend, *pstart;
	size_t n;
	unsigned long port;

	if (!url || !host || !path || !tlsp || !portp)
		return EINVAL;
	if (!strncasecmp(url, "https://", 8)) {
		*tlsp = 1;
		port = 443;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		*tlsp = 0;
		port = 80;
		p = url + 7;
	} else
		return EINVAL;
	pstart = p + strcspn(p, "/?#");
	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(pstart - p));
		if (!hend)
			return EINVAL;
		n = (size_t)(hend - p - 1);
		p++;
		hend++;
	} else {
		hend = memchr(p, ':', (size_t)(pstart - p));
		if (!hend)
			hend = pstart;
		n = (size_t)(hend - p);
	}
	if (n == 0 || n >= hostlen || memchr(p, '@', n))
		return EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	if (hend < pstart) {
		char *ep;
		if (*hend != ':' || hend + 1 == pstart || !isdigit((unsigned char)hend[1]))
			return EINVAL;
		port = strtoul(hend + 1, &ep, 10);
		if (ep != pstart || port == 0 || port > 65535)
			return EINVAL;
	}
	*portp = (uint16_t)port;
	if (*pstart != '/') {
		if (pathlen < 2)
			return EINVAL;
		strcpy(path, "/");
		if (*pstart == '?') {
			if (strlen(pstart) + 2 > pathlen)
				return EINVAL;
			strcat(path, pstart);
		}
		return 0;
	}
	n = strcspn(pstart, "#");
	if (n >= pathlen)
		return EINVAL;
	memcpy(path, pstart, n);
	path[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)path[i] <= 0x20 || path[i] == 0x7f)
			return EINVAL;
	return 0;
}

void httpc_resp_clear(struct httpc_resp *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char *dup_trim(const char *s, size_t n)
{
	char *d;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* RFC 9112 §4 status line, §5 field lines. CRLF line ends; obsolete line folding refused. */
int httpc_parse_head(const char *buf, size_t len, struct httpc_resp *r)
{
	const char *p, *end, *eol, *colon;
	size_t n;
	int err = EINVAL;

	if (!buf || !r)
		return EINVAL;
	p = buf;
	end = buf + len;
	memset(r, 0, sizeof(*r));
	eol = memchr(p, '\n', len);
	if (!eol || eol == p || eol[-1] != '\r')
		return EINVAL;
	n = (size_t)(eol - 1 - p);
	if (n < 12 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (n > 12 && p[12] != ' '))
		return EINVAL;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (r->status < 100)
		return EINVAL;
	if (n > 13) {
		size_t rl = n - 13 < sizeof(r->reason) - 1 ? n - 13 : sizeof(r->reason) - 1;
		memcpy(r->reason, p + 13, rl);
		for (size_t i = 0; i < rl; i++)
			if ((unsigned char)r->reason[i] < 0x20 && r->reason[i] != '\t')
				r->reason[i] = '?';
	}
	p = eol + 1;
	for (;;) {
		if (p >= end)
			goto out;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol || eol == p || eol[-1] != '\r')
			goto out;
		if (eol - 1 == p) /* blank line: end of head */
			break;
		if (*p == ' ' || *p == '\t') /* obs-fold */
			goto out;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			goto out;
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				goto out;
		for (const char *q = colon + 1; q < eol - 1; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
				goto out;
		if (r->nheaders == HTTPC_MAX_HEADERS)
			goto out;
		r->headers[r->nheaders].name = dup_trim(p, (size_t)(colon - p));
		r->headers[r->nheaders].value = dup_trim(colon + 1, (size_t)(eol - 1 - colon - 1));
		r->nheaders++;
		if (!r->headers[r->nheaders - 1].name || !r->headers[r->nheaders - 1].value) {
			err = ENOMEM;
			goto out;
		}
		p = eol + 1;
	}
	err = 0;
out:
	if (err)
		httpc_resp_clear(r);
	return err;
}

const char *httpc_resp_header(const struct httpc_resp *r, const char *name)
{
	if (!r || !name)
		return NULL;
	for (unsigned i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_DONE };

int httpc_chunked_feed(struct httpc_chunked *st, const uint8_t *in, size_t len, size_t *used,
                       uint8_t *out, size_t cap, size_t *outlen)
{
	size_t i = 0;
	int rc = 0;

	while (i < len && st->state != CH_DONE) {
		uint8_t c = in[i];
		switch (st->state) {
		case CH_SIZE:
			if (isxdigit(c)) {
				if (++st->digits > 15) {
					rc = EFBIG;
					goto out;
				}
				st->remain = st->remain * 16 +
				        (uint64_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
			} else if (st->digits && (c == ';' || c == ' ' || c == '\t'))
				st->state = CH_EXT;
			else if (st->digits && c == '\r')
				st->state = CH_SIZE_LF;
			else {
				rc = EINVAL;
				goto out;
			}
			i++;
			break;
		case CH_EXT: /* chunk extensions are ignored (RFC 9112 §7.1.1), but capped */
			if (c == '\r')
				st->state = CH_SIZE_LF;
			else if (++st->linelen > 1024 || c == '\n') {
				rc = EINVAL;
				goto out;
			}
			i++;
			break;
		case CH_SIZE_LF:
			if (c != '\n') {
				rc = EINVAL;
				goto out;
			}
			i++;
			st->linelen = 0;
			st->state = st->remain ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA: {
			size_t n = len - i;
			if (n > st->remain)
				n = (size_t)st->remain;
			if (*outlen + n > cap) {
				rc = EFBIG;
				goto out;
			}
			memcpy(out + *outlen, in + i, n);
			*outlen += n;
			st->remain -= n;
			i += n;
			if (!st->remain)
				st->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
		case CH_DATA_LF:
			if (c != (st->state == CH_DATA_CR ? '\r' : '\n')) {
				rc = EINVAL;
				goto out;
			}
			i++;
			if (st->state == CH_DATA_LF) {
				st->state = CH_SIZE;
				st->digits = 0;
			} else
				st->state = CH_DATA_LF;
			break;
		case CH_TRAILER: /* trailer fields are skipped; an empty line ends the body */
			i++;
			if (c == '\n') {
				if (st->linelen == 1) /* only the CR */
					st->state = CH_DONE;
				st->linelen = 0;
			} else if (++st->linelen > 4096) {
				rc = EINVAL;
				goto out;
			}
			break;
		}
	}
	rc = st->state == CH_DONE ? 1 : 0;
out:
	*used = i;
	return rc;
}

/* ---- connection ---- */

static void fail(struct httpc *c, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void detach(struct httpc *c)
{
	evloop_timer_cancel(c->loop, c->timer);
	c->timer = 0;
	if (c->fd_added)
		evloop_fd_del(c->loop, c->fd);
	c->fd_added = 0;
}

static void fail(struct httpc *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	detach(c);
	c->state = S_DONE;
	log_debug("%s", c->err);
	c->h(c, err ? err : EIO, NULL, c->arg);
}

static void finish(struct httpc *c)
{
	detach(c);
	c->state = S_DONE;
	c->stage = HTTPC_ST_DONE;
	if (c->resp.body)
		c->resp.body[c->resp.body_len] = '\0';
	c->h(c, 0, &c->resp, c->arg);
}

static void want(struct httpc *c, uint32_t ev)
{
	if (ev != c->events && c->fd_added) {
		evloop_fd_mod(c->loop, c->fd, ev);
		c->events = ev;
	}
}

static const char *stage_name(enum httpc_stage s)
{
	switch (s) {
	case HTTPC_ST_RESOLVE:
		return "resolving";
	case HTTPC_ST_CONNECT:
		return "connecting";
	case HTTPC_ST_PROXY:
		return "waiting for the proxy";
	case HTTPC_ST_TLS:
		return "in the TLS handshake";
	case HTTPC_ST_REQUEST:
		return "sending the request";
	case HTTPC_ST_RESPONSE:
		return "reading the response";
	default:
		return "done";
	}
}

static void on_timeout(void *arg)
{
	struct httpc *c = arg;

	c->timer = 0;
	fail(c, ETIMEDOUT, "timed out after %u ms %s", c->timeout_ms, stage_name(c->stage));
}

/* 1: progress made, 0: would block, -1: failed (already reported). */
static int io_write(struct httpc *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n;
		if (c->ssl) {
			int rc;
			ERR_clear_error();
			rc = SSL_write(c->ssl, c->out + c->outoff, (int)(c->outlen - c->outoff));
			if (rc <= 0) {
				int e = SSL_get_error(c->ssl, rc);
				char m[200];
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					want(c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
					return 0;
				}
				fail(c, EIO, "TLS write: %s", tls_errstr(c->ssl, m, sizeof(m)));
				return -1;
			}
			n = rc;
		} else {
			n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					want(c, EPOLLOUT);
					return 0;
				}
				fail(c, errno, "send: %s", strerror(errno));
				return -1;
			}
		}
		c->outoff += (size_t)n;
	}
	return 1;
}

/* >0 bytes read, 0 EOF, -1 failed (reported), -2 would block. */
static ssize_t io_read(struct httpc *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl) {
		int rc, e;
		char m[200];
		ERR_clear_error();
		rc = SSL_read(c->ssl, buf, (int)len);
		if (rc > 0)
			return rc;
		e = SSL_get_error(c->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			want(c, e == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN);
			return -2;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			return 0; /* EOF without close_notify: treated as EOF, bodies are length-checked */
		fail(c, EIO, "TLS read: %s", tls_errstr(c->ssl, m, sizeof(m)));
		return -1;
	}
	n = recv(c->fd, buf, len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			want(c, EPOLLIN);
			return -2;
		}
		fail(c, errno, "recv: %s", strerror(errno));
		return -1;
	}
	return n;
}

static int start_tls(struct httpc *c)
{
	if (!c->tls) {
		fail(c, EINVAL, "https URL but no TLS context");
		return -1;
	}
	c->ssl = tls_client_ssl(c->tls, c->fd, c->host);
	if (!c->ssl) {
		fail(c, ENOMEM, "TLS: cannot create session");
		return -1;
	}
	c->state = S_TLS;
	c->stage = HTTPC_ST_TLS;
	return 0;
}

static int after_connect(struct httpc *c)
{
	if (c->proxy) {
		free(c->out);
		c->outlen = 0;
		c->outoff = 0;
		if (asprintf(&c->out, "CONNECT %s%s%s:%u HTTP/1.1\r\nHost: %s%s%s:%u\r\n\r\n",
		             strchr(c->host, ':') ? "[" : "", c->host,
		             strchr(c->host, ':') ? "]" : "", c->port,
		             strchr(c->host, ':') ? "[" : "", c->host,
		             strchr(c->host, ':') ? "]" : "", c->port) < 0) {
			c->out = NULL;
			fail(c, ENOMEM, "out of memory");
			return -1;
		}
		c->outlen = strlen(c->out);
		c->state = S_PROXY_SEND;
		c->stage = HTTPC_ST_PROXY;
		return 0;
	}
	if (c->use_tls)
		return start_tls(c);
	c->state = S_SEND;
	c->stage = HTTPC_ST_REQUEST;
	return 0;
}

static void set_request_out(struct httpc *c)
{
	free(c->out);
	c->out = c->reqbuf;
	c->outlen = c->reqlen;
	c->outoff = 0;
	c->reqbuf = NULL;
}

/* Reads until the head is complete; returns 1 with c->in holding it (and extra after), 0 to
 * wait, -1 on failure. */
static int read_head(struct httpc *c, size_t *headlen)
{
	for (;;) {
		char *e;
		ssize_t n;
		if (c->inlen >= 4 && (e = memmem(c->in, c->inlen, "\r\n\r\n", 4))) {
			*headlen = (size_t)(e - c->in) + 4;
			return 1;
		}
		if (c->inlen >= c->max_head) {
			fail(c, EMSGSIZE, "response head over %zu bytes", c->max_head);
			return -1;
		}
		/* Read one byte at a time through a proxy's answer, so no byte of the tunnelled
		 * stream (a TLS ServerHello) is taken as part of it; elsewhere read in bulk. */
		n = io_read(c, c->in + c->inlen,
		            c->state == S_PROXY_READ ? 1 : c->max_head - c->inlen);
		if (n == -2)
			return 0;
		if (n < 0)
			return -1;
		if (n == 0) {
			fail(c, ECONNRESET, "connection closed %s", stage_name(c->stage));
			return -1;
		}
		c->inlen += (size_t)n;
	}
}

static int proxy_read(struct httpc *c)
{
	size_t hl;
	struct httpc_resp r;
	int rc = read_head(c, &hl);

	if (rc <= 0)
		return rc;
	if (httpc_parse_head(c->in, hl, &r)) {
		fail(c, EPROTO, "proxy %s sent a malformed answer to CONNECT", c->proxy);
		return -1;
	}
	c->proxy_status = r.status;
	if (r.status / 100 != 2) {
		fail(c, r.status == 403 ? EACCES : ECONNREFUSED,
		     "proxy %s refused CONNECT %s:%u: %d %s", c->proxy, c->host, c->port, r.status,
		     r.reason);
		httpc_resp_clear(&r);
		return -1;
	}
	httpc_resp_clear(&r);
	c->inlen = 0;
	set_request_out(c);
	if (c->use_tls)
		return start_tls(c) ? -1 : 1;
	c->state = S_SEND;
	c->stage = HTTPC_ST_REQUEST;
	return 1;
}

static int body_append(struct httpc *c, const uint8_t *p, size_t n)
{
	if (c->resp.body_len + n > c->max_body) {
		fail(c, EFBIG, "response body over %zu bytes", c->max_body);
		return -1;
	}
	memcpy(c->resp.body + c->resp.body_len, p, n);
	c->resp.body_len += n;
	return 0;
}

/* Feeds body bytes; 1 when the body is complete, 0 for more, -1 failed. */
static int body_feed(struct httpc *c, const uint8_t *p, size_t n)
{
	size_t used;
	int rc;

	switch (c->bmode) {
	case B_LENGTH: {
		size_t take = n > c->remain ? (size_t)c->remain : n;
		if (body_append(c, p, take))
			return -1;
		c->remain -= take;
		return c->remain == 0;
	}
	case B_CHUNKED:
		rc = httpc_chunked_feed(&c->ch, p, n, &used, (uint8_t *)c->resp.body, c->max_body,
		                        &c->resp.body_len);
		if (rc == EFBIG) {
			fail(c, EFBIG, "response body over %zu bytes", c->max_body);
			return -1;
		}
		if (rc == EINVAL) {
			fail(c, EPROTO, "malformed chunked body");
			return -1;
		}
		return rc;
	case B_CLOSE:
		return body_append(c, p, n) ? -1 : 0;
	default:
		return 1;
	}
}

static int head_done(struct httpc *c, size_t hl)
{
	const char *te, *cl;
	size_t extra = c->inlen - hl;

	if (httpc_parse_head(c->in, hl, &c->resp)) {
		fail(c, EPROTO, "malformed response head");
		return -1;
	}
	if (c->resp.status / 100 == 1 && c->resp.status != 101) {
		/* 100 Continue and friends: the real answer follows. */
		httpc_resp_clear(&c->resp);
		memmove(c->in, c->in + hl, extra);
		c->inlen = extra;
		return 1;
	}
	if (c->resp.status == 101) {
		if (extra) {
			c->extra = malloc(extra);
			if (!c->extra) {
				fail(c, ENOMEM, "out of memory");
				return -1;
			}
			memcpy(c->extra, c->in + hl, extra);
			c->extralen = extra;
		}
		finish(c);
		return -1; /* c may be gone */
	}
	te = httpc_resp_header(&c->resp, "Transfer-Encoding");
	cl = httpc_resp_header(&c->resp, "Content-Length");
	c->resp.body = malloc(c->max_body + 1);
	if (!c->resp.body) {
		fail(c, ENOMEM, "out of memory");
		return -1;
	}
	if (c->head_only || c->resp.status == 204 || c->resp.status == 304)
		c->bmode = B_NONE;
	else if (te) {
		if (strcasecmp(te, "chunked")) {
			fail(c, EPROTO, "unsupported Transfer-Encoding %s", te);
			return -1;
		}
		c->bmode = B_CHUNKED;
	} else if (cl) {
		char *ep;
		unsigned long long v;
		errno = 0;
		v = strtoull(cl, &ep, 10);
		if (errno || ep == cl || *ep || !isdigit((unsigned char)*cl)) {
			fail(c, EPROTO, "bad Content-Length");
			return -1;
		}
		if (v > c->max_body) {
			fail(c, EFBIG, "response body of %llu bytes over the cap of %zu", v,
			     c->max_body);
			return -1;
		}
		c->remain = v;
		c->bmode = v ? B_LENGTH : B_NONE;
	} else
		c->bmode = B_CLOSE;
	c->state = S_BODY;
	if (c->bmode == B_NONE) {
		finish(c);
		return -1;
	}
	if (extra) {
		int rc = body_feed(c, (const uint8_t *)c->in + hl, extra);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			finish(c);
			return -1;
		}
	}
	return 1;
}

static void step(struct httpc *c)
{
	for (int guard = 0; guard < 64 && c->state != S_DONE; guard++) {
		int rc;
		size_t hl;
		switch (c->state) {
		case S_CONNECTING:
			rc = sock_connect_result(c->fd);
			if (rc) {
				fail(c, rc, "connect to %s: %s", c->proxy ? c->proxy : c->host,
				     strerror(rc));
				return;
			}
			if (after_connect(c))
				return;
			break;
		case S_PROXY_SEND:
		case S_SEND:
			rc = io_write(c);
			if (rc <= 0)
				return;
			free(c->out);
			c->out = NULL;
			c->outlen = c->outoff = 0;
			c->inlen = 0;
			if (c->state == S_PROXY_SEND) {
				c->state = S_PROXY_READ;
			} else {
				c->state = S_HEAD;
				c->stage = HTTPC_ST_RESPONSE;
			}
			want(c, EPOLLIN);
			break;
		case S_PROXY_READ:
			if (proxy_read(c) <= 0)
				return;
			break;
		case S_TLS: {
			char m[200];
			ERR_clear_error();
			rc = SSL_do_handshake(c->ssl);
			if (rc == 1) {
				c->state = S_SEND;
				c->stage = HTTPC_ST_REQUEST;
				break;
			}
			rc = SSL_get_error(c->ssl, rc);
			if (rc == SSL_ERROR_WANT_READ || rc == SSL_ERROR_WANT_WRITE) {
				want(c, rc == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
				return;
			}
			fail(c, EPROTO, "TLS handshake with %s: %s", c->host,
			     tls_errstr(c->ssl, m, sizeof(m)));
			return;
		}
		case S_HEAD:
			rc = read_head(c, &hl);
			if (rc <= 0)
				return;
			if (head_done(c, hl) < 0)
				return;
			break;
		case S_BODY: {
			uint8_t buf[16384];
			ssize_t n = io_read(c, buf, sizeof(buf));
			if (n == -2 || n == -1)
				return;
			if (n == 0) {
				if (c->bmode == B_CLOSE)
					finish(c);
				else
					fail(c, ECONNRESET,
					     "connection closed inside the response body");
				return;
			}
			rc = body_feed(c, buf, (size_t)n);
			if (rc < 0)
				return;
			if (rc == 1) {
				finish(c);
				return;
			}
			break;
		}
		case S_DONE:
			return;
		}
	}
}

static void on_fd(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	step(arg);
}

static int build_request(struct httpc *c, const struct httpc_opts *o)
{
	size_t cap = 512 + strlen(c->path) + strlen(c->host) + o->body_len, n;
	char *b;
	int has_host = 0, has_cl = 0;

	if (o->headers)
		for (const char *const *h = o->headers; *h; h++) {
			cap += strlen(*h) + 2;
			if (!strncasecmp(*h, "Host:", 5))
				has_host = 1;
			if (!strncasecmp(*h, "Content-Length:", 15))
				has_cl = 1;
			if (strpbrk(*h, "\r\n"))
				return EINVAL; /* header injection */
		}
	b = malloc(cap);
	if (!b)
		return ENOMEM;
	n = (size_t)snprintf(b, cap, "%s %s HTTP/1.1\r\n", c->method, c->path);
	if (!has_host) {
		int v6 = strchr(c->host, ':') != NULL;
		int dflt = c->port == (c->use_tls ? 443 : 80);
		char port[8] = "";
		if (!dflt)
			snprintf(port, sizeof(port), ":%u", c->port);
		n += (size_t)snprintf(b + n, cap - n, "Host: %s%s%s%s\r\n", v6 ? "[" : "", c->host,
		                      v6 ? "]" : "", port);
	}
	if (o->headers)
		for (const char *const *h = o->headers; *h; h++)
			n += (size_t)snprintf(b + n, cap - n, "%s\r\n", *h);
	if (!has_cl && (o->body_len || !strcmp(c->method, "POST") || !strcmp(c->method, "PUT")))
		n += (size_t)snprintf(b + n, cap - n, "Content-Length: %zu\r\n", o->body_len);
	n += (size_t)snprintf(b + n, cap - n, "\r\n");
	if (o->body_len) {
		memcpy(b + n, o->body, o->body_len);
		n += o->body_len;
	}
	c->reqbuf = b;
	c->reqlen = n;
	return 0;
}

int httpc_start(struct httpc **cp, struct evloop *loop, const struct httpc_opts *o, httpc_done_h *h,
                void *arg)
{
	struct httpc *c = NULL;
	struct sock_addr sa;
	char host[256], path[2048];
	int err = 0, fd;

	if (!cp || !loop || !o || !o->url || !h || (o->body_len && !o->body))
		return EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->fd = -1;
	c->loop = loop;
	c->h = h;
	c->arg = arg;
	c->tls = o->tls;
	c->max_head = o->max_head ? o->max_head : HTTPC_MAX_HEAD_DEFAULT;
	c->max_body = o->max_body ? o->max_body : HTTPC_MAX_BODY_DEFAULT;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : HTTPC_TIMEOUT_DEFAULT_MS;
	c->stage = HTTPC_ST_RESOLVE;
	err = httpc_url_parse(o->url, &c->use_tls, host, sizeof(host), &c->port, path,
	                      sizeof(path));
	if (err)
		goto out;
	if (o->method && (!*o->method || strpbrk(o->method, " \r\n\t"))) {
		err = EINVAL;
		goto out;
	}
	c->method = strdup(o->method ? o->method : "GET");
	c->host = strdup(host);
	c->path = strdup(path);
	c->proxy = o->proxy ? strdup(o->proxy) : NULL;
	c->in = malloc(c->max_head);
	if (!c->method || !c->host || !c->path || (o->proxy && !c->proxy) || !c->in) {
		err = ENOMEM;
		goto out;
	}
	c->head_only = !strcmp(c->method, "HEAD");
	if (c->use_tls && !c->tls) {
		err = EINVAL;
		goto out;
	}
	err = build_request(c, o);
	if (err)
		goto out;
	if (!c->proxy)
		set_request_out(c);
	if (c->proxy)
		err = sock_addr_resolve(&sa, c->proxy, 3128, SOCK_STREAM);
	else if (o->connect_to)
		err = sock_addr_parse(&sa, o->connect_to, c->port);
	else {
		char hp[300];
		snprintf(hp, sizeof(hp), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, c->port);
		err = sock_addr_resolve(&sa, hp, c->port, SOCK_STREAM);
	}
	if (err) {
		err = EHOSTUNREACH;
		goto out;
	}
	c->stage = HTTPC_ST_CONNECT;
	fd = sock_connect_tcp(&sa);
	if (fd < 0) {
		err = -fd;
		snprintf(c->err, sizeof(c->err), "connect: %s", strerror(err));
		goto out;
	}
	c->fd = fd;
	c->state = S_CONNECTING;
	c->events = EPOLLOUT;
	err = evloop_fd_add(loop, fd, EPOLLOUT, on_fd, c);
	if (err)
		goto out;
	c->fd_added = 1;
	c->timer = evloop_timer_add(loop, c->timeout_ms, on_timeout, c);
	if (!c->timer) {
		err = ENOMEM;
		goto out;
	}
	*cp = c;
	c = NULL;
out:
	httpc_free(c);
	return err;
}

void httpc_free(struct httpc *c)
{
	if (!c)
		return;
	detach(c);
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	httpc_resp_clear(&c->resp);
	free(c->method);
	free(c->host);
	free(c->path);
	free(c->proxy);
	free(c->connect_to);
	free(c->out);
	free(c->reqbuf);
	free(c->in);
	free(c->extra);
	free(c);
}

const char *httpc_error(const struct httpc *c)
{
	return c ? c->err : "";
}

enum httpc_stage httpc_stage(const struct httpc *c)
{
	return c ? c->stage : 0;
}

int httpc_proxy_status(const struct httpc *c)
{
	return c ? c->proxy_status : 0;
}

int httpc_take_conn(struct httpc *c, int *fdp, SSL **sslp, uint8_t **extrap, size_t *extralenp)
{
	if (!c || !fdp || !sslp || !extrap || !extralenp || c->stage != HTTPC_ST_DONE || c->fd < 0)
		return EINVAL;
	*fdp = c->fd;
	*sslp = c->ssl;
	*extrap = c->extra;
	*extralenp = c->extralen;
	c->fd = -1;
	c->ssl = NULL;
	c->extra = NULL;
	c->extralen = 0;
	return 0;
}

/* ---- blocking form ---- */

struct sync_ctx {
	struct evloop *loop;
	int done, err;
};

static void sync_done(struct httpc *c, int err, const struct httpc_resp *resp, void *arg)
{
	struct sync_ctx *s = arg;

	(void)c;
	(void)resp;
	s->done = 1;
	s->err = err;
	evloop_stop(s->loop);
}

int httpc_request(const struct httpc_opts *o, struct httpc_resp **rp, char *err, size_t errlen)
{
	struct sync_ctx s = {0};
	struct httpc *c = NULL;
	struct httpc_resp *r = NULL;
	int rc;

	if (!o || !rp)
		return EINVAL;
	if (err && errlen)
		err[0] = '\0';
	rc = evloop_alloc(&s.loop);
	if (rc)
		return rc;
	rc = httpc_start(&c, s.loop, o, sync_done, &s);
	if (rc) {
		if (err)
			snprintf(err, errlen, "%s: %s", o->url ? o->url : "(no url)",
			         rc == EHOSTUNREACH ? "cannot resolve the host" : strerror(rc));
		goto out;
	}
	/* The request's own timer bounds this loop. */
	while (!s.done) {
		rc = evloop_run(s.loop);
		if (rc)
			goto out;
	}
	rc = s.err;
	if (rc) {
		if (err)
			str_copy(err, httpc_error(c), errlen);
		goto out;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		rc = ENOMEM;
		goto out;
	}
	*r = c->resp;
	memset(&c->resp, 0, sizeof(c->resp));
	*rp = r;
out:
	httpc_free(c);
	evloop_free(s.loop);
	return rc;
}

void httpc_resp_free(struct httpc_resp *r)
{
	httpc_resp_clear(r);
	free(r);
}
