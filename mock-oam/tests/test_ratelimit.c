#include "ratelimit.h"
#include "testutil.h"

#include <errno.h>

START_TEST(test_ratelimit_locks_after_max_failures_in_window)
{
	struct ratelimit_conf c = {
	        .max_failures = 3, .window_s = 60, .lockout_s = 30, .max_clients = 8};
	struct ratelimit *r = NULL;

	ck_assert_int_eq(ratelimit_alloc(&r, &c), 0);
	ck_assert_uint_eq(ratelimit_fail(r, "a", 100), 0);
	ck_assert_uint_eq(ratelimit_fail(r, "a", 101), 0);
	ck_assert_uint_eq(ratelimit_locked(r, "a", 101), 0);
	ck_assert_uint_eq(ratelimit_fail(r, "a", 102), 30);
	ck_assert_uint_eq(ratelimit_locked(r, "a", 110), 22);
	ck_assert_uint_eq(ratelimit_locked(r, "b", 110), 0);
	ck_assert_uint_eq(ratelimit_locked(r, "a", 132), 0);
	/* After the lockout a fresh window starts. */
	ck_assert_uint_eq(ratelimit_fail(r, "a", 133), 0);
	ratelimit_free(r);
}
END_TEST

START_TEST(test_ratelimit_window_expiry_and_success_reset)
{
	struct ratelimit_conf c = {
	        .max_failures = 2, .window_s = 10, .lockout_s = 30, .max_clients = 8};
	struct ratelimit *r = NULL;

	ck_assert_int_eq(ratelimit_alloc(&r, &c), 0);
	ck_assert_uint_eq(ratelimit_fail(r, "a", 100), 0);
	ck_assert_uint_eq(ratelimit_fail(r, "a", 111), 0); /* window passed: count restarts */
	ratelimit_success(r, "a");
	ck_assert_uint_eq(ratelimit_fail(r, "a", 112), 0);
	ck_assert_uint_eq(ratelimit_fail(r, "a", 113), 30);
	ratelimit_free(r);
}
END_TEST

START_TEST(test_ratelimit_table_is_bounded_and_evicts_oldest)
{
	struct ratelimit_conf c = {
	        .max_failures = 2, .window_s = 60, .lockout_s = 30, .max_clients = 2};
	struct ratelimit *r = NULL;

	ck_assert_int_eq(ratelimit_alloc(&r, &c), 0);
	ratelimit_fail(r, "a", 100);
	ratelimit_fail(r, "b", 101);
	ratelimit_fail(r, "c", 102); /* evicts a */
	ck_assert_uint_eq(ratelimit_fail(r, "a", 103), 0);
	ck_assert_uint_eq(ratelimit_fail(r, "c", 104), 30);
	ratelimit_free(r);
	ck_assert_int_eq(ratelimit_alloc(&r, NULL), EINVAL);
}
END_TEST

TU_SUITE("ratelimit", test_ratelimit_locks_after_max_failures_in_window,
         test_ratelimit_window_expiry_and_success_reset,
         test_ratelimit_table_is_bounded_and_evicts_oldest)
