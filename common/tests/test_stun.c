#include "onsight/stun.h"
#include "onsight/util.h"

#include "testutil.h"
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_DIR ONSIGHT_SOURCE_DIR "/common/tests/data/stun/"
static const char pw_short[] = "VOkJxbRl1RmTxUk/WvJxBt";

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
	char *data = NULL;
	size_t n = 0;

	ck_assert_int_eq(file_read(name, cap, &data, &n), 0);
	memcpy(buf, data, n);
	free(data);
	return n;
}

START_TEST(test_stun_rfc5769_short_term_request_verifies)
{
	uint8_t buf[512];
	size_t n = load(VEC_DIR "reqstc.bin", buf, sizeof(buf));
	struct stun_msg m;

	ck_assert_int_eq(stun_decode(&m, buf, n), 0);
	ck_assert_uint_eq(m.type, STUN_BINDING_REQUEST);
	ck_assert(m.has_fingerprint);
	ck_assert_uint_eq(m.username.len, 9);
	ck_assert(memcmp(m.username.p, "evtj:h6vY", 9) == 0);
	ck_assert_uint_eq(m.n_unknown, 0); /* PRIORITY is an ICE attribute we know */
	ck_assert_int_eq(stun_check_integrity(&m, buf, n, (const uint8_t *)pw_short, 22), 0);
	ck_assert_int_eq(stun_check_integrity(&m, buf, n, (const uint8_t *)"wrong", 5), EACCES);
}
END_TEST

static void check_resp(const char *file, const char *addr)
{
	uint8_t buf[512];
	size_t n = load(file, buf, sizeof(buf));
	struct stun_msg m;
	char s[SOCK_ADDR_STRLEN];

	ck_assert_int_eq(stun_decode(&m, buf, n), 0);
	ck_assert_uint_eq(m.type, STUN_BINDING_SUCCESS);
	ck_assert(m.has_mapped && m.has_fingerprint);
	ck_assert_str_eq(sock_addr_str(&m.mapped, s, sizeof(s)), addr);
	ck_assert_int_eq(stun_check_integrity(&m, buf, n, (const uint8_t *)pw_short, 22), 0);
}

START_TEST(test_stun_rfc5769_responses_decode_mapped_address)
{
	check_resp(VEC_DIR "respv4.bin", "192.0.2.1:32853");
	check_resp(VEC_DIR "respv6.bin", "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}
END_TEST

START_TEST(test_stun_rfc5769_long_term_request_verifies)
{
	uint8_t buf[512], key[16];
	size_t n = load(VEC_DIR "reqltc.bin", buf, sizeof(buf));
	struct stun_msg m;
	char user[64] = {0};

	ck_assert_int_eq(stun_decode(&m, buf, n), 0);
	ck_assert(!m.has_fingerprint);
	ck_assert_uint_eq(m.realm.len, 11);
	memcpy(user, m.username.p, m.username.len);
	stun_longterm_key(user, "example.org", "TheMatrIX", key);
	ck_assert_int_eq(stun_check_integrity(&m, buf, n, key, 16), 0);
}
END_TEST

START_TEST(test_stun_rejects_corrupted_fingerprint)
{
	uint8_t buf[512];
	size_t n = load(VEC_DIR "respv4.bin", buf, sizeof(buf));
	struct stun_msg m;

	buf[n - 1] ^= 1;
	ck_assert_int_eq(stun_decode(&m, buf, n), EBADMSG);
	buf[n - 1] ^= 1;
	buf[30] ^= 1; /* inside SOFTWARE: fingerprint no longer matches */
	ck_assert_int_eq(stun_decode(&m, buf, n), EBADMSG);
}
END_TEST

START_TEST(test_stun_response_round_trips_with_integrity)
{
	uint8_t req[64], out[256];
	struct stun_builder b;
	struct stun_msg rm, m;
	struct sock_addr from;
	size_t n;
	const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

	stun_build_begin(&b, req, sizeof(req), STUN_BINDING_REQUEST, tid);
	ck_assert_int_eq(stun_build_finish(&b, NULL, 0, 1, &n), 0);
	ck_assert_int_eq(stun_decode(&rm, req, n), 0);
	ck_assert_int_eq(sock_addr_parse(&from, "[2001:db8::5]:4000", 0), 0);
	ck_assert_int_eq(
	        stun_binding_response(out, sizeof(out), &rm, &from, (const uint8_t *)"k", 1, 1, &n),
	        0);
	ck_assert_int_eq(stun_decode(&m, out, n), 0);
	ck_assert(sock_addr_eq(&m.mapped, &from));
	ck_assert(memcmp(m.tid, tid, 12) == 0);
	ck_assert_int_eq(stun_check_integrity(&m, out, n, (const uint8_t *)"k", 1), 0);
}
END_TEST

START_TEST(test_stun_rejects_truncated_and_oversized)
{
	uint8_t buf[2000] = {0};
	size_t n = load(VEC_DIR "reqstc.bin", buf, sizeof(buf));
	struct stun_msg m;

	ck_assert_int_eq(stun_decode(&m, buf, n - 4), EBADMSG);
	ck_assert_int_eq(stun_decode(&m, buf, 1600), EMSGSIZE);
	ck_assert(!stun_is_message((const uint8_t *)"INVITE sip:a@b SIP/2.0\r\n", 24));
}
END_TEST

START_TEST(test_stun_error_response_lists_unknown_attributes)
{
	uint8_t buf[512], out[256];
	size_t n = load(VEC_DIR "reqstc.bin", buf, sizeof(buf)), on;
	struct stun_msg m, e;

	ck_assert_int_eq(stun_decode(&m, buf, n), 0);
	m.unknown[m.n_unknown++] = 0x7777;
	ck_assert_int_eq(stun_error_response(out, sizeof(out), &m, 420, "Unknown", &on), 0);
	ck_assert_int_eq(stun_decode(&e, out, on), 0);
	ck_assert_uint_eq(e.type, STUN_BINDING_ERROR);
	ck_assert_int_eq(e.error_code, 420);
}
END_TEST

TU_SUITE("stun", test_stun_rfc5769_short_term_request_verifies,
         test_stun_rfc5769_responses_decode_mapped_address,
         test_stun_rfc5769_long_term_request_verifies, test_stun_rejects_corrupted_fingerprint,
         test_stun_response_round_trips_with_integrity, test_stun_rejects_truncated_and_oversized,
         test_stun_error_response_lists_unknown_attributes)
