#define LOG_TAG "logtest"
#include "onsight/log.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int evaluated;
static int side_effect(void)
{
	return ++evaluated;
}

/* Captures what the log writes to stderr into buf. */
static void capture(char *buf, size_t len, void (*fn)(void))
{
	int pfd[2], saved = dup(2);
	ssize_t n;

	ck_assert_int_eq(pipe(pfd), 0);
	fflush(stderr);
	dup2(pfd[1], 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(pfd[1]);
	n = read(pfd[0], buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
}

static void emit_warn(void)
{
	errno = ENOENT;
	log_warn("open %s", "x.json");
	log_warnx("plain %d", 7);
	log_debug("hidden %d", side_effect());
}

START_TEST(test_log_formats_tag_level_and_errno)
{
	char buf[1024];

	log_init("prog", LOG_LVL_INFO);
	evaluated = 0;
	capture(buf, sizeof(buf), emit_warn);
	ck_assert_ptr_nonnull(
	        strstr(buf, "prog[logtest] warn: open x.json: No such file or directory\n"));
	ck_assert_ptr_nonnull(strstr(buf, "prog[logtest] warn: plain 7\n"));
	ck_assert_ptr_null(strstr(buf, "hidden"));
	/* Arguments of suppressed levels are not evaluated. */
	ck_assert_int_eq(evaluated, 0);
}
END_TEST

START_TEST(test_log_level_parse)
{
	ck_assert_int_eq(log_level_parse("debug"), LOG_LVL_DEBUG);
	ck_assert_int_eq(log_level_parse("WARN"), LOG_LVL_WARN);
	ck_assert_int_eq(log_level_parse("loud"), -1);
	ck_assert_int_eq(log_level_parse(NULL), -1);
}
END_TEST

TU_SUITE("log", test_log_formats_tag_level_and_errno, test_log_level_parse)
