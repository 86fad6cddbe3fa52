#include "onsight/ws.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* Builds a frame (masked with a fixed key when mask) into out; returns its length. */
static size_t frame(uint8_t *out, enum ws_op op, int fin, const void *p, size_t n, int mask)
{
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	size_t h = ws_frame_header(out, op, fin, n, mask ? key : NULL);

	memcpy(out + h, p, n);
	if (mask)
		ws_mask(out + h, n, key, 0);
	return h + n;
}

START_TEST(test_ws_accept_matches_rfc6455_example)
{
	char out[WS_ACCEPT_LEN + 1];

	/* RFC 6455 §1.3 */
	ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	ck_assert(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
	ck_assert(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ"));
	ck_assert(!ws_key_valid("AAAAAAAAAAAAAAAAAAAAAAA="));
	ck_assert_int_eq(ws_key_new(out), 0);
	ck_assert(ws_key_valid(out));
}
END_TEST

START_TEST(test_ws_reads_masked_frame_as_in_teamlink_example)
{
	/* docs/protocol/teamlink.md §8: OPEN_SIP on channel 1 */
	uint8_t f[] = {0x82, 0x99, 0x37, 0xfa, 0x21, 0x3d, 0x36, 0xfa, 0x20, 0x2e, 0xf3,
	               0xfa, 0x52, 0x54, 0x47, 0xd4, 0x4d, 0x54, 0x55, 0x88, 0x44, 0x4e,
	               0x43, 0x88, 0x44, 0x5c, 0x5a, 0xd4, 0x42, 0x52, 0x5a};
	struct ws_reader *r = NULL;
	struct ws_msg m;
	size_t used;

	ck_assert_int_eq(ws_reader_alloc(&r, 1, 16387), 0);
	/* every prefix is "need more" and consumes nothing */
	for (size_t i = 0; i < sizeof(f); i++) {
		ck_assert_int_eq(ws_read(r, f, i, &used, &m), 0);
		ck_assert_uint_eq(used, 0);
	}
	ck_assert_int_eq(ws_read(r, f, sizeof(f), &used, &m), 1);
	ck_assert_uint_eq(used, sizeof(f));
	ck_assert_int_eq(m.op, WS_OP_BINARY);
	ck_assert_uint_eq(m.len, 25);
	ck_assert_int_eq(memcmp(m.data, "\x01\x00\x01\x13\xc4\x00sip.librestream.com", 25), 0);
	ws_reader_free(r);
}
END_TEST

START_TEST(test_ws_reassembles_fragments_around_a_ping)
{
	uint8_t buf[256];
	size_t n = 0, used, off = 0;
	struct ws_reader *r = NULL;
	struct ws_msg m;

	n += frame(buf + n, WS_OP_BINARY, 0, "abc", 3, 1);
	n += frame(buf + n, WS_OP_PING, 1, "p", 1, 1);
	n += frame(buf + n, WS_OP_CONT, 0, "def", 3, 1);
	n += frame(buf + n, WS_OP_CONT, 1, "g", 1, 1);
	ck_assert_int_eq(ws_reader_alloc(&r, 1, 64), 0);
	ck_assert_int_eq(ws_read(r, buf, n, &used, &m), 0); /* first fragment: consumed, no msg */
	off += used;
	ck_assert_int_eq(ws_read(r, buf + off, n - off, &used, &m), 1);
	ck_assert_int_eq(m.op, WS_OP_PING);
	off += used;
	ck_assert_int_eq(ws_read(r, buf + off, n - off, &used, &m), 0);
	off += used;
	ck_assert_int_eq(ws_read(r, buf + off, n - off, &used, &m), 1);
	off += used;
	ck_assert_uint_eq(off, n);
	ck_assert_int_eq(m.op, WS_OP_BINARY);
	ck_assert_uint_eq(m.len, 7);
	ck_assert_int_eq(memcmp(m.data, "abcdefg", 7), 0);
	ws_reader_free(r);
}
END_TEST

START_TEST(test_ws_rejects_protocol_violations)
{
	uint8_t buf[300];
	size_t n, used;
	struct ws_reader *r = NULL;
	struct ws_msg m;
	char big[200];

	memset(big, 'x', sizeof(big));
	/* unmasked client frame at a server */
	n = frame(buf, WS_OP_BINARY, 1, "a", 1, 0);
	ck_assert_int_eq(ws_reader_alloc(&r, 1, 64), 0);
	ck_assert_int_eq(ws_read(r, buf, n, &used, &m), -1);
	ck_assert_int_eq(ws_reader_status(r), WS_CLOSE_PROTOCOL);
	ws_reader_free(r);
	/* message over the cap: refused from the header alone */
	n = frame(buf, WS_OP_BINARY, 1, big, sizeof(big), 1);
	ck_assert_int_eq(ws_reader_alloc(&r, 1, 64), 0);
	ck_assert_int_eq(ws_read(r, buf, 4, &used, &m), -1);
	ck_assert_int_eq(ws_reader_status(r), WS_CLOSE_TOO_BIG);
	ws_reader_free(r);
	/* fragmented control frame */
	n = frame(buf, WS_OP_PING, 0, "a", 1, 1);
	ck_assert_int_eq(ws_reader_alloc(&r, 1, 64), 0);
	ck_assert_int_eq(ws_read(r, buf, n, &used, &m), -1);
	ws_reader_free(r);
	/* continuation without a start, and RSV bits */
	n = frame(buf, WS_OP_CONT, 1, "a", 1, 1);
	ck_assert_int_eq(ws_reader_alloc(&r, 1, 64), 0);
	ck_assert_int_eq(ws_read(r, buf, n, &used, &m), -1);
	ws_reader_free(r);
	n = frame(buf, WS_OP_BINARY, 1, "a", 1, 1);
	buf[0] |= 0x40;
	ck_assert_int_eq(ws_reader_alloc(&r, 1, 64), 0);
	ck_assert_int_eq(ws_read(r, buf, n, &used, &m), -1);
	ws_reader_free(r);
	/* non-minimal 16-bit length */
	n = frame(buf, WS_OP_BINARY, 1, "a", 1, 0);
	buf[1] = 126;
	buf[2] = 0;
	buf[3] = 1;
	ck_assert_int_eq(ws_reader_alloc(&r, 0, 64), 0);
	ck_assert_int_eq(ws_read(r, buf, 5, &used, &m), -1);
	ws_reader_free(r);
}
END_TEST

START_TEST(test_ws_header_lengths_and_close_payload)
{
	uint8_t h[WS_MAX_HEADER], cp[] = {0x03, 0xe8, 'b', 'y', 'e'};
	int st;
	const char *reason;
	size_t rl;

	ck_assert_uint_eq(ws_frame_header(h, WS_OP_BINARY, 1, 125, NULL), 2);
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_BINARY, 1, 126, NULL), 4);
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_BINARY, 1, 65536, NULL), 10);
	ck_assert_uint_eq(ws_frame_header(h, WS_OP_BINARY, 1, 65536, (const uint8_t *)"abcd"), 14);
	ck_assert_int_eq(ws_close_parse(cp, sizeof(cp), &st, &reason, &rl), 0);
	ck_assert_int_eq(st, 1000);
	ck_assert_uint_eq(rl, 3);
	ck_assert_int_eq(ws_close_parse(cp, 1, &st, &reason, &rl), -1);
	cp[1] = 0xed; /* 1005 must not be sent */
	ck_assert_int_eq(ws_close_parse(cp, 2, &st, &reason, &rl), -1);
	ck_assert_int_eq(ws_close_parse(cp, 0, &st, &reason, &rl), 0);
	ck_assert_int_eq(st, WS_CLOSE_NO_STATUS);
}
END_TEST

TU_SUITE("ws", test_ws_accept_matches_rfc6455_example,
         test_ws_reads_masked_frame_as_in_teamlink_example,
         test_ws_reassembles_fragments_around_a_ping, test_ws_rejects_protocol_violations,
         test_ws_header_lengths_and_close_payload)
