/* stun.c - RFC 5389 message codec. */
#include "onsight/stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define FP_XOR 0x5354554eu
#define SOFTWARE_NAME "onsight-lab"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* CRC-32 (ISO 3309, the one zlib computes), bitwise: STUN messages are short. */
static uint32_t crc32_calc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return c ^ 0xffffffffu;
}

int stun_is_message(const uint8_t *buf, size_t len)
{
	if (!buf || len < STUN_HDR_LEN || (buf[0] & 0xc0) != 0)
		return 0;
	if (rd32(buf + 4) != STUN_MAGIC)
		return 0;
	return (rd16(buf + 2) & 3) == 0 && (size_t)rd16(buf + 2) + STUN_HDR_LEN <= len;
}

/* RFC 5389 §15.1/15.2: family, port, address; xor with the cookie and tid when x. */
static int decode_addr(struct stun_msg *m, const uint8_t *v, size_t len, int x)
{
	struct sock_addr *sa = &m->mapped;
	uint16_t port;

	if (len < 4)
		return EBADMSG;
	port = rd16(v + 2) ^ (x ? (uint16_t)(STUN_MAGIC >> 16) : 0);
	memset(sa, 0, sizeof(*sa));
	if (v[1] == 1 && len == 8) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa->ss;
		uint32_t a = rd32(v + 4) ^ (x ? STUN_MAGIC : 0);
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(a);
		sa->len = sizeof(*in);
	} else if (v[1] == 2 && len == 20) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa->ss;
		uint8_t key[16];
		wr32(key, STUN_MAGIC);
		memcpy(key + 4, m->tid, 12);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		for (int i = 0; i < 16; i++)
			in6->sin6_addr.s6_addr[i] = v[4 + i] ^ (x ? key[i] : 0);
		sa->len = sizeof(*in6);
	} else {
		return EBADMSG;
	}
	m->has_mapped = 1;
	return 0;
}

static int decode_error(struct stun_msg *m, const uint8_t *v, size_t len)
{
	if (len < 4 || (v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99)
		return EBADMSG;
	m->error_code = (v[2] & 7) * 100 + v[3];
	m->reason.p = (const char *)v + 4;
	m->reason.len = len - 4;
	return 0;
}

static void set_str(struct stun_str *s, const uint8_t *v, size_t len)
{
	s->p = (const char *)v;
	s->len = len;
}

static int check_fingerprint(const uint8_t *buf, size_t off, const uint8_t *v, size_t len)
{
	if (len != 4)
		return EBADMSG;
	return rd32(v) == (crc32_calc(buf, off) ^ FP_XOR) ? 0 : EBADMSG;
}

static int decode_attr(struct stun_msg *m, const uint8_t *buf, size_t off, uint16_t type,
                       const uint8_t *v, size_t len)
{
	switch (type) {
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		return decode_addr(m, v, len, 1);
	case STUN_ATTR_MAPPED_ADDRESS:
		return m->has_mapped ? 0 : decode_addr(m, v, len, 0);
	case STUN_ATTR_USERNAME:
		set_str(&m->username, v, len);
		return len <= 513 ? 0 : EBADMSG;
	case STUN_ATTR_REALM:
		set_str(&m->realm, v, len);
		return 0;
	case STUN_ATTR_NONCE:
		set_str(&m->nonce, v, len);
		return 0;
	case STUN_ATTR_SOFTWARE:
		set_str(&m->software, v, len);
		return 0;
	case STUN_ATTR_ERROR_CODE:
		return decode_error(m, v, len);
	case STUN_ATTR_MESSAGE_INTEGRITY:
		if (len != 20)
			return EBADMSG;
		m->integrity_off = off;
		return 0;
	case STUN_ATTR_FINGERPRINT:
		if (check_fingerprint(buf, off, v, len))
			return EBADMSG;
		m->has_fingerprint = 1;
		return 0;
	case 0x0024: /* PRIORITY, USE-CANDIDATE (RFC 8445 §16.1): understood, unused */
	case 0x0025:
		return 0;
	default:
		/* RFC 5389 §15: 0x0000-0x7FFF are comprehension-required. */
		if (type < 0x8000 && m->n_unknown < STUN_MAX_UNKNOWN)
			m->unknown[m->n_unknown++] = type;
		return 0;
	}
}

int stun_decode(struct stun_msg *m, const uint8_t *buf, size_t len)
{
	size_t off = STUN_HDR_LEN, end;

	if (!m || !buf)
		return EINVAL;
	if (len > STUN_MAX_MSG)
		return EMSGSIZE;
	if (!stun_is_message(buf, len))
		return EBADMSG;
	memset(m, 0, sizeof(*m));
	m->type = rd16(buf);
	m->length = rd16(buf + 2);
	memcpy(m->tid, buf + 8, 12);
	end = STUN_HDR_LEN + m->length;
	while (off + 4 <= end) {
		uint16_t type = rd16(buf + off), alen = rd16(buf + off + 2);
		size_t padded = ((size_t)alen + 3) & ~(size_t)3;
		if (off + 4 + padded > end || m->has_fingerprint)
			return EBADMSG;
		/* RFC 5389 §15.4: only FINGERPRINT may follow MESSAGE-INTEGRITY. */
		if (m->integrity_off && type != STUN_ATTR_FINGERPRINT)
			return EBADMSG;
		if (decode_attr(m, buf, off, type, buf + off + 4, alen))
			return EBADMSG;
		off += 4 + padded;
	}
	return off == end ? 0 : EBADMSG;
}

static void hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *data, size_t n,
                      uint8_t out[20])
{
	unsigned outlen = 20;

	HMAC(EVP_sha1(), key, (int)keylen, data, n, out, &outlen);
}

