#include "onsight/b64.h"

#include "testutil.h"
#include <check.h>
#include <errno.h>
#include <string.h>

/* RFC 4648 §10 test vectors. */
static const char *const vec[][2] = {{"", ""},
                                     {"f", "Zg=="},
                                     {"fo", "Zm8="},
                                     {"foo", "Zm9v"},
                                     {"foob", "Zm9vYg=="},
                                     {"fooba", "Zm9vYmE="},
                                     {"foobar", "Zm9vYmFy"}};

START_TEST(test_b64_encodes_rfc4648_vectors)
{
	char out[32];
	uint8_t dec[32];
	size_t n;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		const char *in = vec[i][0], *exp = vec[i][1];
		ck_assert_uint_eq(b64_encode((const uint8_t *)in, strlen(in), out, 0), strlen(exp));
		ck_assert_str_eq(out, exp);
		ck_assert_int_eq(b64_decode(exp, strlen(exp), dec, sizeof(dec), &n, 0), 0);
		ck_assert_uint_eq(n, strlen(in));
		ck_assert(memcmp(dec, in, n) == 0);
	}
}
END_TEST

START_TEST(test_b64url_has_no_padding_and_url_alphabet)
{
	const uint8_t in[] = {0xfb, 0xff, 0xfe};
	char out[8];
	uint8_t dec[8];
	size_t n;

	b64_encode(in, 3, out, 1);
	ck_assert_str_eq(out, "-__-");
	b64_encode(in, 2, out, 1);
	ck_assert_str_eq(out, "-_8");
	ck_assert_int_eq(b64_decode("-_8", 3, dec, sizeof(dec), &n, 1), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(dec[1], 0xff);
}
END_TEST

START_TEST(test_b64_rejects_bad_input)
{
	uint8_t dec[8];
	size_t n;

	ck_assert_int_eq(b64_decode("Zm9v!", 5, dec, sizeof(dec), &n, 0), EINVAL);
	ck_assert_int_eq(b64_decode("Z", 1, dec, sizeof(dec), &n, 0), EINVAL);
	ck_assert_int_eq(b64_decode("Zm=v", 4, dec, sizeof(dec), &n, 0), EINVAL);
	ck_assert_int_eq(b64_decode("Zg=", 3, dec, sizeof(dec), &n, 0), EINVAL);
	ck_assert_int_eq(b64_decode("Zh==", 4, dec, sizeof(dec), &n, 0),
	                 EINVAL); /* non-zero pad bits */
	ck_assert_int_eq(b64_decode("+/", 2, dec, sizeof(dec), &n, 1),
	                 EINVAL); /* std chars in url */
	ck_assert_int_eq(b64_decode("Zm9vYmFy", 8, dec, 3, &n, 0), ENOSPC);
}
END_TEST

TU_SUITE("b64", test_b64_encodes_rfc4648_vectors, test_b64url_has_no_padding_and_url_alphabet,
         test_b64_rejects_bad_input)
