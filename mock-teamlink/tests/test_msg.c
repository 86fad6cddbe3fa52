#include "teamlink/msg.h"
#include "testutil.h"

#include <string.h>

START_TEST(test_msg_open_sip_matches_documented_bytes)
{
	/* docs/protocol/teamlink.md §8 */
	static const uint8_t want[] = "\x01\x00\x01\x13\xc4\x00sip.librestream.com";
	uint8_t m[300];
	struct tl_msg p;
	size_t n = tl_build_open_sip(m, sizeof(m), 1, "sip.librestream.com", 5060, TL_TCP);

	ck_assert_uint_eq(n, 25);
	ck_assert_int_eq(memcmp(m, want, 25), 0);
	ck_assert_int_eq(tl_parse(m, n, &p), 0);
	ck_assert_int_eq(p.type, TL_OPEN_SIP);
	ck_assert_uint_eq(p.channel, 1);
	ck_assert_uint_eq(p.port, 5060);
	ck_assert_str_eq(p.host, "sip.librestream.com");
}
END_TEST

START_TEST(test_msg_error_window_udp_round_trip)
{
	uint8_t m[300];
	struct tl_msg p;
	size_t n;

	n = tl_build_error(m, sizeof(m), 2, 502, "connection refused");
	ck_assert_int_eq(memcmp(m, "\x07\x00\x02\x01\xf6", 5), 0);
	ck_assert_int_eq(tl_parse(m, n, &p), 0);
	ck_assert_uint_eq(p.code, 502);
	ck_assert_uint_eq(p.len, 18);
	n = tl_build_window(m, sizeof(m), 1, 7);
	ck_assert_int_eq(tl_parse(m, n, &p), 0);
	ck_assert_uint_eq(p.increment, 7);
	n = tl_build_open_udp(m, sizeof(m), 2, "203.0.113.21", 15000);
	ck_assert_int_eq(memcmp(m, "\x02\x00\x02\x3a\x98", 5), 0);
	ck_assert_int_eq(tl_parse(m, n, &p), 0);
	ck_assert_str_eq(p.host, "203.0.113.21");
	n = tl_build(m, sizeof(m), TL_UDP_DATA, 9, "", 0);
	ck_assert_int_eq(tl_parse(m, n, &p), 0); /* empty datagram is legal */
}
END_TEST

START_TEST(test_msg_rejects_malformed)
{
	struct tl_msg p;
	uint8_t big[TL_MAX_MSG + 1] = {TL_UDP_DATA, 0, 1};

	ck_assert_int_eq(tl_parse((const uint8_t *)"\x04\x00", 2, &p), TL_E_BAD_MESSAGE);
	ck_assert_int_eq(tl_parse((const uint8_t *)"\x09\x00\x01", 3, &p), TL_E_BAD_MESSAGE);
	/* OPEN on channel 0, bad transport, empty host, host with a space */
	ck_assert_int_eq(tl_parse((const uint8_t *)"\x02\x00\x00\x00\x01h", 6, &p),
	                 TL_E_BAD_MESSAGE);
	ck_assert_int_eq(tl_parse((const uint8_t *)"\x01\x00\x01\x00\x01\x07h", 7, &p),
	                 TL_E_BAD_MESSAGE);
	ck_assert_int_eq(tl_parse((const uint8_t *)"\x02\x00\x01\x00\x01", 5, &p),
	                 TL_E_BAD_MESSAGE);
	ck_assert_int_eq(tl_parse((const uint8_t *)"\x02\x00\x01\x00\x01h h", 8, &p),
	                 TL_E_BAD_MESSAGE);
	/* zero window, empty SIP_DATA, oversize */
	ck_assert_int_eq(tl_parse((const uint8_t *)"\x08\x00\x01\x00\x00\x00\x00", 7, &p),
	                 TL_E_BAD_MESSAGE);
	ck_assert_int_eq(tl_parse((const uint8_t *)"\x04\x00\x01", 3, &p), TL_E_BAD_MESSAGE);
	ck_assert_int_eq(tl_parse(big, sizeof(big), &p), TL_E_TOO_LARGE);
	ck_assert_uint_eq(p.channel, 1);
}
END_TEST

TU_SUITE("msg", test_msg_open_sip_matches_documented_bytes, test_msg_error_window_udp_round_trip,
         test_msg_rejects_malformed)