/* The HMAC covers the header, with the length adjusted to end at MESSAGE-INTEGRITY, and
 * every attribute before it (RFC 5389 §15.4). */
static void integrity_over(const uint8_t *buf, size_t mi_off, const uint8_t *key, size_t keylen,
                           uint8_t out[20])
{
	uint8_t tmp[STUN_MAX_MSG];

	memcpy(tmp, buf, mi_off);
	wr16(tmp + 2, (uint16_t)(mi_off + 24 - STUN_HDR_LEN));
	hmac_sha1(key, keylen, tmp, mi_off, out);
}

int stun_check_integrity(const struct stun_msg *m, const uint8_t *buf, size_t len,
                         const uint8_t *key, size_t keylen)
{
	uint8_t mac[20];

	if (!m || !buf || !key)
		return EINVAL;
	if (!m->integrity_off)
		return ENOENT;
	if (m->integrity_off + 24 > len || m->integrity_off > STUN_MAX_MSG)
		return EBADMSG;
	integrity_over(buf, m->integrity_off, key, keylen, mac);
	return CRYPTO_memcmp(mac, buf + m->integrity_off + 4, 20) == 0 ? 0 : EACCES;
}

void stun_longterm_key(const char *username, const char *realm, const char *password,
                       uint8_t out[16])
{
	char tmp[1024];
	unsigned outlen = 16;
	int n = snprintf(tmp, sizeof(tmp), "%s:%s:%s", username, realm, password);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		n = 0;
	EVP_Digest(tmp, (size_t)n, out, &outlen, EVP_md5(), NULL);
}

void stun_build_begin(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                      const uint8_t tid[12])
{
	b->buf = buf;
	b->cap = cap < STUN_MAX_MSG ? cap : STUN_MAX_MSG;
	b->len = 0;
	b->err = b->cap < STUN_HDR_LEN ? ENOSPC : 0;
	if (b->err)
		return;
	wr16(buf, type);
	wr16(buf + 2, 0);
	wr32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, tid, 12);
	b->len = STUN_HDR_LEN;
}

int stun_add_bytes(struct stun_builder *b, uint16_t type, const void *val, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	if (b->err)
		return b->err;
	if (len > 0xffff || b->len + 4 + padded > b->cap)
		return b->err = ENOSPC;
	wr16(b->buf + b->len, type);
	wr16(b->buf + b->len + 2, (uint16_t)len);
	if (len)
		memcpy(b->buf + b->len + 4, val, len);
	memset(b->buf + b->len + 4 + len, 0, padded - len);
	b->len += 4 + padded;
	wr16(b->buf + 2, (uint16_t)(b->len - STUN_HDR_LEN));
	return 0;
}

