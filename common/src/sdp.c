/* sdp.c - line-wise SDP reading and rewriting (see sdp.h). */
#include "onsight/sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct line {
	const char *p;
	size_t n; /* without the line end */
};

/* Next line of [*pos, end); returns 0 at the end. */
static int next_line(const char *sdp, size_t len, size_t *pos, struct line *l)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	l->p = sdp + *pos;
	nl = memchr(l->p, '\n', len - *pos);
	l->n = nl ? (size_t)(nl - l->p) : len - *pos;
	*pos += l->n + (nl ? 1 : 0);
	if (l->n && l->p[l->n - 1] == '\r')
		l->n--;
	return 1;
}

static int starts(const struct line *l, const char *s)
{
	size_t n = strlen(s);

	return l->n >= n && memcmp(l->p, s, n) == 0;
}

/* "c=IN IP4 192.0.2.1" (an optional /ttl is dropped) into a. */
static int parse_conn(const struct line *l, struct sock_addr *a)
{
	char buf[80];
	const char *addr;
	size_t n = l->n < sizeof(buf) - 1 ? l->n : sizeof(buf) - 1;

	memcpy(buf, l->p, n);
	buf[n] = '\0';
	if (strncmp(buf, "c=IN IP4 ", 9) != 0 && strncmp(buf, "c=IN IP6 ", 9) != 0)
		return EINVAL;
	addr = buf + 9;
	buf[9 + strcspn(addr, "/ ")] = '\0';
	memset(a, 0, sizeof(*a));
	if (buf[7] == '6') {
		char v6[80];
		snprintf(v6, sizeof(v6), "[%s]", addr);
		return sock_addr_parse(a, v6, 0);
	}
	return sock_addr_parse(a, addr, 0);
}

/* "m=audio 4000[/2] RTP/AVP ..." port. */
static int parse_mport(const struct line *l, uint16_t *port)
{
	const char *sp = memchr(l->p, ' ', l->n);
	unsigned long v = 0;
	size_t i;

	if (!sp)
		return EINVAL;
	i = (size_t)(sp - l->p) + 1;
	if (i >= l->n || l->p[i] < '0' || l->p[i] > '9')
		return EINVAL;
	for (; i < l->n && l->p[i] >= '0' && l->p[i] <= '9'; i++) {
		v = v * 10 + (unsigned long)(l->p[i] - '0');
		if (v > 65535)
			return EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

int sdp_parse(const char *sdp, size_t len, struct sdp_info *info)
{
	struct sock_addr session = {0};
	struct line l;
	size_t pos = 0;
	int in_media = 0;

	memset(info, 0, sizeof(*info));
	if (len > SDP_MAX_LEN)
		return EMSGSIZE;
	while (next_line(sdp, len, &pos, &l)) {
		if (starts(&l, "m=")) {
			if (info->n >= SDP_MAX_STREAMS || parse_mport(&l, &info->s[info->n].port))
				return EINVAL;
			info->s[info->n].addr = session;
			info->n++;
			in_media = 1;
		} else if (starts(&l, "c=")) {
			struct sock_addr a;
			if (parse_conn(&l, &a))
				continue; /* unknown network type: leave unknown */
			if (in_media)
				info->s[info->n - 1].addr = a;
			else
				session = a;
		}
	}
	for (unsigned i = 0; i < info->n; i++)
		if (info->s[i].addr.len)
			sock_addr_set_port(&info->s[i].addr, info->s[i].port);
	return info->n ? 0 : EINVAL;
}

int sdp_find(const char *sdp, size_t len, const char *media, struct sdp_stream *out)
{
	struct sock_addr session = {0};
	struct line l;
	size_t pos = 0, ml = strlen(media);
	int in_media = 0; /* 0 session, 1 the stream found, 2 another stream */

	memset(out, 0, sizeof(*out));
	if (len > SDP_MAX_LEN)
		return EMSGSIZE;
	while (next_line(sdp, len, &pos, &l)) {
		if (starts(&l, "m=")) {
			if (in_media == 1)
				break;
			in_media = 2;
			if (l.n > 2 + ml && memcmp(l.p + 2, media, ml) == 0 && l.p[2 + ml] == ' ') {
				if (parse_mport(&l, &out->port))
					return EINVAL;
				out->addr = session;
				in_media = 1;
			}
		} else if (starts(&l, "c=") && in_media != 2) {
			struct sock_addr a;
			if (parse_conn(&l, &a))
				continue; /* unknown network type: leave unknown */
			if (in_media == 1)
				out->addr = a;
			else
				session = a;
		}
	}
	if (in_media != 1)
		return EINVAL;
	if (out->addr.len)
		sock_addr_set_port(&out->addr, out->port);
	return 0;
}

static int emit(char *out, size_t cap, size_t *o, const char *p, size_t n)
{
	if (*o + n + 2 > cap)
		return ENOSPC;
	memcpy(out + *o, p, n);
	memcpy(out + *o + n, "\r\n", 2);
	*o += n + 2;
	return 0;
}

static int is_ice_line(const struct line *l)
{
	return starts(l, "a=candidate:") || starts(l, "a=ice-") ||
	        starts(l, "a=remote-candidates") || starts(l, "a=end-of-candidates");
}

static int rewrite_line(const struct line *l, const char *caddr, const uint16_t *ports,
                        unsigned nports, int *media, char *out, size_t cap, size_t *o)
{
	char buf[512];
	int n = -1;

	if (starts(l, "m=")) {
		const char *sp = memchr(l->p, ' ', l->n);
		size_t s1, s2;
		uint16_t old = 0;
		(*media)++;
		if (!sp || parse_mport(l, &old) || *media >= (int)nports || old == 0)
			return emit(out, cap, o, l->p, l->n);
		s1 = (size_t)(sp - l->p) + 1; /* start of the port */
		s2 = s1;
		while (s2 < l->n && l->p[s2] >= '0' && l->p[s2] <= '9')
			s2++; /* a "/count" suffix stays */
		n = snprintf(buf, sizeof(buf), "%.*s%u%.*s", (int)s1, l->p, ports[*media],
		             (int)(l->n - s2), l->p + s2);
	} else if (starts(l, "c=")) {
		n = snprintf(buf, sizeof(buf), "%s", caddr);
	} else if (starts(l, "a=rtcp:") && *media >= 0 && *media < (int)nports) {
		n = snprintf(buf, sizeof(buf), "a=rtcp:%u", ports[*media] + 1u);
	} else if (is_ice_line(l)) {
		return 0;
	}
	if (n < 0)
		return emit(out, cap, o, l->p, l->n);
	if ((size_t)n >= sizeof(buf))
		return ENOSPC;
	return emit(out, cap, o, buf, (size_t)n);
}

int sdp_rewrite(const char *sdp, size_t len, const struct sock_addr *relay, const uint16_t *ports,
                unsigned nports, char *out, size_t cap, size_t *outlen)
{
	struct sdp_info info;
	char host[64], caddr[96];
	struct line l;
	size_t pos = 0, o = 0;
	int media = -1, err = sdp_parse(sdp, len, &info);

	if (err)
		return err;
	sock_addr_host(relay, host, sizeof(host));
	snprintf(caddr, sizeof(caddr), "c=IN %s %s",
	         relay->ss.ss_family == AF_INET6 ? "IP6" : "IP4", host);
	while (next_line(sdp, len, &pos, &l)) {
		if (l.n == 0 && pos >= len)
			break;
		err = rewrite_line(&l, caddr, ports, nports, &media, out, cap, &o);
		if (err)
			return err;
	}
	*outlen = o;
	return 0;
}
