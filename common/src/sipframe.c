/* sipframe.c - SIP stream and datagram framing. */
#include "onsight/sipframe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CL_DIGITS 9 /* far above any cap; keeps the arithmetic in range */

struct sipframe {
	char *buf;
	size_t len, off, cap, max;
};

/* Header name of line [p, p+n) equals "Content-Length" or "l"? Returns the offset after ':'. */
static size_t cl_value_off(const char *p, size_t n)
{
	size_t i = 0, name_end;

	while (i < n && p[i] != ':' && p[i] != ' ' && p[i] != '\t')
		i++;
	name_end = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i >= n || p[i] != ':')
		return 0;
	if ((name_end == 14 && strncasecmp(p, "Content-Length", 14) == 0) ||
	    (name_end == 1 && (p[0] == 'l' || p[0] == 'L')))
		return i + 1;
	return 0;
}

/* Digits with optional LWS around them, up to the end of the (possibly folded) value. */
static long parse_cl(const char *p, size_t n)
{
	size_t i = 0, digits = 0;
	long v = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	while (i < n && p[i] >= '0' && p[i] <= '9') {
		if (++digits > MAX_CL_DIGITS)
			return -2;
		v = v * 10 + (p[i++] - '0');
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return (digits && i == n) ? v : -2;
}

/* End of the logical header line starting at p (folded continuation lines included). */
static size_t logical_line(const char *p, size_t n)
{
	size_t i = 0;

	for (;;) {
		const char *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			return n;
		i = (size_t)(nl - p) + 1;
		if (i >= n || (p[i] != ' ' && p[i] != '\t'))
			return i;
	}
}

long sipframe_content_length(const char *hdr, size_t len)
{
	size_t off = 0;
	long found = -1;

	/* Skip the start line. */
	off = logical_line(hdr, len);
	while (off < len) {
		size_t n = logical_line(hdr + off, len - off), v;
		if (n <= 2 && (hdr[off] == '\n' || hdr[off] == '\r'))
			break;
		v = cl_value_off(hdr + off, n);
		if (v) {
			long cl = parse_cl(hdr + off + v, n - v);
			if (cl < 0 || found >= 0)
				return -2;
			found = cl;
		}
		off += n;
	}
	return found;
}

/* Length of the header block (through the empty line), or 0 if it does not end in n. */
static size_t header_end(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t next;
		if (!nl)
			return 0;
		next = (size_t)(nl - p) + 1;
		if (next < n && p[next] == '\n')
			return next + 1;
		if (next + 1 < n && p[next] == '\r' && p[next + 1] == '\n')
			return next + 2;
		i = next;
	}
	return 0;
}

static size_t leading_crlf(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i;
}

int sipframe_scan(const char *buf, size_t len, size_t max, int stream, struct sipframe_info *fi)
{
	size_t hl, avail;
	long cl;

	memset(fi, 0, sizeof(*fi));
	if (stream && len >= 4 && memcmp(buf, "\r\n\r\n", 4) == 0) {
		fi->total = 4;
		return SIPFRAME_PING;
	}
	fi->skip = leading_crlf(buf, len);
	if (stream && fi->skip == len) {
		/* A lone CRLF is a keep-alive pong: consume it. Otherwise wait (a ping may be
		 * arriving in pieces, or a start line may follow). */
		fi->total = (len == 2) ? 2 : 0;
		return SIPFRAME_MORE;
	}
	avail = len - fi->skip;
	hl = header_end(buf + fi->skip, avail < max ? avail : max);
	if (!hl)
		return (avail >= max) ? -EMSGSIZE : (stream ? SIPFRAME_MORE : -EBADMSG);
	cl = sipframe_content_length(buf + fi->skip, hl);
	if (cl == -2 || (cl == -1 && stream))
		return -EBADMSG;
	if (cl == -1)
		cl = (long)(avail - hl);
	if ((size_t)cl > max - hl)
		return -EMSGSIZE;
	if ((size_t)cl > avail - hl)
		return stream ? SIPFRAME_MORE : -EBADMSG;
	fi->hdr_len = hl;
	fi->body_len = (size_t)cl;
	fi->total = fi->skip + hl + (size_t)cl;
	return SIPFRAME_MSG;
}

int sipframe_alloc(struct sipframe **fp, size_t max)
{
	struct sipframe *f;

	if (!fp || max < 64)
		return EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->max = max;
	*fp = f;
	return 0;
}

void sipframe_free(struct sipframe *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f);
}

/* Moves unread octets to the front; grows the buffer up to twice the message cap. */
static int make_room(struct sipframe *f, size_t need)
{
	size_t cap;
	char *nb;

	if (f->off) {
		memmove(f->buf, f->buf + f->off, f->len - f->off);
		f->len -= f->off;
		f->off = 0;
	}
	if (f->len + need <= f->cap)
		return 0;
	if (f->len + need > 2 * f->max)
		return ENOBUFS;
	cap = f->cap ? f->cap : 4096;
	while (cap < f->len + need)
		cap *= 2;
	if (cap > 2 * f->max)
		cap = 2 * f->max;
	nb = realloc(f->buf, cap);
	if (!nb)
		return ENOMEM;
	f->buf = nb;
	f->cap = cap;
	return 0;
}

int sipframe_feed(struct sipframe *f, const void *data, size_t len)
{
	int err;

	if (!f || (!data && len))
		return EINVAL;
	if (len == 0)
		return 0;
	err = make_room(f, len);
	if (err)
		return err;
	memcpy(f->buf + f->len, data, len);
	f->len += len;
	return 0;
}

int sipframe_next(struct sipframe *f, const char **msg, size_t *len)
{
	struct sipframe_info fi;
	int r;

	if (!f || f->off >= f->len)
		return SIPFRAME_MORE;
	r = sipframe_scan(f->buf + f->off, f->len - f->off, f->max, 1, &fi);
	if (r < 0)
		return r;
	f->off += fi.total;
	if (r == SIPFRAME_MSG) {
		*msg = f->buf + f->off - fi.total + fi.skip;
		*len = fi.hdr_len + fi.body_len;
	}
	return r;
}

size_t sipframe_pending(const struct sipframe *f)
{
	return f ? f->len - f->off : 0;
}

const char *sipframe_header(const char *msg, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = msg, *end = msg + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll;
		if (!eol)
			break;
		ll = (size_t)(eol - p);
		if (ll == 0 || (ll == 1 && p[0] == '\r'))
			break; /* the end of the header block */
		if (ll > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl;
			while (v < eol && *v == ' ')
				v++;
			vl = (size_t)(eol - v);
			if (vl && v[vl - 1] == '\r')
				vl--;
			snprintf(out, cap, "%.*s", (int)vl, v);
			return out;
		}
		p = eol + 1;
	}
	return NULL;
}
