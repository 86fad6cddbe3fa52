#include "onsight/digest.h"

#include "testutil.h"
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

START_TEST(test_digest_matches_rfc2617_example)
{
	char ha1[33], resp[33];

	digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	digest_response(ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
	                "GET", "/dir/index.html", resp);
	ck_assert_str_eq(resp, "6629fae49393a05397450978507c4ef1");
}
END_TEST

START_TEST(test_digest_parses_challenge_with_quotes_and_stale)
{
	struct digest_params p;

	ck_assert_int_eq(digest_parse("Digest realm=\"a \\\"b\\\"\",nonce=\"xyz\", "
	                              "algorithm=MD5, qop=\"auth,auth-int\", stale=TRUE, foo=bar",
	                              &p),
	                 0);
	ck_assert_str_eq(p.realm, "a \"b\"");
	ck_assert_str_eq(p.nonce, "xyz");
	ck_assert_str_eq(p.qop, "auth,auth-int");
	ck_assert_int_eq(p.stale, 1);
	ck_assert_int_eq(digest_parse("Basic abc", &p), EPROTONOSUPPORT);
	ck_assert_int_eq(digest_parse("Digest realm=\"unterminated", &p), EINVAL);
	ck_assert_int_eq(digest_parse("Digest =x", &p), EINVAL);
}
END_TEST

static enum digest_verdict answer(struct digest_server *s, uint64_t now, const char *ch_value,
                                  const char *pw, uint32_t nc)
{
	struct digest_params ch, cr;
	char auth[1024];

	ck_assert_int_eq(digest_parse(ch_value, &ch), 0);
	ck_assert_int_eq(digest_authorization(auth, sizeof(auth), &ch, "alice", pw, "REGISTER",
	                                      "sip:librestream.com", nc, "c0ffee"),
	                 0);
	ck_assert_int_eq(digest_parse(auth, &cr), 0);
	return digest_server_check(s, now, &cr, "REGISTER", "librestream.com", "alice-pw", NULL);
}

START_TEST(test_digest_server_accepts_then_rejects_replayed_nonce_count)
{
	struct digest_server *s = NULL;
	char ch[512];

	ck_assert_int_eq(digest_server_alloc(&s, 30000, 16), 0);
	ck_assert_int_eq(digest_server_challenge(s, 1000, "librestream.com", 0, ch, sizeof(ch)), 0);
	ck_assert_int_eq(answer(s, 2000, ch, "alice-pw", 1), DIGEST_OK);
	ck_assert_int_eq(answer(s, 2000, ch, "alice-pw", 1), DIGEST_REPLAY);
	ck_assert_int_eq(answer(s, 2000, ch, "alice-pw", 2), DIGEST_OK);
	ck_assert_int_eq(answer(s, 2000, ch, "wrong", 3), DIGEST_BAD);
	digest_server_free(s);
}
END_TEST

START_TEST(test_digest_server_reports_expired_and_evicted_nonce_stale)
{
	struct digest_server *s = NULL;
	char ch[512], ch2[512];

	ck_assert_int_eq(digest_server_alloc(&s, 30000, 1), 0);
	ck_assert_int_eq(digest_server_challenge(s, 1000, "librestream.com", 0, ch, sizeof(ch)), 0);
	ck_assert_int_eq(answer(s, 40000, ch, "alice-pw", 1), DIGEST_STALE);
	ck_assert_int_eq(digest_server_challenge(s, 50000, "librestream.com", 1, ch2, sizeof(ch2)),
	                 0);
	ck_assert(strstr(ch2, "stale=true") != NULL);
	ck_assert_int_eq(answer(s, 50001, ch, "alice-pw", 2), DIGEST_STALE); /* slot reused */
	ck_assert_int_eq(answer(s, 50001, ch2, "alice-pw", 1), DIGEST_OK);
	digest_server_free(s);
}
END_TEST

START_TEST(test_digest_server_rejects_wrong_realm_and_other_algorithm)
{
	struct digest_server *s = NULL;
	struct digest_params c;
	char nonce[41], v[512];

	ck_assert_int_eq(digest_server_alloc(&s, 30000, 4), 0);
	ck_assert_int_eq(digest_server_nonce(s, 5, nonce, sizeof(nonce)), 0);
	snprintf(v, sizeof(v),
	         "Digest username=\"alice\", realm=\"other\", nonce=\"%s\", uri=\"sip:x\", "
	         "response=\"00000000000000000000000000000000\"",
	         nonce);
	ck_assert_int_eq(digest_parse(v, &c), 0);
	ck_assert_int_eq(digest_server_check(s, 6, &c, "REGISTER", "librestream.com", "pw", NULL),
	                 DIGEST_BAD);
	digest_server_free(s);
}
END_TEST

TU_SUITE("digest", test_digest_matches_rfc2617_example,
         test_digest_parses_challenge_with_quotes_and_stale,
         test_digest_server_accepts_then_rejects_replayed_nonce_count,
         test_digest_server_reports_expired_and_evicted_nonce_stale,
         test_digest_server_rejects_wrong_realm_and_other_algorithm)
