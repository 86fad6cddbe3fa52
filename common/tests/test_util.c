#include "onsight/util.h"
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_file_read_reads_whole_file_and_caps_size)
{
	char *dir = tu_mkdtemp(), *p = tu_write(dir, "f", "hello world"), *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(file_read(p, 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 11);
	ck_assert_str_eq(buf, "hello world");
	free(buf);
	buf = NULL;
	ck_assert_int_eq(file_read(p, 5, &buf, &len), EFBIG);
	ck_assert_ptr_null(buf);
	ck_assert_int_eq(file_read("/nonexistent", 5, &buf, &len), ENOENT);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_file_read_secret_strips_newline_and_rejects_empty)
{
	char *dir = tu_mkdtemp(), *p = tu_write(dir, "s", "s3cret\n"),
	     *e = tu_write(dir, "e", "\n");
	char *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(file_read_secret(p, &buf, &len), 0);
	ck_assert_str_eq(buf, "s3cret");
	ck_assert_uint_eq(len, 6);
	free(buf);
	buf = NULL;
	ck_assert_int_eq(file_read_secret(e, &buf, &len), ENODATA);
	ck_assert_ptr_null(buf);
	free(p);
	free(e);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_str_copy_truncates_and_terminates)
{
	char b[4];

	ck_assert_uint_eq(str_copy(b, "abcdef", sizeof(b)), 6);
	ck_assert_str_eq(b, "abc");
	ck_assert_uint_eq(str_copy(b, "ab", sizeof(b)), 2);
	ck_assert_str_eq(b, "ab");
}
END_TEST

START_TEST(test_err_set_formats_truncates_and_takes_null)
{
	char e[8] = "x";

	err_set(e, sizeof(e), "line %d: %s", 12, "bad");
	ck_assert_str_eq(e, "line 12");
	err_set(NULL, 10, "ignored %d", 1);
	err_set(e, 0, "ignored %d", 2);
	ck_assert_str_eq(e, "line 12");
}
END_TEST

START_TEST(test_regex_too_costly_refuses_what_explodes_regcomp)
{
	static const char *const ok[] = {"^mock-sip",  "a+b*c?",         "\\++",
	                                 "[+*]+",      "x{2}y{1,3}",     "^\\{[(]{1,3}x{2}",
	                                 "(a|b)+(c)*", "^[0-9a-f]{24}$", "(ab){16}"};
	static const struct {
		const char *re, *why;
	} bad[] = {
	        {"event+++++", "right after another"},
	        {".*?", "right after another"},
	        {"a{2}*", "right after another"},
	        {"(((((((((a)))))))))", "nested deeper"},
	        {"a{1}b{2}c{3}", "more than 2"},
	        {"(ab){17}", "group interval bound above 16"},
	        {"a{256}", "interval bound above 255"},
	};
	char longre[REGEX_MAX_LEN + 2];

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		ck_assert_msg(!regex_too_costly(ok[i]), "%s: %s", ok[i], regex_too_costly(ok[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *why = regex_too_costly(bad[i].re);
		ck_assert_msg(why && strstr(why, bad[i].why), "%s: %s", bad[i].re,
		              why ? why : "ok");
	}
	memset(longre, 'a', sizeof(longre) - 1);
	longre[sizeof(longre) - 1] = '\0';
	ck_assert_ptr_nonnull(strstr(regex_too_costly(longre), "longer"));
}
END_TEST

TU_SUITE("util", test_file_read_reads_whole_file_and_caps_size,
         test_file_read_secret_strips_newline_and_rejects_empty,
         test_str_copy_truncates_and_terminates, test_err_set_formats_truncates_and_takes_null,
         test_regex_too_costly_refuses_what_explodes_regcomp)
