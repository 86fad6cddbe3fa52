/* digest.c - MD5 digest authentication with qop=auth, client and server helpers. */
#include "onsight/digest.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct nonce_slot {
	uint64_t rnd;
	uint64_t issued_ms;
	uint32_t last_nc;
	int used_2069; /* consumed by a qop-less answer */
};

struct digest_server {
	uint64_t ttl_ms;
	size_t nslots;
	uint64_t next; /* ring position of the next nonce */
	struct nonce_slot *slot;
};

static void md5_hex(const char *data, size_t n, char out[33])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[16];
	unsigned mdlen = 16;

	EVP_Digest(data, n, md, &mdlen, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[32] = '\0';
}

static void md5_fmt(char out[33], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void md5_fmt(char out[33], const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		n = 0; /* parameters are capped far below this; never reached */
	md5_hex(tmp, (size_t)n, out);
}

void digest_ha1(const char *user, const char *realm, const char *password, char out[33])
{
	md5_fmt(out, "%s:%s:%s", user, realm, password);
}

void digest_response(const char *ha1, const char *nonce, const char *nc, const char *cnonce,
                     const char *qop, const char *method, const char *uri, char out[33])
{
	char ha2[33];

	md5_fmt(ha2, "%s:%s", method, uri);
	if (qop && *qop)
		md5_fmt(out, "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
	else
		md5_fmt(out, "%s:%s:%s", ha1, nonce, ha2);
}

static char *field_of(struct digest_params *p, const char *name, size_t n, size_t *cap)
{
	static const struct {
		const char *name;
		size_t off, cap;
	} f[] = {
#define F(x) {#x, offsetof(struct digest_params, x), sizeof(((struct digest_params *)0)->x)}
	        F(username), F(realm),     F(nonce), F(uri),    F(response),
	        F(opaque),   F(algorithm), F(qop),   F(cnonce), F(nc),
#undef F
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (strlen(f[i].name) == n && strncasecmp(f[i].name, name, n) == 0) {
			*cap = f[i].cap;
			return (char *)p + f[i].off;
		}
	}
	return NULL;
}

/* One value: a quoted-string (with \-escapes) or a token; copies into dst when given. */
static const char *parse_value(const char *s, char *dst, size_t cap, int *err)
{
	size_t n = 0;
	int q = (*s == '"');

	if (q)
		s++;
	while (*s && (q ? *s != '"' : (*s != ',' && *s != ' ' && *s != '\t'))) {
		if (q && *s == '\\' && s[1])
			s++;
		if (dst && n + 1 >= cap)
			*err = EINVAL;
		else if (dst)
			dst[n++] = *s;
		s++;
	}
	if (q && *s != '"')
		*err = EINVAL;
	if (dst)
		dst[n] = '\0';
	return q && *s ? s + 1 : s;
}

static const char *skip_lws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

int digest_parse(const char *value, struct digest_params *p)
{
	const char *s;
	int err = 0;

	if (!value || !p)
		return EINVAL;
	memset(p, 0, sizeof(*p));
	s = skip_lws(value);
	if (strncasecmp(s, "Digest", 6) != 0 || (s[6] && s[6] != ' ' && s[6] != '\t'))
		return EPROTONOSUPPORT;
	s = skip_lws(s + 6);
	while (*s && !err) {
		const char *name = s;
		size_t n = 0, cap = 0;
		char *dst, stale[8];
		while (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_')
			n++;
		s = skip_lws(s + n);
		if (n == 0 || *s != '=')
			return EINVAL;
		s = skip_lws(s + 1);
		dst = field_of(p, name, n, &cap);
		if (n == 5 && strncasecmp(name, "stale", 5) == 0) {
			s = parse_value(s, stale, sizeof(stale), &err);
			p->stale = strcasecmp(stale, "true") == 0;
		} else {
			s = parse_value(s, dst, cap, &err);
		}
		s = skip_lws(s);
		if (*s == ',')
			s = skip_lws(s + 1);
		else if (*s)
			return EINVAL;
	}
	return err;
}

/* "auth" must appear as an element of the offered qop list. */
static int offers_auth(const char *qop)
{
	const char *s = qop;

	while (s && *s) {
		size_t n = strcspn(s, ", \t");
		if (n == 4 && strncasecmp(s, "auth", 4) == 0)
			return 1;
		s += n;
		s += strspn(s, ", \t");
	}
	return 0;
}

int digest_authorization(char *buf, size_t cap, const struct digest_params *ch, const char *user,
                         const char *password, const char *method, const char *uri, uint32_t nc,
                         const char *cnonce)
{
	char ha1[33], resp[33], ncs[9];
	int qop = offers_auth(ch->qop), n;

	digest_ha1(user, ch->realm, password, ha1);
	snprintf(ncs, sizeof(ncs), "%08" PRIx32, nc);
	digest_response(ha1, ch->nonce, ncs, cnonce, qop ? "auth" : NULL, method, uri, resp);
	n = snprintf(buf, cap,
	             "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
	             "response=\"%s\", algorithm=MD5",
	             user, ch->realm, ch->nonce, uri, resp);
	if (n >= 0 && (size_t)n < cap && qop)
		n += snprintf(buf + n, cap - (size_t)n, ", qop=auth, nc=%s, cnonce=\"%s\"", ncs,
		              cnonce);
	if (n >= 0 && (size_t)n < cap && ch->opaque[0])
		n += snprintf(buf + n, cap - (size_t)n, ", opaque=\"%s\"", ch->opaque);
	return (n < 0 || (size_t)n >= cap) ? ENOSPC : 0;
}

const char *digest_verdict_str(enum digest_verdict v)
{
	switch (v) {
	case DIGEST_OK:
		return "ok";
	case DIGEST_STALE:
		return "stale";
	case DIGEST_REPLAY:
		return "replay";
	default:
		return "bad";
	}
}

int digest_server_alloc(struct digest_server **sp, uint64_t ttl_ms, size_t slots)
{
	struct digest_server *s;

	if (!sp || slots == 0 || slots > (1u << 24) || ttl_ms == 0)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->slot = calloc(slots, sizeof(*s->slot));
	if (!s->slot) {
		free(s);
		return ENOMEM;
	}
	s->ttl_ms = ttl_ms;
	s->nslots = slots;
	*sp = s;
	return 0;
}

void digest_server_free(struct digest_server *s)
{
	if (!s)
		return;
	free(s->slot);
	free(s);
}

/* Nonce = 8 hex digits of slot index + 16 hex digits of the slot's random value. */
int digest_server_nonce(struct digest_server *s, uint64_t now_ms, char *out, size_t len)
{
	size_t i;
	struct nonce_slot *sl;

	if (!s || !out || len < 25)
		return EINVAL;
	i = (size_t)(s->next++ % s->nslots);
	sl = &s->slot[i];
	if (RAND_bytes((unsigned char *)&sl->rnd, sizeof(sl->rnd)) != 1)
		return EIO;
	sl->issued_ms = now_ms;
	sl->last_nc = 0;
	sl->used_2069 = 0;
	snprintf(out, len, "%08zx%016" PRIx64, i, sl->rnd);
	return 0;
}

static struct nonce_slot *find_slot(struct digest_server *s, const char *nonce)
{
	char idx[9];
	unsigned long long i, rnd;
	char *end;

	if (strlen(nonce) != 24)
		return NULL;
	memcpy(idx, nonce, 8);
	idx[8] = '\0';
	i = strtoull(idx, &end, 16);
	if (*end || i >= s->nslots)
		return NULL;
	rnd = strtoull(nonce + 8, &end, 16);
	if (*end || s->slot[i].rnd != rnd || s->slot[i].issued_ms == 0)
		return NULL;
	return &s->slot[i];
}

static int response_matches(const struct digest_params *c, const char *method, const char *realm,
                            const char *password, const char *ha1)
{
	char h[33], resp[33], got[33];
	size_t n = strlen(c->response);
	const char *qop = c->qop[0] ? "auth" : NULL;

	if (n != 32)
		return 0;
	for (size_t i = 0; i <= n; i++)
		got[i] = (char)tolower((unsigned char)c->response[i]);
	if (password)
		digest_ha1(c->username, realm, password, h);
	else
		snprintf(h, sizeof(h), "%s", ha1);
	digest_response(h, c->nonce, c->nc, c->cnonce, qop, method, c->uri, resp);
	return CRYPTO_memcmp(resp, got, 32) == 0;
}

static int creds_wellformed(const struct digest_params *c, const char *realm)
{
	if (!c->username[0] || !c->nonce[0] || !c->uri[0] || strcmp(c->realm, realm) != 0)
		return 0;
	if (c->algorithm[0] && strcasecmp(c->algorithm, "MD5") != 0)
		return 0;
	if (c->qop[0] && (strcasecmp(c->qop, "auth") != 0 || !c->cnonce[0] || !c->nc[0]))
		return 0;
	return 1;
}

enum digest_verdict digest_server_check(struct digest_server *s, uint64_t now_ms,
                                        const struct digest_params *c, const char *method,
                                        const char *realm, const char *password, const char *ha1)
{
	struct nonce_slot *sl;
	unsigned long nc = 0;
	char *end;

	if (!s || !c || !method || !realm || (!password && !ha1) || !creds_wellformed(c, realm))
		return DIGEST_BAD;
	if (c->qop[0]) {
		nc = strtoul(c->nc, &end, 16);
		if (*end || strlen(c->nc) != 8 || nc == 0)
			return DIGEST_BAD;
	}
	if (!response_matches(c, method, realm, password, ha1))
		return DIGEST_BAD;
	sl = find_slot(s, c->nonce);
	if (!sl || now_ms - sl->issued_ms > s->ttl_ms)
		return DIGEST_STALE;
	if (c->qop[0] ? nc <= sl->last_nc : sl->used_2069)
		return DIGEST_REPLAY;
	if (c->qop[0])
		sl->last_nc = (uint32_t)nc;
	else
		sl->used_2069 = 1;
	return DIGEST_OK;
}

int digest_server_challenge(struct digest_server *s, uint64_t now_ms, const char *realm, int stale,
                            char *buf, size_t cap)
{
	char nonce[41];
	int n, err = digest_server_nonce(s, now_ms, nonce, sizeof(nonce));

	if (err)
		return err;
	n = snprintf(buf, cap, "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"%s",
	             realm, nonce, stale ? ", stale=true" : "");
	return (n < 0 || (size_t)n >= cap) ? ENOSPC : 0;
}
