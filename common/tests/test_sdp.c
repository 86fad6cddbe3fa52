#include "onsight/sdp.h"

#include "testutil.h"
#include <check.h>
#include <errno.h>
#include <string.h>

static const char offer[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
                            "t=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtcp:4001\r\n"
                            "a=candidate:1 1 UDP 1 192.0.2.10 4000 typ host\r\n"
                            "a=ice-ufrag:abcd\r\nm=video 0 RTP/AVP 96\r\n"
                            "m=video 5000/2 RTP/AVP 97\r\nc=IN IP4 198.51.100.7/127\r\n";

START_TEST(test_sdp_reads_streams_with_session_and_media_addresses)
{
	struct sdp_info in;
	char a[SOCK_ADDR_STRLEN];

	ck_assert_int_eq(sdp_parse(offer, strlen(offer), &in), 0);
	ck_assert_uint_eq(in.n, 3);
	ck_assert_str_eq(sock_addr_str(&in.s[0].addr, a, sizeof(a)), "192.0.2.10:4000");
	ck_assert_uint_eq(in.s[1].port, 0);
	ck_assert_str_eq(sock_addr_str(&in.s[2].addr, a, sizeof(a)), "198.51.100.7:5000");
}
END_TEST

START_TEST(test_sdp_rewrite_points_streams_at_relay_and_drops_candidates)
{
	struct sock_addr relay;
	uint16_t ports[3] = {30000, 30002, 30004};
	char out[2048];
	size_t n;

	ck_assert_int_eq(sock_addr_parse(&relay, "203.0.113.20", 0), 0);
	ck_assert_int_eq(sdp_rewrite(offer, strlen(offer), &relay, ports, 3, out, sizeof(out), &n),
	                 0);
	out[n] = '\0';
	ck_assert_ptr_null(strstr(out, "192.0.2.10\r\nt="));
	ck_assert_ptr_nonnull(strstr(out, "c=IN IP4 203.0.113.20\r\nt=0 0"));
	ck_assert_ptr_nonnull(strstr(out, "m=audio 30000 RTP/AVP 0 8\r\na=rtcp:30001\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "m=video 0 RTP/AVP 96\r\n")); /* declined stays 0 */
	ck_assert_ptr_nonnull(strstr(out, "m=video 30004/2 RTP/AVP 97\r\n"));
	ck_assert_ptr_null(strstr(out, "candidate"));
	ck_assert_ptr_null(strstr(out, "ice-ufrag"));
	ck_assert_ptr_nonnull(strstr(out, "o=- 1 1 IN IP4 192.0.2.10\r\n"));
}
END_TEST

START_TEST(test_sdp_rewrite_uses_ip6_for_a_v6_relay)
{
	struct sock_addr relay;
	uint16_t ports[1] = {40000};
	char out[1024];
	size_t n;
	const char *s = "v=0\nc=IN IP4 192.0.2.1\nm=audio 9 RTP/AVP 0\n";

	ck_assert_int_eq(sock_addr_parse(&relay, "[2001:db8::20]", 0), 0);
	ck_assert_int_eq(sdp_rewrite(s, strlen(s), &relay, ports, 1, out, sizeof(out), &n), 0);
	out[n] = '\0';
	ck_assert_str_eq(out, "v=0\r\nc=IN IP6 2001:db8::20\r\nm=audio 40000 RTP/AVP 0\r\n");
}
END_TEST

START_TEST(test_sdp_rejects_no_media_bad_port_and_too_many_streams)
{
	struct sdp_info in;
	const char *none = "v=0\r\nc=IN IP4 1.2.3.4\r\n",
	           *bad = "v=0\r\nm=audio 70000 RTP/AVP 0\r\n";
	const char *five = "m=audio 1 x\nm=audio 2 x\nm=audio 3 x\nm=audio 4 x\nm=audio 5 x\n";
	char out[8];
	size_t n;
	struct sock_addr relay;
	uint16_t p[4] = {1, 2, 3, 4};

	ck_assert_int_eq(sdp_parse(none, strlen(none), &in), EINVAL);
	ck_assert_int_eq(sdp_parse(bad, strlen(bad), &in), EINVAL);
	ck_assert_int_eq(sdp_parse(five, strlen(five), &in), EINVAL);
	ck_assert_int_eq(sock_addr_parse(&relay, "1.2.3.4", 0), 0);
	ck_assert_int_eq(sdp_rewrite(offer, strlen(offer), &relay, p, 3, out, sizeof(out), &n),
	                 ENOSPC);
}
END_TEST

START_TEST(test_sdp_find_takes_the_first_stream_of_a_type)
{
	struct sdp_stream st;
	char host[64];
	const char *five = "c=IN IP4 192.0.2.1\nm=video 1 x\nc=IN IP4 192.0.2.9\nm=video 2 x\n"
	                   "m=video 3 x\nm=video 4 x\nm=audio 5 x\nc=IN IP4 192.0.2.5/127\n"
	                   "m=audio 6 x\nc=IN IP4 192.0.2.6";

	/* the video stream's own c= does not leak into the audio stream found after it */
	ck_assert_int_eq(sdp_find(offer, strlen(offer), "video", &st), 0);
	ck_assert_uint_eq(st.port, 0);
	ck_assert_int_eq(sdp_find(five, strlen(five), "audio", &st), 0);
	ck_assert_uint_eq(st.port, 5);
	ck_assert_str_eq(sock_addr_host(&st.addr, host, sizeof(host)), "192.0.2.5");
	ck_assert_uint_eq(sock_addr_port(&st.addr), 5);
	const char *sess = "c=IN IP4 192.0.2.1\r\nm=audio 7 x";

	ck_assert_int_eq(sdp_find(sess, strlen(sess), "audio", &st), 0);
	ck_assert_str_eq(sock_addr_host(&st.addr, host, sizeof(host)), "192.0.2.1");
	ck_assert_int_eq(sdp_find("m=audio 7 x", 11, "audio", &st), 0);
	ck_assert_int_eq(st.addr.len, 0);
	ck_assert_int_eq(sdp_find("m=audiox 7 x", 12, "audio", &st), EINVAL);
	ck_assert_int_eq(sdp_find("m=audio 70000 x", 15, "audio", &st), EINVAL);
	ck_assert_int_eq(sdp_find(offer, strlen(offer), "text", &st), EINVAL);
}
END_TEST

TU_SUITE("sdp", test_sdp_reads_streams_with_session_and_media_addresses,
         test_sdp_find_takes_the_first_stream_of_a_type,
         test_sdp_rewrite_points_streams_at_relay_and_drops_candidates,
         test_sdp_rewrite_uses_ip6_for_a_v6_relay,
         test_sdp_rejects_no_media_bad_port_and_too_many_streams)