int stun_add_xor_address(struct stun_builder *b, uint16_t type, const struct sock_addr *sa)
{
	uint8_t v[20], key[16];
	uint16_t port = sock_addr_port(sa) ^ (uint16_t)(STUN_MAGIC >> 16);

	if (b->err)
		return b->err;
	wr32(key, STUN_MAGIC);
	memcpy(key + 4, b->buf + 8, 12);
	v[0] = 0;
	wr16(v + 2, port);
	if (sa->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&sa->ss;
		v[1] = 1;
		wr32(v + 4, ntohl(in->sin_addr.s_addr) ^ STUN_MAGIC);
		return stun_add_bytes(b, type, v, 8);
	}
	if (sa->ss.ss_family != AF_INET6)
		return b->err = EAFNOSUPPORT;
	v[1] = 2;
	for (int i = 0; i < 16; i++)
		v[4 + i] = ((const struct sockaddr_in6 *)&sa->ss)->sin6_addr.s6_addr[i] ^ key[i];
	return stun_add_bytes(b, type, v, 20);
}

int stun_add_error(struct stun_builder *b, int code, const char *reason)
{
	uint8_t v[4 + 128];
	size_t rl = reason ? strlen(reason) : 0;

	if (code < 300 || code > 699)
		return b->err = EINVAL;
	if (rl > 128)
		rl = 128;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rl)
		memcpy(v + 4, reason, rl);
	return stun_add_bytes(b, STUN_ATTR_ERROR_CODE, v, 4 + rl);
}

int stun_build_finish(struct stun_builder *b, const uint8_t *key, size_t keylen, int fingerprint,
                      size_t *lenp)
{
	if (b->err)
		return b->err;
	if (key) {
		uint8_t mac[20];
		size_t off = b->len;
		if (off + 24 > b->cap)
			return b->err = ENOSPC;
		integrity_over(b->buf, off, key, keylen, mac);
		if (stun_add_bytes(b, STUN_ATTR_MESSAGE_INTEGRITY, mac, 20))
			return b->err;
	}
	if (fingerprint) {
		uint8_t fp[4] = {0};
		size_t off = b->len;
		if (stun_add_bytes(b, STUN_ATTR_FINGERPRINT, fp, 4))
			return b->err;
		wr32(b->buf + off + 4, crc32_calc(b->buf, off) ^ FP_XOR);
	}
	*lenp = b->len;
	return 0;
}

int stun_binding_response(uint8_t *out, size_t cap, const struct stun_msg *req,
                          const struct sock_addr *from, const uint8_t *key, size_t keylen,
                          int fingerprint, size_t *lenp)
{
	struct stun_builder b;

	stun_build_begin(&b, out, cap, STUN_BINDING_SUCCESS, req->tid);
	stun_add_xor_address(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	stun_add_bytes(&b, STUN_ATTR_SOFTWARE, SOFTWARE_NAME, strlen(SOFTWARE_NAME));
	return stun_build_finish(&b, key, keylen, fingerprint, lenp);
}

int stun_error_response(uint8_t *out, size_t cap, const struct stun_msg *req, int code,
                        const char *reason, size_t *lenp)
{
	struct stun_builder b;

	stun_build_begin(&b, out, cap, (uint16_t)((req->type & 0x3eef) | 0x0110), req->tid);
	stun_add_error(&b, code, reason);
	if (code == 420 && req->n_unknown) {
		uint8_t v[2 * STUN_MAX_UNKNOWN];
		for (unsigned i = 0; i < req->n_unknown; i++)
			wr16(v + 2 * i, req->unknown[i]);
		stun_add_bytes(&b, STUN_ATTR_UNKNOWN_ATTRIBUTES, v, 2 * req->n_unknown);
	}
	stun_add_bytes(&b, STUN_ATTR_SOFTWARE, SOFTWARE_NAME, strlen(SOFTWARE_NAME));
	return stun_build_finish(&b, NULL, 0, 1, lenp);
}
