/* ws.c - RFC 6455 framing. */
#include "onsight/ws.h"

#include "onsight/b64.h"

#include <errno.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct ws_reader {
	int expect_masked;
	size_t max_msg;
	uint8_t *frag; /* reassembly of a fragmented data message */
	size_t fraglen;
	int in_frag;
	enum ws_op frag_op;
	int status;
	const char *error;
};

int ws_reader_alloc(struct ws_reader **rp, int expect_masked, size_t max_msg)
{
	struct ws_reader *r;

	if (!rp || max_msg == 0)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->expect_masked = expect_masked;
	r->max_msg = max_msg;
	*rp = r;
	return 0;
}

void ws_reader_free(struct ws_reader *r)
{
	if (!r)
		return;
	free(r->frag);
	free(r);
}

int ws_reader_status(const struct ws_reader *r)
{
	return r ? r->status : WS_CLOSE_PROTOCOL;
}

const char *ws_reader_error(const struct ws_reader *r)
{
	return r && r->error ? r->error : "";
}

static int bad(struct ws_reader *r, int status, const char *why)
{
	r->status = status;
	r->error = why;
	return -1;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t key[4], size_t offset)
{
	for (size_t i = 0; i < len; i++)
		data[i] ^= key[(i + offset) & 3];
}

int ws_read(struct ws_reader *r, uint8_t *buf, size_t len, size_t *used, struct ws_msg *m)
{
	size_t hl = 2;
	uint64_t plen;
	int fin, op, masked;
	uint8_t *payload;

	*used = 0;
	if (r->status)
		return -1; /* a reader that failed stays failed */
	if (len < 2)
		return 0;
	fin = buf[0] & 0x80;
	op = buf[0] & 0x0f;
	masked = buf[1] & 0x80;
	plen = buf[1] & 0x7f;
	if (buf[0] & 0x70)
		return bad(r, WS_CLOSE_PROTOCOL, "RSV bits set without an extension");
	if (masked != (r->expect_masked ? 0x80 : 0))
		return bad(r, WS_CLOSE_PROTOCOL,
		           r->expect_masked ? "unmasked client frame" : "masked server frame");
	if (op != WS_OP_CONT && op != WS_OP_TEXT && op != WS_OP_BINARY && op != WS_OP_CLOSE &&
	    op != WS_OP_PING && op != WS_OP_PONG)
		return bad(r, WS_CLOSE_PROTOCOL, "reserved opcode");
	if (op >= 0x8 && (!fin || plen > WS_MAX_CONTROL))
		return bad(r, WS_CLOSE_PROTOCOL, "fragmented or long control frame");
	if (plen == 126) {
		if (len < 4)
			return 0;
		plen = (uint64_t)buf[2] << 8 | buf[3];
		if (plen < 126)
			return bad(r, WS_CLOSE_PROTOCOL, "non-minimal length");
		hl = 4;
	} else if (plen == 127) {
		if (len < 10)
			return 0;
		plen = 0;
		for (int i = 0; i < 8; i++)
			plen = plen << 8 | buf[2 + i];
		if (plen >> 63)
			return bad(r, WS_CLOSE_PROTOCOL, "length with the top bit set");
		if (plen < 65536)
			return bad(r, WS_CLOSE_PROTOCOL, "non-minimal length");
		hl = 10;
	}
	/* Refuse before buffering: a frame longer than a whole message can never fit. */
	if (plen > r->max_msg || (op == WS_OP_CONT && r->fraglen + plen > r->max_msg))
		return bad(r, WS_CLOSE_TOO_BIG, "message over the size limit");
	if (masked)
		hl += 4;
	if (len < hl || len - hl < plen)
		return 0;
	payload = buf + hl;
	if (masked)
		ws_mask(payload, (size_t)plen, buf + hl - 4, 0);
	*used = hl + (size_t)plen;
	if (op >= 0x8) {
		m->op = (enum ws_op)op;
		m->data = payload;
		m->len = (size_t)plen;
		return 1;
	}
	if (op == WS_OP_CONT) {
		if (!r->in_frag)
			return bad(r, WS_CLOSE_PROTOCOL, "continuation without a message");
	} else if (r->in_frag)
		return bad(r, WS_CLOSE_PROTOCOL, "new message inside a fragmented one");
	if (op != WS_OP_CONT && fin) { /* the common case: one frame, no copy */
		m->op = (enum ws_op)op;
		m->data = payload;
		m->len = (size_t)plen;
		return 1;
	}
	if (!r->frag) {
		r->frag = malloc(r->max_msg);
		if (!r->frag)
			return bad(r, WS_CLOSE_INTERNAL, "out of memory");
	}
	if (op != WS_OP_CONT) {
		r->in_frag = 1;
		r->frag_op = (enum ws_op)op;
		r->fraglen = 0;
	}
	memcpy(r->frag + r->fraglen, payload, (size_t)plen);
	r->fraglen += (size_t)plen;
	if (!fin)
		return 0;
	r->in_frag = 0;
	m->op = r->frag_op;
	m->data = r->frag;
	m->len = r->fraglen;
	r->fraglen = 0;
	return 1;
}

size_t ws_frame_header(uint8_t *hdr, enum ws_op op, int fin, uint64_t len, const uint8_t *mask)
{
	size_t n = 2;

	hdr[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	if (len < 126)
		hdr[1] = (uint8_t)len;
	else if (len < 65536) {
		hdr[1] = 126;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		n = 4;
	} else {
		hdr[1] = 127;
		for (int i = 0; i < 8; i++)
			hdr[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	if (mask) {
		hdr[1] |= 0x80;
		memcpy(hdr + n, mask, 4);
		n += 4;
	}
	return n;
}

int ws_key_new(char *out)
{
	uint8_t raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return EIO;
	b64_encode(raw, sizeof(raw), out, 0);
	return 0;
}

int ws_key_valid(const char *key)
{
	uint8_t raw[20];
	size_t n = 0;

	if (!key || strlen(key) != WS_KEY_LEN)
		return 0;
	return b64_decode(key, WS_KEY_LEN, raw, sizeof(raw), &n, 0) == 0 && n == 16;
}

void ws_accept(const char *key, char *out)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; /* RFC 6455 §1.3 */
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (!ctx)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
	    EVP_DigestUpdate(ctx, guid, sizeof(guid) - 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1)
		b64_encode(md, mdlen, out, 0);
	EVP_MD_CTX_free(ctx);
}

int ws_close_parse(const uint8_t *p, size_t len, int *status, const char **reason,
                   size_t *reasonlen)
{
	int s;

	*reason = NULL;
	*reasonlen = 0;
	if (len == 0) {
		*status = WS_CLOSE_NO_STATUS;
		return 0;
	}
	if (len == 1)
		return -1;
	s = p[0] << 8 | p[1];
	/* §7.4: 1005, 1006, 1015 are never sent; below 1000 and 1016-2999 are not assigned. */
	if (s < 1000 || s == 1004 || s == 1005 || s == 1006 || (s >= 1016 && s < 3000) || s > 4999)
		return -1;
	*status = s;
	*reason = (const char *)p + 2;
	*reasonlen = len - 2;
	return 0;
}
