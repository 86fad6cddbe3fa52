/* test_selftest.c - timeline mutations and the kill matrix. */
#include "mutate.h"
#include "selftest.h"
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_placeholder_build)
{
	ck_assert_int_gt(mutation_count(), 20);
}
END_TEST

TU_SUITE("selftest", test_placeholder_build)
